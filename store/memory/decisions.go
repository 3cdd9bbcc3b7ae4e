package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

var _ store.DecisionLog = (*Store)(nil)

// decisionTable holds each check's decision log by check id.
type decisionTable struct {
	mu   sync.Mutex
	logs map[string]*decisionRing
}

// decisionRing is one check's log: it grows to store.DecisionLogSize records,
// then each new record takes the place of the oldest.
type decisionRing struct {
	recs   []flapjack.DecisionRecord
	oldest int // index of the oldest record once full
}

func (g *decisionRing) newest() *flapjack.DecisionRecord {
	if len(g.recs) == 0 {
		return nil
	}
	return &g.recs[(g.oldest+len(g.recs)-1)%len(g.recs)]
}

func (g *decisionRing) add(r flapjack.DecisionRecord) {
	if len(g.recs) < store.DecisionLogSize {
		g.recs = append(g.recs, r)
		return
	}
	g.recs[g.oldest] = r
	g.oldest = (g.oldest + 1) % len(g.recs)
}

// AppendDecisions implements store.DecisionLog.
func (s *Store) AppendDecisions(ctx context.Context, recs ...flapjack.DecisionRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := &s.decisions
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.logs == nil {
		t.logs = map[string]*decisionRing{}
	}
	for i := range recs {
		r := &recs[i]
		g := t.logs[r.CheckID]
		if g == nil {
			g = &decisionRing{}
			t.logs[r.CheckID] = g
		}
		c := cloneDecision(*r)
		if c.Count < 1 {
			c.Count = 1
		}
		if c.Last.IsZero() {
			c.Last = c.Time
		}
		if head := g.newest(); head != nil && head.SameDecision(&c) {
			head.Merge(c)
			continue
		}
		g.add(c)
	}
	return nil
}

// Decisions implements store.DecisionLog.
func (s *Store) Decisions(ctx context.Context, checkID string) ([]flapjack.DecisionRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := &s.decisions
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.logs[checkID]
	if g == nil {
		return []flapjack.DecisionRecord{}, nil
	}
	n := len(g.recs)
	out := make([]flapjack.DecisionRecord, n)
	for i := range n {
		// Newest first: the newest is just before the oldest.
		out[i] = cloneDecision(g.recs[(g.oldest+n-1-i)%n])
	}
	return out, nil
}

// drop forgets the log of a deleted check.
func (t *decisionTable) drop(checkID string) {
	t.mu.Lock()
	delete(t.logs, checkID)
	t.mu.Unlock()
}

// cloneDecision copies what a record shares with its caller.
func cloneDecision(r flapjack.DecisionRecord) flapjack.DecisionRecord {
	r.Alerts = slices.Clone(r.Alerts)
	r.Trace.Steps = slices.Clone(r.Trace.Steps)
	return r
}
