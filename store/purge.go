package store

import (
	"context"
	"time"

	"github.com/x/flapjack"
)

// HistoryPurger is implemented by stores that can delete old entries of a
// check's history, for "flapjack purge check_history". Every store in this
// module implements it; it is a separate interface so that a store of another
// kind can do without.
type HistoryPurger interface {
	// PurgeHistory deletes from the history of the check with id checkID the
	// states created before before, except those Purgeable keeps: the check's
	// current state and the states its latest notifications refer to. It
	// returns how many states it deleted, and an error wrapping ErrNotFound
	// for an unknown check.
	//
	// The purge is atomic with respect to UpdateCheck: a state appended while
	// it runs is never lost, and the decision which states to keep is taken
	// on the check as it is when the history is rewritten.
	PurgeHistory(ctx context.Context, checkID string, before time.Time) (int, error)
}

// Purgeable reports, for each entry of c's history (oldest first, as History
// returns it), whether PurgeHistory may delete it: it was created before
// before, and nothing refers to it. A state is referred to when it is the
// check's current state (the newest entry, or one created when CurrentState
// was) or when one of the check's latest notifications was made from it (a
// notification snapshot created at the same time). Every store decides with
// this function, so that they all keep the same states.
func Purgeable(c *flapjack.Check, history []flapjack.State, before time.Time) []bool {
	referenced := make(map[int64]bool, len(c.LatestNotifications)+1)
	if c.CurrentState != nil {
		referenced[c.CurrentState.CreatedAt.UnixNano()] = true
	}
	for _, n := range c.LatestNotifications {
		referenced[n.CreatedAt.UnixNano()] = true
	}
	out := make([]bool, len(history))
	for i, st := range history {
		out[i] = i < len(history)-1 && // the newest entry is the current state
			st.CreatedAt.Before(before) &&
			!referenced[st.CreatedAt.UnixNano()]
	}
	return out
}
