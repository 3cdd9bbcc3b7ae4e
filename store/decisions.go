package store

import (
	"context"

	"github.com/x/flapjack"
)

// DecisionLogSize is how many decision records a store keeps per check; older
// ones are dropped as new ones come.
const DecisionLogSize = 30

// DecisionLog is implemented by stores that keep each check's recent decisions
// for operators to read: what the processor made of its events and whom the
// notifier alerted. Every store in this module implements it; the processor and
// notifier record into a store that does, and the API and web pages show it.
//
// The log is a diagnostic: it is written after the decisions it records, not
// in the same atomic write, so a store failure between the two loses a record,
// never an alert.
type DecisionLog interface {
	// AppendDecisions adds records, oldest first, each to the log of its
	// CheckID. A record with the same Key as the newest of its check's log is
	// merged into that one (flapjack.DecisionRecord.Merge); otherwise it
	// becomes the newest, and the log keeps the newest DecisionLogSize.
	AppendDecisions(ctx context.Context, recs ...flapjack.DecisionRecord) error
	// Decisions returns the log of the check with id checkID, newest first;
	// none (and no error) for a check with no log or no such check.
	Decisions(ctx context.Context, checkID string) ([]flapjack.DecisionRecord, error)
}

// MergeDecisions folds consecutive records of recs with the same check and Key
// into one, in place, and returns the shortened slice: what a DecisionLog
// would keep of them, so a writer can send fewer.
func MergeDecisions(recs []flapjack.DecisionRecord) []flapjack.DecisionRecord {
	if len(recs) < 2 {
		return recs
	}
	out := recs[:1]
	for _, r := range recs[1:] {
		head := &out[len(out)-1]
		if r.CheckID == head.CheckID && head.SameDecision(&r) {
			head.Merge(r)
			continue
		}
		out = append(out, r)
	}
	return out
}
