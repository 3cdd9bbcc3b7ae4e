package notifier

import (
	"context"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// decisionOf is the decision log's record of res, the outcome of note.
func decisionOf(note *flapjack.Notification, res *Result, now time.Time) flapjack.DecisionRecord {
	r := flapjack.DecisionRecord{
		CheckID: note.CheckID, CheckName: note.CheckName, Source: flapjack.DecidedByNotifier,
		Time: now, Last: now, Count: 1,
		Event: string(note.Type()), Summary: note.State.Summary,
		Outcome: flapjack.OutcomeNotAlerted, NotificationID: note.ID,
		Trace: res.Trace,
	}
	if len(res.Alerts) > 0 {
		r.Outcome = flapjack.OutcomeAlerted
		r.Alerts = make([]flapjack.DecisionAlert, len(res.Alerts))
		for i, a := range res.Alerts {
			r.Alerts[i] = flapjack.DecisionAlert{
				ContactID: a.ContactID, ContactName: a.ContactName, MediumID: a.MediumID,
				Transport: a.Transport, Type: a.Type, Rollup: a.Rollup,
			}
		}
	}
	return r
}

// recordDecisions adds recs to the store's decision log, if it keeps one. The
// log is a diagnostic: a failure is logged, and the alerts stay sent.
func (n *Notifier) recordDecisions(ctx context.Context, recs []flapjack.DecisionRecord) {
	if n.decisions == nil || len(recs) == 0 {
		return
	}
	recs = store.MergeDecisions(recs)
	if err := n.decisions.AppendDecisions(ctx, recs...); err != nil {
		n.log.Warn("decision log not written", "records", len(recs), "err", err)
	}
}
