package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

var _ store.HistoryPurger = (*Store)(nil)

// PurgeHistory implements store.HistoryPurger under the check's shard lock, the
// lock its updates take.
func (s *Store) PurgeHistory(ctx context.Context, checkID string, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.indexMu.RLock()
	name, ok := s.byID[checkID]
	s.indexMu.RUnlock()
	if !ok {
		return 0, fmt.Errorf("check id %q: %w", checkID, store.ErrNotFound)
	}
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.checks[name]
	if !ok || e.check.ID != checkID {
		return 0, fmt.Errorf("check id %q: %w", checkID, store.ErrNotFound)
	}
	purge := store.Purgeable(&e.check, e.history, before)
	kept := make([]flapjack.State, 0, len(e.history))
	for i, st := range e.history {
		if !purge[i] {
			kept = append(kept, st)
		}
	}
	n := len(e.history) - len(kept)
	if n > 0 {
		e.history = kept
	}
	return n, nil
}
