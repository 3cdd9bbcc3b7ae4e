package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// RunPurge runs the conformance suite of store.HistoryPurger. newStore returns
// a fresh, empty store that implements it, as for Run.
//
//	func TestPurge(t *testing.T) {
//		storetest.RunPurge(t, func(t *testing.T) store.Store { return newEmptyStore(t) })
//	}
func RunPurge(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("Cutoffs", func(t *testing.T) { testPurgeCutoffs(t, newStore) })
	t.Run("KeepsCurrentState", func(t *testing.T) { testPurgeKeepsCurrent(t, newStore) })
	t.Run("UnknownCheck", func(t *testing.T) { testPurgeUnknown(t, newStore) })
	t.Run("OtherChecksUntouched", func(t *testing.T) { testPurgeOthers(t, newStore) })
	t.Run("ThenAppend", func(t *testing.T) { testPurgeThenAppend(t, newStore) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testPurgeConcurrent(t, newStore) })
}

// purgeNow is the suite's "now"; its history spans a hundred days before it.
var purgeNow = time.Date(2025, time.June, 1, 12, 0, 0, 123456789, time.FixedZone("UTC+02:00", 2*3600))

func daysAgo(d float64) time.Time {
	return purgeNow.Add(-time.Duration(d * float64(24*time.Hour)))
}

// purgeFixture is a check's history, oldest first, with what refers to it:
//
//	0  100 days ago  critical
//	1   95 days ago  ok        the latest ok notification was made from it
//	2   92 days ago  warning
//	3   10 days ago  critical  (its latest notification is a later repeat, 9 days ago)
//	4    1 day ago   ok        the current state
func purgeFixture() (flapjack.Check, []flapjack.State) {
	history := []flapjack.State{
		{CreatedAt: daysAgo(100), UpdatedAt: daysAgo(99), Condition: flapjack.Critical, Summary: "down"},
		{CreatedAt: daysAgo(95), UpdatedAt: daysAgo(95), Condition: flapjack.OK, Summary: "up"},
		{CreatedAt: daysAgo(92), UpdatedAt: daysAgo(91), Condition: flapjack.Warning, Summary: "slow",
			Perfdata: []flapjack.PerfDatum{{Key: "time", Value: "2.5s"}}},
		{CreatedAt: daysAgo(10), UpdatedAt: daysAgo(9), Condition: flapjack.Critical, Summary: "down again"},
		{CreatedAt: daysAgo(1), UpdatedAt: daysAgo(1), Condition: flapjack.OK, Summary: "up again"},
	}
	current := history[4]
	current.UpdatedAt = purgeNow // kept up to date by later events
	c := flapjack.Check{
		Condition:    flapjack.OK,
		CurrentState: &current,
		LatestNotifications: []flapjack.State{
			{CreatedAt: daysAgo(95), UpdatedAt: daysAgo(95), Condition: flapjack.OK, Summary: "up"},
			{CreatedAt: daysAgo(9), UpdatedAt: daysAgo(9), Condition: flapjack.Critical, Summary: "down again"},
		},
	}
	return c, history
}

