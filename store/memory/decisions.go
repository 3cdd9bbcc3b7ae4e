package memory

import (
	"context"
	"fmt"
	"sync"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/decisionwire"
	"github.com/x/flapjack/store"
)

var _ store.DecisionLog = (*Store)(nil)

// decisionTable holds each check's decision log by check id.
//
// Records are kept encoded, in byte slices the garbage collector need not scan:
// a store of many failing checks holds hundreds of thousands of records, and
// as Go values, with a dozen strings each, they would make every collection
// trace millions of pointers.
type decisionTable struct {
	mu   sync.Mutex
	logs map[string]*decisionRing
}

// decisionEntry is one record of a log: the latest of the decisions it stands
// for, encoded, with what merging changes kept beside it.
type decisionEntry struct {
	key   string // the record's Key
	first int64  // Time of the first decision, as by decisionwire.EncodeTime
	count int64
	data  []byte // the latest decision, by decisionwire.Append
}

// decisionRing is one check's log: it grows to store.DecisionLogSize records,
// then each new record takes the place of the oldest.
type decisionRing struct {
	entries []decisionEntry
	oldest  int // index of the oldest entry once full
}

func (g *decisionRing) newest() *decisionEntry {
	if len(g.entries) == 0 {
		return nil
	}
	return &g.entries[(g.oldest+len(g.entries)-1)%len(g.entries)]
}

func (g *decisionRing) add(e decisionEntry) {
	if len(g.entries) < store.DecisionLogSize {
		g.entries = append(g.entries, e)
		return
	}
	g.entries[g.oldest] = e
	g.oldest = (g.oldest + 1) % len(g.entries)
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
		r := recs[i]
		if r.Count < 1 {
			r.Count = 1
		}
		if r.Last.IsZero() {
			r.Last = r.Time
		}
		g := t.logs[r.CheckID]
		if g == nil {
			g = &decisionRing{}
			t.logs[r.CheckID] = g
		}
		key := r.Key()
		if head := g.newest(); head != nil && head.key == key {
			head.count += r.Count
			head.data = decisionwire.Append(head.data[:0], &r)
			continue
		}
		g.add(decisionEntry{key: key, first: decisionwire.EncodeTime(r.Time), count: r.Count, data: decisionwire.Append(nil, &r)})
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
	n := len(g.entries)
	out := make([]flapjack.DecisionRecord, n)
	for i := range n {
		// Newest first: the newest is just before the oldest.
		e := &g.entries[(g.oldest+n-1-i)%n]
		r, err := decisionwire.Decode(e.data)
		if err != nil {
			return nil, fmt.Errorf("memory store: decisions of %q: %w", checkID, err)
		}
		r.Time, r.Count = decisionwire.DecodeTime(e.first), e.count
		out[i] = r
	}
	return out, nil
}

// drop forgets the log of a deleted check.
func (t *decisionTable) drop(checkID string) {
	t.mu.Lock()
	delete(t.logs, checkID)
	t.mu.Unlock()
}
