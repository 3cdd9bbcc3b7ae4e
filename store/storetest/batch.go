package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// batcher returns s as a store.CheckBatcher, or skips the test when s is not one.
func batcher(t *testing.T, s store.Store) store.CheckBatcher {
	t.Helper()
	b, ok := s.(store.CheckBatcher)
	if !ok {
		t.Skipf("%T does not implement store.CheckBatcher", s)
	}
	return b
}

// updateChecks runs UpdateChecks and returns its per-check errors, always one
// per name.
func updateChecks(t *testing.T, b store.CheckBatcher, names []string, create bool, fn func(int, *store.CheckUpdate) error) []error {
	t.Helper()
	errs := b.UpdateChecks(t.Context(), names, create, fn)
	if errs == nil {
		return make([]error, len(names))
	}
	if len(errs) != len(names) {
		t.Fatalf("UpdateChecks of %d checks returned %d errors, want nil or one per check", len(names), len(errs))
	}
	return errs
}

func testCheckBatcher(t *testing.T, newStore newStoreFunc) {
	t.Run("WritesEveryCheck", func(t *testing.T) {
		s := newStore(t)
		b := batcher(t, s)
		old1 := create(t, s, "old-1:ping", nil)
		old2 := create(t, s, "old-2:ping", func(c *flapjack.Check) { c.Alertable = true })
		names := []string{"new-1:ping", "old-1:ping", "new-2:ping", "old-2:ping"}
		created := make([]bool, len(names))
		ids := make([]string, len(names))
		errs := b.UpdateChecks(t.Context(), names, true, func(i int, u *store.CheckUpdate) error {
			if len(u.History) != 0 || len(u.Enqueue) != 0 {
				return fmt.Errorf("callback for %s started with %d history entries and %d messages", names[i], len(u.History), len(u.Enqueue))
			}
			if u.Check.Name != names[i] {
				return fmt.Errorf("callback %d saw check %q, want %q", i, u.Check.Name, names[i])
			}
			created[i], ids[i] = u.Created, u.Check.ID
			u.Check.NotificationCount += int64(10 * (i + 1))
			u.Check.Alertable = i%2 == 0
			u.History = append(u.History, flapjack.State{CreatedAt: t0, UpdatedAt: t0, Condition: flapjack.Warning, Summary: names[i]})
			u.Enqueue = append(u.Enqueue,
				store.Message{Queue: "notifications", Payload: []byte(names[i] + "/a")},
				store.Message{Queue: "notifications", Payload: []byte(names[i] + "/b")},
				store.Message{Queue: "other", Payload: []byte(names[i])},
			)
			return nil
		})
		if errs != nil {
			t.Fatalf("UpdateChecks with every callback succeeding = %v, want nil", errs)
		}
		if want := []bool{true, false, true, false}; !slices.Equal(created, want) {
			t.Errorf("callbacks saw Created %v, want %v", created, want)
		}
		if ids[1] != old1.ID || ids[3] != old2.ID {
			t.Errorf("existing checks seen with ids %q %q, want %q %q", ids[1], ids[3], old1.ID, old2.ID)
		}
		if ids[0] == "" || ids[2] == "" || ids[0] == ids[2] || ids[0] == old1.ID || ids[2] == old2.ID {
			t.Errorf("new checks got ids %q and %q, want unique non-empty ones", ids[0], ids[2])
		}
		for i, name := range names {
			c := get(t, s, name)
			if c.ID != ids[i] || c.AckHash != ackHash(c.ID) {
				t.Errorf("%s: id %q ack hash %q, want %q %q", name, c.ID, c.AckHash, ids[i], ackHash(ids[i]))
			}
			if want := int64(10 * (i + 1)); c.NotificationCount != want {
				t.Errorf("%s: NotificationCount %d, want %d", name, c.NotificationCount, want)
			}
			for what, lookup := range map[string]func() (flapjack.Check, error){
				"CheckByID":      func() (flapjack.Check, error) { return s.CheckByID(t.Context(), c.ID) },
				"CheckByAckHash": func() (flapjack.Check, error) { return s.CheckByAckHash(t.Context(), c.AckHash) },
			} {
				if got, err := lookup(); err != nil || got.Name != name {
					t.Errorf("%s of %s = %q, %v", what, name, got.Name, err)
				}
			}
			h := mustHistory(t, s, c.ID)
			if last := h[len(h)-1]; last.Summary != name || last.Condition != flapjack.Warning {
				t.Errorf("%s: newest history entry %+v, want the one appended", name, last)
			}
			if wantLen := 1 + btoi(i%2 == 1); len(h) != wantLen {
				t.Errorf("%s: %d history entries, want %d", name, len(h), wantLen)
			}
		}
		wantQuery(t, s, store.CheckQuery{}, "new-1:ping", "new-2:ping", "old-1:ping", "old-2:ping")
		wantQuery(t, s, store.CheckQuery{Alertable: true}, "new-1:ping", "new-2:ping")
		// Each check's messages in its order; the checks' order is not fixed.
		got := drain(t, s.Queue("notifications"))
		if len(got) != 2*len(names) {
			t.Fatalf("notifications holds %d messages, want %d", len(got), 2*len(names))
		}
		for _, name := range names {
			a := slices.IndexFunc(got, func(p []byte) bool { return string(p) == name+"/a" })
			bi := slices.IndexFunc(got, func(p []byte) bool { return string(p) == name+"/b" })
			if a < 0 || bi < 0 || a > bi {
				t.Errorf("notifications %q: want %s/a before %s/b", got, name, name)
			}
		}
		if n := len(drain(t, s.Queue("other"))); n != len(names) {
			t.Errorf("queue other holds %d messages, want %d", n, len(names))
		}

		// Again, now that every check exists (a store may write updates that
		// create nothing in another way).
		errs = b.UpdateChecks(t.Context(), names, false, func(i int, u *store.CheckUpdate) error {
			if u.Created {
				return fmt.Errorf("%s: Created on its second update", names[i])
			}
			u.Check.NotificationCount++
			u.Check.Alertable = !u.Check.Alertable
			u.History = append(u.History, flapjack.State{CreatedAt: t0, UpdatedAt: t0, Condition: flapjack.OK, Summary: "again"})
			u.Enqueue = append(u.Enqueue,
				store.Message{Queue: "notifications", Payload: []byte(names[i] + "/c")},
				store.Message{Queue: "notifications", Payload: []byte(names[i] + "/d")},
			)
			return nil
		})
		if errs != nil {
			t.Fatalf("second UpdateChecks = %v, want nil", errs)
		}
		for i, name := range names {
			c := get(t, s, name)
			if want := int64(10*(i+1) + 1); c.NotificationCount != want {
				t.Errorf("%s: NotificationCount %d after the second batch, want %d", name, c.NotificationCount, want)
			}
			h := mustHistory(t, s, c.ID)
			if last := h[len(h)-1]; last.Summary != "again" || len(h) != 2+btoi(i%2 == 1) {
				t.Errorf("%s: %d history entries, the newest %+v; want the second batch's appended", name, len(h), last)
			}
		}
		wantQuery(t, s, store.CheckQuery{Alertable: true}, "old-1:ping", "old-2:ping")
		got = drain(t, s.Queue("notifications"))
		if len(got) != 2*len(names) {
			t.Fatalf("notifications holds %d messages after the second batch, want %d", len(got), 2*len(names))
		}
		for _, name := range names {
			c := slices.IndexFunc(got, func(p []byte) bool { return string(p) == name+"/c" })
			d := slices.IndexFunc(got, func(p []byte) bool { return string(p) == name+"/d" })
			if c < 0 || d < 0 || c > d {
				t.Errorf("notifications %q: want %s/c before %s/d", got, name, name)
			}
		}
	})

	t.Run("CallbackErrorFailsOnlyItsCheck", func(t *testing.T) {
		s := newStore(t)
		b := batcher(t, s)
		var before [2]flapjack.Check
		before[0] = create(t, s, "old-ok:ping", nil)
		before[1] = create(t, s, "old-bad:ping", populate)
		names := []string{"new-ok:ping", "new-bad:ping", "old-ok:ping", "old-bad:ping"}
		bad := []bool{false, true, false, true}
		var badNewID, badNewHash string
		errs := updateChecks(t, b, names, true, func(i int, u *store.CheckUpdate) error {
			u.Check.NotificationCount = 99
			u.Check.Alertable = true
			u.History = append(u.History, flapjack.State{CreatedAt: t0, Summary: names[i]})
			u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte(names[i])})
			if bad[i] {
				if u.Created {
					badNewID, badNewHash = u.Check.ID, u.Check.AckHash
				}
				scribble(&u.Check)
				return errCallback
			}
			return nil
		})
		for i, name := range names {
			switch {
			case bad[i] && errs[i] != errCallback:
				t.Errorf("%s: error %v, want the callback's own error as it returned it", name, errs[i])
			case !bad[i] && errs[i] != nil:
				t.Errorf("%s: error %v, want nil: another check's callback failed, not its own", name, errs[i])
			}
		}
		for _, name := range []string{"new-ok:ping", "old-ok:ping"} {
			if c := get(t, s, name); c.NotificationCount != 99 {
				t.Errorf("%s: NotificationCount %d, want 99 (written)", name, c.NotificationCount)
			}
		}
		wantNoCheck(t, s, "new-bad:ping", badNewID, badNewHash)
		if d := diff(before[1], get(t, s, "old-bad:ping")); d != "" {
			t.Errorf("check whose callback failed changed: %s", d)
		}
		if h := mustHistory(t, s, before[1].ID); len(h) != 1 {
			t.Errorf("check whose callback failed has %d history entries, want its 1", len(h))
		}
		wantQuery(t, s, store.CheckQuery{Alertable: true}, "new-ok:ping", "old-bad:ping", "old-ok:ping")
		got := drain(t, s.Queue("notifications"))
		slices.SortFunc(got, bytes.Compare)
		wantPayloads(t, "notifications (messages of written checks only)", got, "new-ok:ping", "old-ok:ping")
	})

	t.Run("MissingWithoutCreate", func(t *testing.T) {
		s := newStore(t)
		b := batcher(t, s)
		create(t, s, "here:ping", nil)
		called := map[string]bool{}
		errs := updateChecks(t, b, []string{"gone:ping", "here:ping"}, false, func(i int, u *store.CheckUpdate) error {
			called[u.Check.Name] = true
			u.Check.NotificationCount = 5
			return nil
		})
		wantNotFound(t, "UpdateChecks of a missing check without create", errs[0])
		if errs[1] != nil {
			t.Errorf("existing check: %v", errs[1])
		}
		if called["gone:ping"] {
			t.Errorf("callback called for a missing check without create")
		}
		if c := get(t, s, "here:ping"); c.NotificationCount != 5 {
			t.Errorf("existing check not written: NotificationCount %d", c.NotificationCount)
		}
		if _, err := s.Check(t.Context(), "gone:ping"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing check created without create: %v", err)
		}
	})

	t.Run("RepeatedAndEmptyNames", func(t *testing.T) {
		s := newStore(t)
		b := batcher(t, s)
		calls := 0
		errs := updateChecks(t, b, []string{"a:ping", "a:ping", ""}, true, func(i int, u *store.CheckUpdate) error {
			if i != 0 {
				return fmt.Errorf("callback called for name %d", i)
			}
			calls++
			u.Check.NotificationCount++
			return nil
		})
		if errs[0] != nil || errs[1] == nil || errs[2] == nil {
			t.Errorf("errors %v; want nil for the first name, an error for the repeated and the empty one", errs)
		}
		if c := get(t, s, "a:ping"); c.NotificationCount != 1 {
			t.Errorf("NotificationCount %d, want 1: the repeated name must not be applied", c.NotificationCount)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		s := newStore(t)
		if errs := batcher(t, s).UpdateChecks(t.Context(), nil, true, func(int, *store.CheckUpdate) error {
			return errors.New("called")
		}); errs != nil {
			t.Errorf("UpdateChecks of no checks = %v, want nil", errs)
		}
	})

	// Batches and single updates of the same checks from many goroutines: no
	// update is lost or applied twice, each check's history and messages keep
	// each writer's order, and each attempt starts afresh.
	t.Run("ConcurrentWithUpdateCheck", func(t *testing.T) {
		s := newStore(t)
		b := batcher(t, s)
		const checks, batchers, singles, rounds = 12, 4, 4, 25
		names := make([]string, checks)
		for k := range names {
			names[k] = fmt.Sprintf("hot-%02d:ping", k)
		}
		// Half the checks exist, half are created by whoever comes first.
		for _, name := range names[:checks/2] {
			update(t, s, name, true, unchanged)
		}
		apply := func(u *store.CheckUpdate, k int, tag string) error {
			if len(u.History) != 0 || len(u.Enqueue) != 0 {
				return fmt.Errorf("callback started with %d history entries and %d messages left from an earlier attempt", len(u.History), len(u.Enqueue))
			}
			u.Check.NotificationCount++
			u.History = append(u.History, flapjack.State{CreatedAt: t0, Condition: flapjack.Critical, Summary: tag})
			u.Enqueue = append(u.Enqueue, store.Message{Queue: fmt.Sprintf("q-%02d", k), Payload: []byte(tag)})
			return nil
		}
		var createdMu sync.Mutex
		createdBy := map[string]int{}
		parallel(batchers+singles, func(g int) {
			for r := range rounds {
				tag := fmt.Sprintf("%d/%d", g, r)
				if g < batchers {
					// Each batch takes the checks in another order.
					order := slices.Clone(names)
					rot := (g + r) % checks
					order = append(order[rot:], order[:rot]...)
					lastCreated := make([]bool, checks)
					errs := b.UpdateChecks(t.Context(), order, true, func(i int, u *store.CheckUpdate) error {
						lastCreated[i] = u.Created
						var k int
						fmt.Sscanf(order[i], "hot-%d:ping", &k)
						return apply(u, k, tag)
					})
					if errs != nil {
						t.Errorf("UpdateChecks %s: %v", tag, errs)
						return
					}
					createdMu.Lock()
					for i, c := range lastCreated {
						if c {
							createdBy[order[i]]++
						}
					}
					createdMu.Unlock()
					continue
				}
				for k, name := range names {
					created := false
					_, err := s.UpdateCheck(t.Context(), name, true, func(u *store.CheckUpdate) error {
						created = u.Created
						return apply(u, k, tag)
					})
					if err != nil {
						t.Errorf("UpdateCheck %s %s: %v", name, tag, err)
						return
					}
					if created {
						createdMu.Lock()
						createdBy[name]++
						createdMu.Unlock()
					}
				}
			}
		})
		const writers = batchers + singles
		for k, name := range names {
			c := get(t, s, name)
			if c.NotificationCount != writers*rounds {
				t.Errorf("%s: NotificationCount %d after %d×%d concurrent increments, want %d", name, c.NotificationCount, writers, rounds, writers*rounds)
			}
			if k >= checks/2 && createdBy[name] != 1 {
				t.Errorf("%s: created %d times, want once", name, createdBy[name])
			}
			var summaries []string
			for _, st := range mustHistory(t, s, c.ID) {
				summaries = append(summaries, st.Summary)
			}
			wantEachOnceInOrder(t, name+" history", summaries, writers, rounds)
			var payloads []string
			for _, p := range drain(t, s.Queue(fmt.Sprintf("q-%02d", k))) {
				payloads = append(payloads, string(p))
			}
			wantEachOnceInOrder(t, name+" messages", payloads, writers, rounds)
		}
		cs, err := s.QueryChecks(t.Context(), store.CheckQuery{})
		if err != nil || len(cs) != checks {
			t.Errorf("QueryChecks found %d checks, %v; want %d", len(cs), err, checks)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testArchiver(t *testing.T, newStore newStoreFunc) {
	archiver := func(t *testing.T, s store.Store) store.Archiver {
		t.Helper()
		a, ok := s.(store.Archiver)
		if !ok {
			t.Skipf("%T does not implement store.Archiver", s)
		}
		return a
	}
	t.Run("KeepsInOrder", func(t *testing.T) {
		s := newStore(t)
		a := archiver(t, s)
		for _, batch := range [][]string{{"e1", "e2"}, {"e3"}} {
			var ps [][]byte
			for _, p := range batch {
				ps = append(ps, []byte(p))
			}
			if err := a.Archive(t.Context(), "events_archive:2025031409", time.Hour, ps...); err != nil {
				t.Fatalf("Archive: %v", err)
			}
		}
		wantPayloads(t, "events_archive:2025031409", drain(t, s.Queue("events_archive:2025031409")), "e1", "e2", "e3")
	})
	t.Run("Expires", func(t *testing.T) {
		s := newStore(t)
		a := archiver(t, s)
		if err := a.Archive(t.Context(), "short", time.Millisecond, []byte("e1")); err != nil {
			t.Fatalf("Archive: %v", err)
		}
		if err := a.Archive(t.Context(), "long", time.Hour, []byte("e2")); err != nil {
			t.Fatalf("Archive: %v", err)
		}
		// The store may drop an expired list lazily, on a later Archive.
		deadline := time.Now().Add(10 * time.Second)
		for {
			if err := a.Archive(t.Context(), "long", time.Hour, []byte("e3")); err != nil {
				t.Fatalf("Archive: %v", err)
			}
			n, err := s.Queue("short").Len(t.Context())
			if err != nil {
				t.Fatalf("Len: %v", err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("archive list with a maximum age of 1ms still holds %d items after 10s", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if n, err := s.Queue("long").Len(t.Context()); err != nil || n < 2 {
			t.Errorf("archive list with a maximum age of 1h holds %d items, %v; want them all", n, err)
		}
	})
}