// putPurgeFixture creates check name with the fixture's history and references.
func putPurgeFixture(t *testing.T, s store.Store, name string) (flapjack.Check, []flapjack.State) {
	t.Helper()
	fix, history := purgeFixture()
	c, err := s.UpdateCheck(t.Context(), name, true, func(u *store.CheckUpdate) error {
		u.Check.Condition = fix.Condition
		u.Check.CurrentState = fix.CurrentState
		u.Check.LatestNotifications = fix.LatestNotifications
		u.History = append(u.History, history...)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateCheck(%q): %v", name, err)
	}
	return c, history
}

func purger(t *testing.T, s store.Store) store.HistoryPurger {
	t.Helper()
	p, ok := s.(store.HistoryPurger)
	if !ok {
		t.Fatalf("%T does not implement store.HistoryPurger", s)
	}
	return p
}

func purge(t *testing.T, s store.Store, id string, before time.Time) int {
	t.Helper()
	n, err := purger(t, s).PurgeHistory(t.Context(), id, before)
	if err != nil {
		t.Fatalf("PurgeHistory(%q, %s): %v", id, before, err)
	}
	return n
}

func wantHistory(t *testing.T, s store.Store, id string, want []flapjack.State) {
	t.Helper()
	got, err := s.History(t.Context(), id)
	if err != nil {
		t.Fatalf("History(%q): %v", id, err)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("History after purge: %s", d)
	}
}

func pick(states []flapjack.State, idx ...int) []flapjack.State {
	out := make([]flapjack.State, 0, len(idx))
	for _, i := range idx {
		out = append(out, states[i])
	}
	return out
}

func testPurgeCutoffs(t *testing.T, newStore newStoreFunc) {
	for _, tc := range []struct {
		name   string
		before time.Time
		purged int
		kept   []int // indexes into the fixture's history
	}{
		{"nothing old enough", daysAgo(200), 0, []int{0, 1, 2, 3, 4}},
		{"cutoff on a state's creation keeps it", daysAgo(100), 0, []int{0, 1, 2, 3, 4}},
		{"90 days", daysAgo(90), 2, []int{1, 3, 4}},
		{"everything before now", purgeNow, 3, []int{1, 4}},
		{"everything, even the future", purgeNow.Add(24 * time.Hour), 3, []int{1, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			c, history := putPurgeFixture(t, s, "web-1:http")
			if n := purge(t, s, c.ID, tc.before); n != tc.purged {
				t.Errorf("PurgeHistory purged %d states, want %d", n, tc.purged)
			}
			wantHistory(t, s, c.ID, pick(history, tc.kept...))
			if n := purge(t, s, c.ID, tc.before); n != 0 {
				t.Errorf("a second PurgeHistory purged %d states, want 0", n)
			}
			// The check itself is left as it was.
			after, err := s.Check(t.Context(), "web-1:http")
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(c, after); d != "" {
				t.Errorf("PurgeHistory changed the check: %s", d)
			}
		})
	}
}

// A check that has not changed for longer than the cutoff keeps its current
// state, even with nothing else referring to it.
func testPurgeKeepsCurrent(t *testing.T, newStore newStoreFunc) {
	s := newStore(t)
	history := []flapjack.State{
		{CreatedAt: daysAgo(300), UpdatedAt: daysAgo(300), Condition: flapjack.Critical},
		{CreatedAt: daysAgo(200), UpdatedAt: daysAgo(200), Condition: flapjack.OK},
	}
	c, err := s.UpdateCheck(t.Context(), "db-1:disk", true, func(u *store.CheckUpdate) error {
		current := history[1]
		current.UpdatedAt = purgeNow
		u.Check.CurrentState = &current
		u.History = append(u.History, history...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := purge(t, s, c.ID, purgeNow); n != 1 {
		t.Errorf("PurgeHistory purged %d states, want 1", n)
	}
	wantHistory(t, s, c.ID, history[1:])
}

func testPurgeUnknown(t *testing.T, newStore newStoreFunc) {
	s := newStore(t)
	_, err := purger(t, s).PurgeHistory(t.Context(), "no-such-id", purgeNow)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PurgeHistory of an unknown check: %v, want ErrNotFound", err)
	}
	// A check without history has nothing to purge.
	c, err := s.UpdateCheck(t.Context(), "new:check", true, func(*store.CheckUpdate) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n := purge(t, s, c.ID, purgeNow); n != 0 {
		t.Errorf("PurgeHistory of an empty history purged %d states", n)
	}
	// Nor does a deleted one.
	if err := s.DeleteCheck(t.Context(), "new:check"); err != nil {
		t.Fatal(err)
	}
	if _, err := purger(t, s).PurgeHistory(t.Context(), c.ID, purgeNow); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PurgeHistory of a deleted check: %v, want ErrNotFound", err)
	}
}

func testPurgeOthers(t *testing.T, newStore newStoreFunc) {
	s := newStore(t)
	a, history := putPurgeFixture(t, s, "a:ping")
	b, _ := putPurgeFixture(t, s, "b:ping")
	if n := purge(t, s, a.ID, daysAgo(90)); n != 2 {
		t.Errorf("PurgeHistory purged %d states, want 2", n)
	}
	wantHistory(t, s, b.ID, history)
}

// Purged or not, a history goes on growing at its newest end.
func testPurgeThenAppend(t *testing.T, newStore newStoreFunc) {
	s := newStore(t)
	c, history := putPurgeFixture(t, s, "web-1:http")
	purge(t, s, c.ID, daysAgo(90))
	next := flapjack.State{CreatedAt: purgeNow, UpdatedAt: purgeNow, Condition: flapjack.Warning}
	if _, err := s.UpdateCheck(t.Context(), "web-1:http", false, func(u *store.CheckUpdate) error {
		u.History = append(u.History, next)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantHistory(t, s, c.ID, append(pick(history, 1, 3, 4), next))
}

// States appended while purges run are never lost, and what the purges take
// adds up to what one purge would have taken.
func testPurgeConcurrent(t *testing.T, newStore newStoreFunc) {
	s := newStore(t)
	c, history := putPurgeFixture(t, s, "web-1:http")
	const appends = 40
	var appended []flapjack.State
	for i := range appends {
		at := purgeNow.Add(time.Duration(i) * time.Second)
		appended = append(appended, flapjack.State{CreatedAt: at, UpdatedAt: at, Condition: flapjack.Critical, Summary: fmt.Sprint(i)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, appends+1)
	wg.Go(func() {
		for _, st := range appended {
			_, err := s.UpdateCheck(t.Context(), "web-1:http", false, func(u *store.CheckUpdate) error {
				cur := st
				u.Check.CurrentState = &cur
				u.History = append(u.History, st)
				return nil
			})
			if err != nil {
				errs <- fmt.Errorf("UpdateCheck: %w", err)
				return
			}
		}
	})
	total := 0
	wg.Go(func() {
		for range appends {
			n, err := purger(t, s).PurgeHistory(t.Context(), c.ID, daysAgo(90))
			if err != nil {
				errs <- fmt.Errorf("PurgeHistory: %w", err)
				return
			}
			total += n
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if total != 2 {
		t.Errorf("the purges took %d states in all, want 2", total)
	}
	wantHistory(t, s, c.ID, append(pick(history, 1, 3, 4), appended...))
}
