package web

import (
	"context"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// decisionRow is a decision log record as the check page shows it.
type decisionRow struct {
	flapjack.DecisionRecord
	Explanation string
	Notified    bool // the record made a notification or sent alerts
}

// decisions reads the check's decision log, newest first; kept is false when
// the store keeps none.
func (h *handler) decisions(ctx context.Context, checkID string) (rows []decisionRow, kept bool, err error) {
	l, ok := h.st.(store.DecisionLog)
	if !ok {
		return nil, false, nil
	}
	recs, err := l.Decisions(ctx, checkID)
	if err != nil {
		return nil, true, err
	}
	rows = make([]decisionRow, len(recs))
	for i := range recs {
		r := &recs[i]
		rows[i] = decisionRow{
			DecisionRecord: *r,
			Explanation:    r.Explanation(),
			Notified:       r.Outcome == flapjack.OutcomeNotification || r.Outcome == flapjack.OutcomeAlerted,
		}
	}
	return rows, true, nil
}
