package processor

import (
	"context"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// decisionOf is the decision log's record of d, the decision for ev on check c
// whose condition was prev before it, and whether it is worth keeping. An ok
// result of a check that was already ok (or had no state) and made no
// notification is not: that is what most events are, and the check's current
// state already says it.
func decisionOf(c *flapjack.Check, ev *flapjack.Event, prev flapjack.Condition, d *Decision, now time.Time) (flapjack.DecisionRecord, bool) {
	action := ev.Action()
	cond := ev.Condition()
	if d.Notification == nil && action == flapjack.NoAction && cond == flapjack.OK &&
		(prev == flapjack.OK || prev == flapjack.NoCondition) {
		return flapjack.DecisionRecord{}, false
	}
	r := flapjack.DecisionRecord{
		CheckID: c.ID, CheckName: c.Name, Source: flapjack.DecidedByProcessor,
		Time: now, Last: now, Count: 1,
		Event: string(cond), Summary: ev.Summary,
		Outcome: flapjack.OutcomeNoNotification, BlockedBy: d.BlockedBy,
		Trace: d.Trace,
	}
	if action != flapjack.NoAction {
		r.Event = string(action)
	}
	if n := d.Notification; n != nil {
		r.Outcome, r.NotificationID = flapjack.OutcomeNotification, n.ID
	}
	return r, true
}

// recordDecisions adds recs to the store's decision log, if it keeps one. The
// log is a diagnostic: a failure is logged, and the events stay processed.
func (p *Processor) recordDecisions(ctx context.Context, recs []flapjack.DecisionRecord) {
	if p.decisions == nil || len(recs) == 0 {
		return
	}
	recs = store.MergeDecisions(recs)
	if err := p.decisions.AppendDecisions(ctx, recs...); err != nil {
		p.log.Warn("decision log not written", "records", len(recs), "err", err)
	}
}
