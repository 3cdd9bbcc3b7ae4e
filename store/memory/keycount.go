package memory

import (
	"context"

	"github.com/x/flapjack/store"
)

var _ store.KeyCounter = (*Store)(nil)

// KeyCount implements store.KeyCounter: the number of records the store holds.
// Each check counts once, and once more when it has a history; so do each
// contact, medium, rule, medium's alert memory and statistics record, and each
// queue with items waiting.
func (s *Store) KeyCount(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for _, e := range sh.checks {
			n++
			if len(e.history) > 0 {
				n++
			}
		}
		sh.mu.Unlock()
	}
	s.routingMu.Lock()
	n += int64(len(s.contacts) + len(s.media) + len(s.rules))
	s.routingMu.Unlock()
	s.mediumMu.Lock()
	n += int64(len(s.mediumStates))
	s.mediumMu.Unlock()
	s.statsMu.Lock()
	n += int64(len(s.stats))
	s.statsMu.Unlock()
	s.queuesMu.Lock()
	queues := make([]*queue, 0, len(s.queues))
	for _, q := range s.queues {
		queues = append(queues, q)
	}
	s.queuesMu.Unlock()
	for _, q := range queues {
		if l, _ := q.Len(ctx); l > 0 {
			n++
		}
	}
	return n, nil
}
