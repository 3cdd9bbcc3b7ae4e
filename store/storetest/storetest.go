// Package storetest is the conformance suite for implementations of store.Store.
// A store conforms when its test
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newEmptyStore(t) })
//	}
//
// passes unchanged, with the race detector on. The suite talks to the store only
// through store.Store: it assumes nothing about the concrete type, in-process state
// or timing, so the same tests run against the in-memory store and against one on a
// real server.
package storetest

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// Run runs the conformance suite. Every subtest calls newStore for a fresh, empty
// store; newStore registers with t.Cleanup whatever releases it (closing it,
// flushing a database). Subtests run one after another, so stores sharing one
// server never meet.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("UpdateCheck", func(t *testing.T) { testUpdateCheck(t, newStore) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("Lookups", func(t *testing.T) { testLookups(t, newStore) })
	t.Run("QueryChecks", func(t *testing.T) { testQueryChecks(t, newStore) })
	t.Run("Routing", func(t *testing.T) { testRouting(t, newStore) })
	t.Run("MediumStates", func(t *testing.T) { testMediumStates(t, newStore) })
	t.Run("Statistics", func(t *testing.T) { testStatistics(t, newStore) })
	t.Run("Queues", func(t *testing.T) { testQueues(t, newStore) })
	t.Run("Maintenance", func(t *testing.T) { testMaintenance(t, newStore) })
	t.Run("CheckBatcher", func(t *testing.T) { testCheckBatcher(t, newStore) })
	t.Run("Archiver", func(t *testing.T) { testArchiver(t, newStore) })
	t.Run("KeyCounter", func(t *testing.T) { testKeyCounter(t, newStore) })
}

type newStoreFunc = func(t *testing.T) store.Store

// errCallback is what a failing callback returns.
var errCallback = errors.New("callback failed on purpose")

// Times carry nanoseconds and a location other than UTC, so that a store that
// rounds them or mangles their zone is caught; they are compared with time.Equal.
var (
	east = time.FixedZone("UTC+05:30", 5*3600+30*60)
	west = time.FixedZone("UTC-07:00", -7*3600)
	t0   = time.Date(2025, time.March, 14, 9, 26, 53, 589793238, east)
)

// ---------------------------------------------------------------------------
// Checks

func testUpdateCheck(t *testing.T, newStore newStoreFunc) {
	t.Run("CreateAssignsIDAndAckHash", func(t *testing.T) {
		s := newStore(t)
		var seen store.CheckUpdate
		got, err := s.UpdateCheck(t.Context(), "web-1:http", true, func(u *store.CheckUpdate) error {
			seen = store.CheckUpdate{Check: u.Check.Clone(), Created: u.Created, History: u.History, Enqueue: u.Enqueue}
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateCheck(create): %v", err)
		}
		if !seen.Created {
			t.Errorf("callback of the first UpdateCheck saw Created = false, want true")
		}
		if seen.Check.Name != "web-1:http" {
			t.Errorf("callback saw Name %q, want %q", seen.Check.Name, "web-1:http")
		}
		if seen.Check.ID == "" {
			t.Fatalf("callback of a new check saw an empty ID")
		}
		if want := ackHash(seen.Check.ID); seen.Check.AckHash != want {
			t.Errorf("callback saw AckHash %q for ID %q, want %q (first 8 hex digits of SHA-1 over the ID)", seen.Check.AckHash, seen.Check.ID, want)
		}
		if len(seen.History) != 0 || len(seen.Enqueue) != 0 {
			t.Errorf("callback started with History %v and Enqueue %v, want both empty", seen.History, seen.Enqueue)
		}
		if got.ID != seen.Check.ID || got.AckHash != seen.Check.AckHash || got.Name != "web-1:http" {
			t.Errorf("UpdateCheck returned name %q id %q ack hash %q, want %q %q %q", got.Name, got.ID, got.AckHash, "web-1:http", seen.Check.ID, seen.Check.AckHash)
		}

		var created bool
		again := update(t, s, "web-1:http", true, func(u *store.CheckUpdate) error {
			created = u.Created
			return nil
		})
		if created {
			t.Errorf("callback of the second UpdateCheck saw Created = true, want false")
		}
		if again.ID != got.ID || again.AckHash != got.AckHash {
			t.Errorf("second UpdateCheck returned id %q ack hash %q, want the first's %q %q", again.ID, again.AckHash, got.ID, got.AckHash)
		}
	})

	t.Run("UniqueIDs", func(t *testing.T) {
		s := newStore(t)
		ids, hashes := map[string]string{}, map[string]string{}
		for i := range 50 {
			name := fmt.Sprintf("host-%02d:ping", i)
			c := create(t, s, name, nil)
			if c.AckHash != ackHash(c.ID) {
				t.Errorf("%s: AckHash %q, want %q", name, c.AckHash, ackHash(c.ID))
			}
			if other, dup := ids[c.ID]; dup {
				t.Errorf("%s and %s share the id %q", other, name, c.ID)
			}
			if other, dup := hashes[c.AckHash]; dup {
				t.Errorf("%s and %s share the ack hash %q", other, name, c.AckHash)
			}
			ids[c.ID], hashes[c.AckHash] = name, name
		}
	})

	t.Run("MissingWithoutCreate", func(t *testing.T) {
		s := newStore(t)
		called := false
		_, err := s.UpdateCheck(t.Context(), "ghost:check", false, func(*store.CheckUpdate) error {
			called = true
			return nil
		})
		wantNotFound(t, "UpdateCheck(create=false) of a missing check", err)
		if called {
			t.Errorf("UpdateCheck(create=false) of a missing check called the callback")
		}
		_, err = s.Check(t.Context(), "ghost:check")
		wantNotFound(t, "Check after UpdateCheck(create=false)", err)
	})

	t.Run("CallbackSeesStoredCheck", func(t *testing.T) {
		s := newStore(t)
		stored := create(t, s, "web-1:http", populate)
		var seen store.CheckUpdate
		update(t, s, "web-1:http", true, func(u *store.CheckUpdate) error {
			seen = store.CheckUpdate{Check: u.Check.Clone(), Created: u.Created, History: u.History, Enqueue: u.Enqueue}
			return nil
		})
		if d := diff(stored, seen.Check); d != "" {
			t.Errorf("callback's CheckUpdate.Check differs from the stored check: %s", d)
		}
		if seen.Created || len(seen.History) != 0 || len(seen.Enqueue) != 0 {
			t.Errorf("callback on an existing check saw Created %t, History %v, Enqueue %v; want false and empty", seen.Created, seen.History, seen.Enqueue)
		}
	})

	t.Run("ReturnsWhatIsStored", func(t *testing.T) {
		s := newStore(t)
		returned := create(t, s, "web-1:http", populate)
		want := returned.Clone()
		populate(&want)
		want.Name, want.ID, want.AckHash = "web-1:http", returned.ID, returned.AckHash
		if d := diff(want, returned); d != "" {
			t.Errorf("UpdateCheck returned a check unlike the one its callback wrote: %s", d)
		}
		reads := []struct {
			name string
			read func() (flapjack.Check, error)
		}{
			{"Check", func() (flapjack.Check, error) { return s.Check(t.Context(), "web-1:http") }},
			{"CheckByID", func() (flapjack.Check, error) { return s.CheckByID(t.Context(), returned.ID) }},
			{"CheckByAckHash", func() (flapjack.Check, error) { return s.CheckByAckHash(t.Context(), returned.AckHash) }},
			{"QueryChecks", func() (flapjack.Check, error) {
				cs, err := s.QueryChecks(t.Context(), store.CheckQuery{})
				if err != nil || len(cs) != 1 {
					return flapjack.Check{}, fmt.Errorf("got %d checks, error %v; want 1 check", len(cs), err)
				}
				return cs[0], nil
			}},
		}
		for _, r := range reads {
			got, err := r.read()
			if err != nil {
				t.Errorf("%s: %v", r.name, err)
				continue
			}
			if d := diff(returned, got); d != "" {
				t.Errorf("%s differs from what UpdateCheck returned: %s", r.name, d)
			}
		}
	})

	t.Run("CallbackErrorWritesNothing", func(t *testing.T) {
		t.Run("NewCheck", func(t *testing.T) {
			s := newStore(t)
			var id, hash string
			_, err := s.UpdateCheck(t.Context(), "web-1:http", true, func(u *store.CheckUpdate) error {
				id, hash = u.Check.ID, u.Check.AckHash
				populate(&u.Check)
				u.History = append(u.History, flapjack.State{CreatedAt: t0, Condition: flapjack.Critical})
				u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte("n")})
				return errCallback
			})
			if !errors.Is(err, errCallback) {
				t.Fatalf("UpdateCheck with a failing callback returned %v, want the callback's error", err)
			}
			wantNoCheck(t, s, "web-1:http", id, hash)
			wantQueueLen(t, s, "notifications", 0)
			var created bool
			update(t, s, "web-1:http", true, func(u *store.CheckUpdate) error {
				created = u.Created
				return nil
			})
			if !created {
				t.Errorf("UpdateCheck after a failed creation saw Created = false, want true")
			}
		})
		t.Run("ExistingCheck", func(t *testing.T) {
			s := newStore(t)
			before := create(t, s, "web-1:http", populate)
			history := mustHistory(t, s, before.ID)
			_, err := s.UpdateCheck(t.Context(), "web-1:http", false, func(u *store.CheckUpdate) error {
				scribble(&u.Check)
				u.History = append(u.History, flapjack.State{CreatedAt: t0, Condition: flapjack.OK})
				u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte("n")})
				return errCallback
			})
			if !errors.Is(err, errCallback) {
				t.Fatalf("UpdateCheck with a failing callback returned %v, want the callback's error", err)
			}
			if d := diff(before, get(t, s, "web-1:http")); d != "" {
				t.Errorf("failing callback changed the check: %s", d)
			}
			if d := diff(history, mustHistory(t, s, before.ID)); d != "" {
				t.Errorf("failing callback changed the history: %s", d)
			}
			wantQueueLen(t, s, "notifications", 0)
		})
	})

	t.Run("KeysCannotChange", func(t *testing.T) {
		keys := []struct {
			name   string
			change func(c *flapjack.Check)
		}{
			{"Name", func(c *flapjack.Check) { c.Name = "renamed:check" }},
			{"ID", func(c *flapjack.Check) { c.ID = "another-id" }},
			{"AckHash", func(c *flapjack.Check) { c.AckHash = ackHash("another-id") }},
		}
		for _, k := range keys {
			t.Run(k.name+"/NewCheck", func(t *testing.T) {
				s := newStore(t)
				var id, hash string
				_, err := s.UpdateCheck(t.Context(), "web-1:http", true, func(u *store.CheckUpdate) error {
					id, hash = u.Check.ID, u.Check.AckHash
					k.change(&u.Check)
					u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte("n")})
					return nil
				})
				if err == nil {
					t.Fatalf("UpdateCheck whose callback changed %s of a new check succeeded, want an error", k.name)
				}
				wantNoCheck(t, s, "web-1:http", id, hash)
				_, err = s.Check(t.Context(), "renamed:check")
				wantNotFound(t, "Check of the name the callback set", err)
				_, err = s.CheckByID(t.Context(), "another-id")
				wantNotFound(t, "CheckByID of the id the callback set", err)
				wantQueueLen(t, s, "notifications", 0)
			})
			t.Run(k.name+"/ExistingCheck", func(t *testing.T) {
				s := newStore(t)
				before := create(t, s, "web-1:http", populate)
				_, err := s.UpdateCheck(t.Context(), "web-1:http", false, func(u *store.CheckUpdate) error {
					k.change(&u.Check)
					u.Check.NotificationCount++
					u.History = append(u.History, flapjack.State{CreatedAt: t0, Condition: flapjack.OK})
					u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte("n")})
					return nil
				})
				if err == nil {
					t.Fatalf("UpdateCheck whose callback changed %s of an existing check succeeded, want an error", k.name)
				}
				if d := diff(before, get(t, s, "web-1:http")); d != "" {
					t.Errorf("rejected update changed the check: %s", d)
				}
				if h := mustHistory(t, s, before.ID); len(h) != 1 {
					t.Errorf("rejected update left %d history entries, want the 1 written at creation", len(h))
				}
				_, err = s.Check(t.Context(), "renamed:check")
				wantNotFound(t, "Check of the name the callback set", err)
				wantQueueLen(t, s, "notifications", 0)
			})
		}
	})

	t.Run("History", func(t *testing.T) {
		s := newStore(t)
		states := []flapjack.State{
			{CreatedAt: t0, UpdatedAt: t0.Add(time.Second), Condition: flapjack.OK, Summary: "fine"},
			{CreatedAt: t0.Add(time.Minute + 1), UpdatedAt: t0.Add(2 * time.Minute), Condition: flapjack.Critical, Summary: "down", Details: "refused", Perfdata: []flapjack.PerfDatum{{Key: "rtt", Value: "0.12"}}},
			{CreatedAt: t0.Add(time.Hour).In(west), UpdatedAt: t0.Add(time.Hour).In(west), Condition: flapjack.Critical, Action: flapjack.Acknowledgement, Summary: "looking"},
			{CreatedAt: t0.Add(2 * time.Hour), UpdatedAt: t0.Add(3 * time.Hour), Condition: flapjack.OK, Summary: "back"},
		}
		c := update(t, s, "web-1:http", true, unchanged)
		if h := mustHistory(t, s, c.ID); len(h) != 0 {
			t.Errorf("History of a check that appended none has %d entries, want 0", len(h))
		}
		update(t, s, "web-1:http", false, func(u *store.CheckUpdate) error {
			u.History = append(u.History, states[0], states[1])
			return nil
		})
		update(t, s, "web-1:http", false, func(u *store.CheckUpdate) error {
			u.Check.NotificationCount++ // an update that appends nothing
			return nil
		})
		update(t, s, "web-1:http", false, func(u *store.CheckUpdate) error {
			u.History = append(u.History, states[2])
			return nil
		})
		update(t, s, "web-1:http", false, func(u *store.CheckUpdate) error {
			u.History = append(u.History, states[3])
			return nil
		})
		if d := diff(states, mustHistory(t, s, c.ID)); d != "" {
			t.Errorf("History, oldest first: %s", d)
		}
		_, err := s.History(t.Context(), "no-such-id")
		wantNotFound(t, "History of an unknown id", err)
	})

	t.Run("Enqueue", func(t *testing.T) {
		s := newStore(t)
		payload := []byte("second")
		update(t, s, "web-1:http", true, func(u *store.CheckUpdate) error {
			u.Enqueue = append(u.Enqueue,
				store.Message{Queue: "notifications", Payload: []byte("first")},
				store.Message{Queue: "alerts-email", Payload: []byte("other queue")},
				store.Message{Queue: "notifications", Payload: payload},
			)
			return nil
		})
		copy(payload, "SECOND") // the store must have copied it
		update(t, s, "web-1:http", false, func(u *store.CheckUpdate) error {
			u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte("third")})
			return nil
		})
		wantPayloads(t, "notifications", drain(t, s.Queue("notifications")), "first", "second", "third")
		wantPayloads(t, "alerts-email", drain(t, s.Queue("alerts-email")), "other queue")
	})
}

func testIsolation(t *testing.T, newStore newStoreFunc) {
	// Each case obtains the check some way and scribbles over everything it
	// holds behind a slice or a pointer; the stored check must not change.
	cases := []struct {
		name   string
		obtain func(t *testing.T, s store.Store, c flapjack.Check)
	}{
		{"UpdateCheckResult", func(t *testing.T, s store.Store, c flapjack.Check) {
			got := update(t, s, c.Name, false, unchanged)
			scribble(&got)
		}},
		{"Check", func(t *testing.T, s store.Store, c flapjack.Check) {
			got := get(t, s, c.Name)
			scribble(&got)
		}},
		{"CheckByID", func(t *testing.T, s store.Store, c flapjack.Check) {
			got, err := s.CheckByID(t.Context(), c.ID)
			if err != nil {
				t.Fatalf("CheckByID: %v", err)
			}
			scribble(&got)
		}},
		{"CheckByAckHash", func(t *testing.T, s store.Store, c flapjack.Check) {
			got, err := s.CheckByAckHash(t.Context(), c.AckHash)
			if err != nil {
				t.Fatalf("CheckByAckHash: %v", err)
			}
			scribble(&got)
		}},
		{"QueryChecks", func(t *testing.T, s store.Store, c flapjack.Check) {
			for _, q := range []store.CheckQuery{{}, {Failing: true}, {Alertable: true}} {
				got, err := s.QueryChecks(t.Context(), q)
				if err != nil || len(got) != 1 {
					t.Fatalf("QueryChecks(%+v) = %d checks, error %v; want 1 check", q, len(got), err)
				}
				scribble(&got[0])
			}
		}},
		{"CheckUpdateKeptAfterCallback", func(t *testing.T, s store.Store, c flapjack.Check) {
			var kept *store.CheckUpdate
			tags := slices.Clone(c.Tags)
			update(t, s, c.Name, false, func(u *store.CheckUpdate) error {
				u.Check.Tags = tags // a slice the caller goes on holding
				kept = u
				return nil
			})
			tags[0] = "scribbled"
			scribble(&kept.Check)
		}},
		{"CheckUpdateOfFailingCallback", func(t *testing.T, s store.Store, c flapjack.Check) {
			_, err := s.UpdateCheck(t.Context(), c.Name, false, func(u *store.CheckUpdate) error {
				scribble(&u.Check)
				return errCallback
			})
			if !errors.Is(err, errCallback) {
				t.Fatalf("UpdateCheck with a failing callback returned %v, want the callback's error", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			want := create(t, s, "web-1:http", populate)
			tc.obtain(t, s, want.Clone())
			if d := diff(want, get(t, s, "web-1:http")); d != "" {
				t.Errorf("changing the copy obtained changed the stored check: %s", d)
			}
		})
	}

	t.Run("History", func(t *testing.T) {
		s := newStore(t)
		appended := flapjack.State{CreatedAt: t0, UpdatedAt: t0, Condition: flapjack.Warning, Summary: "slow", Perfdata: []flapjack.PerfDatum{{Key: "rtt", Value: "3.1"}}}
		want := []flapjack.State{appended.Clone()}
		c := update(t, s, "web-1:http", true, func(u *store.CheckUpdate) error {
			u.History = append(u.History, appended)
			return nil
		})
		appended.Perfdata[0].Value = "scribbled" // shares its array with what was appended
		got := mustHistory(t, s, c.ID)
		if d := diff(want, got); d != "" {
			t.Fatalf("changing an appended state after UpdateCheck changed the history: %s", d)
		}
		got[0].Summary = "scribbled"
		got[0].Perfdata[0].Value = "scribbled"
		if d := diff(want, mustHistory(t, s, c.ID)); d != "" {
			t.Errorf("changing the states History returned changed the history: %s", d)
		}
	})
}

func testConcurrency(t *testing.T, newStore newStoreFunc) {
	const goroutines, updates = 8, 200

	t.Run("SameCheck", func(t *testing.T) {
		s := newStore(t)
		c := update(t, s, "busy:check", true, unchanged)
		parallel(goroutines, func(g int) {
			for i := range updates {
				tag := fmt.Sprintf("%d/%d", g, i)
				_, err := s.UpdateCheck(t.Context(), "busy:check", false, func(u *store.CheckUpdate) error {
					if len(u.History) != 0 || len(u.Enqueue) != 0 {
						return fmt.Errorf("callback started with %d history entries and %d messages left from an earlier attempt", len(u.History), len(u.Enqueue))
					}
					u.Check.NotificationCount++
					u.History = append(u.History, flapjack.State{CreatedAt: t0, Condition: flapjack.Critical, Summary: tag})
					u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte(tag)})
					return nil
				})
				if err != nil {
					t.Errorf("UpdateCheck %s: %v", tag, err)
					return
				}
			}
		})
		if got := get(t, s, "busy:check").NotificationCount; got != goroutines*updates {
			t.Errorf("NotificationCount after %d×%d concurrent increments = %d, want %d", goroutines, updates, got, goroutines*updates)
		}
		var summaries []string
		for _, st := range mustHistory(t, s, c.ID) {
			summaries = append(summaries, st.Summary)
		}
		wantEachOnceInOrder(t, "History", summaries, goroutines, updates)
		var payloads []string
		for _, p := range drain(t, s.Queue("notifications")) {
			payloads = append(payloads, string(p))
		}
		wantEachOnceInOrder(t, "queue notifications", payloads, goroutines, updates)
	})

	t.Run("DistinctChecks", func(t *testing.T) {
		s := newStore(t)
		for g := range goroutines {
			create(t, s, fmt.Sprintf("check-%d", g), nil)
		}
		parallel(goroutines, func(g int) {
			for i := range updates {
				_, err := s.UpdateCheck(t.Context(), fmt.Sprintf("check-%d", g), false, func(u *store.CheckUpdate) error {
					u.Check.NotificationCount++
					return nil
				})
				if err != nil {
					t.Errorf("UpdateCheck check-%d #%d: %v", g, i, err)
					return
				}
			}
		})
		for g := range goroutines {
			if got := get(t, s, fmt.Sprintf("check-%d", g)).NotificationCount; got != updates {
				t.Errorf("check-%d: NotificationCount = %d, want %d", g, got, updates)
			}
		}
	})

	t.Run("CreateSameCheck", func(t *testing.T) {
		s := newStore(t)
		created := make([]bool, goroutines)
		ids := make([]string, goroutines)
		parallel(goroutines, func(g int) {
			c, err := s.UpdateCheck(t.Context(), "new:check", true, func(u *store.CheckUpdate) error {
				created[g] = u.Created // the last call is the one written
				u.Check.NotificationCount++
				return nil
			})
			if err != nil {
				t.Errorf("UpdateCheck(create) in goroutine %d: %v", g, err)
			}
			ids[g] = c.ID
		})
		if n := countTrue(created); n != 1 {
			t.Errorf("%d concurrent creations of one check saw Created %d times, want once", goroutines, n)
		}
		c := get(t, s, "new:check")
		for g, id := range ids {
			if id != c.ID {
				t.Errorf("goroutine %d got id %q, want the check's %q", g, id, c.ID)
			}
		}
		if c.NotificationCount != goroutines {
			t.Errorf("NotificationCount = %d, want %d", c.NotificationCount, goroutines)
		}
	})

	t.Run("CreateDistinctChecks", func(t *testing.T) {
		s := newStore(t)
		const each = 25
		parallel(goroutines, func(g int) {
			for i := range each {
				if _, err := s.UpdateCheck(t.Context(), fmt.Sprintf("host-%d:check-%d", g, i), true, unchanged); err != nil {
					t.Errorf("UpdateCheck(create): %v", err)
				}
			}
		})
		cs, err := s.QueryChecks(t.Context(), store.CheckQuery{})
		if err != nil {
			t.Fatalf("QueryChecks: %v", err)
		}
		if len(cs) != goroutines*each {
			t.Errorf("QueryChecks found %d checks, want %d", len(cs), goroutines*each)
		}
		ids, hashes := map[string]bool{}, map[string]bool{}
		for _, c := range cs {
			if ids[c.ID] || hashes[c.AckHash] {
				t.Errorf("%s: id %q or ack hash %q already taken", c.Name, c.ID, c.AckHash)
			}
			if c.AckHash != ackHash(c.ID) {
				t.Errorf("%s: AckHash %q, want %q", c.Name, c.AckHash, ackHash(c.ID))
			}
			ids[c.ID], hashes[c.AckHash] = true, true
		}
	})
}

func testLookups(t *testing.T, newStore newStoreFunc) {
	t.Run("ByIDAndAckHash", func(t *testing.T) {
		s := newStore(t)
		for _, name := range []string{"a:1", "b:2", "c:3"} {
			create(t, s, name, populate)
		}
		for _, name := range []string{"a:1", "b:2", "c:3"} {
			want := get(t, s, name)
			byID, err := s.CheckByID(t.Context(), want.ID)
			if err != nil {
				t.Errorf("CheckByID(%q): %v", want.ID, err)
			} else if d := diff(want, byID); d != "" {
				t.Errorf("CheckByID(%q) differs from Check(%q): %s", want.ID, name, d)
			}
			byHash, err := s.CheckByAckHash(t.Context(), want.AckHash)
			if err != nil {
				t.Errorf("CheckByAckHash(%q): %v", want.AckHash, err)
			} else if d := diff(want, byHash); d != "" {
				t.Errorf("CheckByAckHash(%q) differs from Check(%q): %s", want.AckHash, name, d)
			}
		}
		_, err := s.Check(t.Context(), "z:9")
		wantNotFound(t, "Check of an unknown name", err)
		_, err = s.CheckByID(t.Context(), "no-such-id")
		wantNotFound(t, "CheckByID of an unknown id", err)
		_, err = s.CheckByAckHash(t.Context(), "00000000")
		wantNotFound(t, "CheckByAckHash of an unknown hash", err)
	})

	t.Run("DeleteCheck", func(t *testing.T) {
		s := newStore(t)
		gone := create(t, s, "a:1", populate) // failing, alertable, with history
		kept := create(t, s, "b:2", populate)
		if err := s.DeleteCheck(t.Context(), "a:1"); err != nil {
			t.Fatalf("DeleteCheck: %v", err)
		}
		wantNoCheck(t, s, "a:1", gone.ID, gone.AckHash)
		for _, q := range []store.CheckQuery{{}, {Failing: true}, {Alertable: true}} {
			wantQuery(t, s, q, "b:2")
		}
		if d := diff(kept, get(t, s, "b:2")); d != "" {
			t.Errorf("deleting a:1 changed b:2: %s", d)
		}
		wantNotFound(t, "DeleteCheck of a deleted check", s.DeleteCheck(t.Context(), "a:1"))

		var created bool
		again := update(t, s, "a:1", true, func(u *store.CheckUpdate) error {
			created = u.Created
			return nil
		})
		if !created {
			t.Errorf("UpdateCheck(create) after DeleteCheck saw Created = false, want true")
		}
		if again.ID == gone.ID {
			t.Errorf("re-created check got the deleted check's id %q, want a new one", again.ID)
		}
		if again.NotificationCount != 0 || again.CurrentState != nil || len(again.ScheduledMaintenances) != 0 {
			t.Errorf("re-created check kept data of the deleted one: %+v", again)
		}
		if h := mustHistory(t, s, again.ID); len(h) != 0 {
			t.Errorf("re-created check has %d history entries, want 0", len(h))
		}
	})
}

func testQueryChecks(t *testing.T, newStore newStoreFunc) {
	type flags struct{ enabled, failing, alertable bool }
	fixture := []struct {
		name string
		flags
	}{
		{"c:3", flags{enabled: true, failing: true, alertable: true}},
		{"a:1", flags{enabled: true}},
		{"e:5", flags{enabled: true, alertable: true}},
		{"b:2", flags{failing: true, alertable: true}},
		{"d:4", flags{enabled: true, failing: true}},
	}
	setFlags := func(f flags) func(*flapjack.Check) {
		return func(c *flapjack.Check) { c.Enabled, c.Failing, c.Alertable = f.enabled, f.failing, f.alertable }
	}
	newFixture := func(t *testing.T) store.Store {
		s := newStore(t)
		for _, f := range fixture {
			create(t, s, f.name, setFlags(f.flags))
		}
		return s
	}

	t.Run("Empty", func(t *testing.T) {
		s := newStore(t)
		for _, q := range []store.CheckQuery{{}, {Failing: true}, {Alertable: true}} {
			wantQuery(t, s, q)
		}
	})

	t.Run("Select", func(t *testing.T) {
		s := newFixture(t)
		for _, tc := range []struct {
			q    store.CheckQuery
			want []string
		}{
			{store.CheckQuery{}, []string{"a:1", "b:2", "c:3", "d:4", "e:5"}},
			{store.CheckQuery{Failing: true}, []string{"b:2", "c:3", "d:4"}},
			{store.CheckQuery{Alertable: true}, []string{"c:3", "e:5"}},
			{store.CheckQuery{Alertable: true, Failing: true}, []string{"c:3"}},
		} {
			got := wantQuery(t, s, tc.q, tc.want...)
			for _, c := range got {
				if d := diff(get(t, s, c.Name), c); d != "" {
					t.Errorf("QueryChecks(%+v) returned %s unlike Check: %s", tc.q, c.Name, d)
				}
			}
		}
	})

	t.Run("AlertableFollowsUpdates", func(t *testing.T) {
		s := newFixture(t)
		steps := []struct {
			name   string
			change func(*flapjack.Check)
			want   []string
		}{
			{"c:3", func(c *flapjack.Check) { c.Enabled = false }, []string{"e:5"}},
			{"e:5", func(c *flapjack.Check) { c.Alertable = false }, nil},
			{"c:3", func(c *flapjack.Check) { c.Enabled = true }, []string{"c:3"}},
			{"b:2", func(c *flapjack.Check) { c.Enabled = true }, []string{"b:2", "c:3"}},
			{"a:1", func(c *flapjack.Check) { c.Alertable = true }, []string{"a:1", "b:2", "c:3"}},
		}
		for i, st := range steps {
			update(t, s, st.name, false, func(u *store.CheckUpdate) error {
				st.change(&u.Check)
				return nil
			})
			t.Logf("step %d: changed %s", i, st.name)
			wantQuery(t, s, store.CheckQuery{Alertable: true}, st.want...)
		}
	})
}

// ---------------------------------------------------------------------------
// Routing data

func testRouting(t *testing.T, newStore newStoreFunc) {
	contact := func(id string) flapjack.Contact {
		return flapjack.Contact{ID: id, Name: "Contact " + id, Timezone: "Europe/Rome", Tags: []string{"ops", "team-" + id}}
	}
	medium := func(id, contactID string) flapjack.Medium {
		return flapjack.Medium{ID: id, ContactID: contactID, Transport: "email", Address: id + "@example.com", Interval: 900, RollupThreshold: 3, PagerdutyAckDuration: 4}
	}
	rule := func(id, contactID string, media ...string) flapjack.Rule {
		return flapjack.Rule{ID: id, ContactID: contactID, Name: "rule " + id, Enabled: true, Strategy: flapjack.AnyTag,
			Tags: []string{"web", "db"}, Conditions: []flapjack.Condition{flapjack.Critical, flapjack.Warning}, MediaIDs: media}
	}
	// The fixture: c1 owns m1, m2 and rules r2, r3; c2 owns m3 and r1, which also
	// links c1's m2.
	contacts := []flapjack.Contact{contact("c1"), contact("c2")}
	media := []flapjack.Medium{medium("m1", "c1"), medium("m2", "c1"), medium("m3", "c2")}
	rules := []flapjack.Rule{rule("r3", "c1", "m1", "m2"), rule("r1", "c2", "m3", "m2"), rule("r2", "c1")}
	put := func(t *testing.T, s store.Store) {
		t.Helper()
		for _, c := range contacts {
			if err := s.PutContact(t.Context(), c); err != nil {
				t.Fatalf("PutContact(%s): %v", c.ID, err)
			}
		}
		for _, m := range media {
			if err := s.PutMedium(t.Context(), m); err != nil {
				t.Fatalf("PutMedium(%s): %v", m.ID, err)
			}
		}
		for _, r := range rules {
			if err := s.PutRule(t.Context(), r); err != nil {
				t.Fatalf("PutRule(%s): %v", r.ID, err)
			}
		}
	}

	t.Run("Empty", func(t *testing.T) {
		s := newStore(t)
		wantRouting(t, routing(t, s), nil, nil, nil)
	})

	t.Run("Put", func(t *testing.T) {
		s := newStore(t)
		put(t, s)
		wantRouting(t, routing(t, s), contacts, media, rules)
	})

	t.Run("Replace", func(t *testing.T) {
		s := newStore(t)
		put(t, s)
		routing(t, s) // a snapshot exists now: each write below must replace it
		c1 := contacts[0]
		c1.Name, c1.Timezone, c1.Tags = "Renamed", "", []string{"dba"}
		if err := s.PutContact(t.Context(), c1); err != nil {
			t.Fatalf("PutContact: %v", err)
		}
		wantRouting(t, routing(t, s), []flapjack.Contact{c1, contacts[1]}, media, rules)
		m1 := media[0]
		m1.Address, m1.Interval = "new@example.com", 60
		if err := s.PutMedium(t.Context(), m1); err != nil {
			t.Fatalf("PutMedium: %v", err)
		}
		wantRouting(t, routing(t, s), []flapjack.Contact{c1, contacts[1]}, []flapjack.Medium{m1, media[1], media[2]}, rules)
		r3 := rules[0]
		r3.Enabled, r3.Blackhole, r3.MediaIDs, r3.Tags = false, true, []string{"m2"}, nil
		if err := s.PutRule(t.Context(), r3); err != nil {
			t.Fatalf("PutRule: %v", err)
		}
		wantRouting(t, routing(t, s), []flapjack.Contact{c1, contacts[1]}, []flapjack.Medium{m1, media[1], media[2]}, []flapjack.Rule{r3, rules[1], rules[2]})
	})

	t.Run("MissingReferences", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			put  func(ctx context.Context, s store.Store) error
		}{
			{"MediumOfUnknownContact", func(ctx context.Context, s store.Store) error { return s.PutMedium(ctx, medium("m9", "nobody")) }},
			{"RuleOfUnknownContact", func(ctx context.Context, s store.Store) error { return s.PutRule(ctx, rule("r9", "nobody")) }},
			{"RuleWithUnknownMedium", func(ctx context.Context, s store.Store) error {
				return s.PutRule(ctx, rule("r9", "c1", "m1", "nomedium"))
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				put(t, s)
				wantNotFound(t, tc.name, tc.put(t.Context(), s))
				wantRouting(t, routing(t, s), contacts, media, rules)
			})
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		put(t, s)
		for _, id := range []string{"m1", "m2", "m3"} {
			setMediumState(t, s, id, "remembered")
		}

		if err := s.DeleteRule(t.Context(), "r2"); err != nil {
			t.Fatalf("DeleteRule: %v", err)
		}
		wantRouting(t, routing(t, s), contacts, media, []flapjack.Rule{rules[0], rules[1]})

		if err := s.DeleteMedium(t.Context(), "m1"); err != nil {
			t.Fatalf("DeleteMedium: %v", err)
		}
		r3 := rules[0]
		r3.MediaIDs = []string{"m2"}
		wantRouting(t, routing(t, s), contacts, media[1:], []flapjack.Rule{r3, rules[1]})
		wantMediumState(t, s, "m1", flapjack.MediumState{})
		wantMediumSummary(t, s, "m2", "remembered")

		if err := s.DeleteContact(t.Context(), "c1"); err != nil {
			t.Fatalf("DeleteContact: %v", err)
		}
		r1 := rules[1]
		r1.MediaIDs = []string{"m3"} // m2 went with c1
		wantRouting(t, routing(t, s), contacts[1:], media[2:], []flapjack.Rule{r1})
		wantMediumState(t, s, "m2", flapjack.MediumState{})
		wantMediumSummary(t, s, "m3", "remembered")

		wantNotFound(t, "DeleteContact of an unknown contact", s.DeleteContact(t.Context(), "c1"))
		wantNotFound(t, "DeleteMedium of an unknown medium", s.DeleteMedium(t.Context(), "m1"))
		wantNotFound(t, "DeleteRule of an unknown rule", s.DeleteRule(t.Context(), "r2"))
		wantRouting(t, routing(t, s), contacts[1:], media[2:], []flapjack.Rule{r1})
	})

	t.Run("SnapshotUnaffectedByWrites", func(t *testing.T) {
		s := newStore(t)
		put(t, s)
		snap := routing(t, s)
		c2 := contacts[1]
		c2.Name = "Renamed"
		m3 := media[2]
		m3.Address = "new@example.com"
		r1 := rules[1]
		r1.MediaIDs = []string{"m3"}
		writes := []struct {
			name string
			err  error
		}{
			{"PutContact", s.PutContact(t.Context(), c2)},
			{"PutMedium", s.PutMedium(t.Context(), m3)},
			{"PutRule", s.PutRule(t.Context(), r1)},
			{"DeleteMedium", s.DeleteMedium(t.Context(), "m1")},
			{"DeleteRule", s.DeleteRule(t.Context(), "r2")},
			{"DeleteContact", s.DeleteContact(t.Context(), "c1")},
			{"PutContact", s.PutContact(t.Context(), contact("c3"))},
		}
		for _, w := range writes {
			if w.err != nil {
				t.Fatalf("%s: %v", w.name, w.err)
			}
		}
		wantRouting(t, snap, contacts, media, rules)
		wantRouting(t, routing(t, s), []flapjack.Contact{c2, contact("c3")}, []flapjack.Medium{m3}, []flapjack.Rule{r1})
	})

	t.Run("PutCopies", func(t *testing.T) {
		s := newStore(t)
		put(t, s)
		r := rule("r4", "c2", "m3")
		want := rule("r4", "c2", "m3")
		if err := s.PutRule(t.Context(), r); err != nil {
			t.Fatalf("PutRule: %v", err)
		}
		r.Tags[0], r.Conditions[0], r.MediaIDs[0] = "scribbled", flapjack.OK, "scribbled"
		wantRouting(t, routing(t, s), contacts, media, append(slices.Clone(rules), want))

		c := contact("c3")
		if err := s.PutContact(t.Context(), c); err != nil {
			t.Fatalf("PutContact: %v", err)
		}
		c.Tags[0] = "scribbled"
		wantRouting(t, routing(t, s), append(slices.Clone(contacts), contact("c3")), media, append(slices.Clone(rules), want))
	})
}

func routing(t *testing.T, s store.Store) *store.Routing {
	t.Helper()
	r, err := s.Routing(t.Context())
	if err != nil {
		t.Fatalf("Routing: %v", err)
	}
	if r == nil {
		t.Fatalf("Routing returned nil")
	}
	return r
}

// wantRouting checks that r holds exactly these records, its rules sorted by id.
func wantRouting(t *testing.T, r *store.Routing, contacts []flapjack.Contact, media []flapjack.Medium, rules []flapjack.Rule) {
	t.Helper()
	wantContacts := map[string]*flapjack.Contact{}
	for _, c := range contacts {
		wantContacts[c.ID] = &c
	}
	wantMedia := map[string]*flapjack.Medium{}
	for _, m := range media {
		wantMedia[m.ID] = &m
	}
	var wantRules []*flapjack.Rule
	for _, r := range rules {
		wantRules = append(wantRules, &r)
	}
	sort.Slice(wantRules, func(i, j int) bool { return wantRules[i].ID < wantRules[j].ID })
	if d := diff(wantContacts, r.Contacts); d != "" {
		t.Errorf("Routing.Contacts: %s", d)
	}
	if d := diff(wantMedia, r.Media); d != "" {
		t.Errorf("Routing.Media: %s", d)
	}
	if d := diff(wantRules, r.Rules); d != "" {
		t.Errorf("Routing.Rules (sorted by id): %s", d)
	}
}

// ---------------------------------------------------------------------------
// Medium states

func testMediumStates(t *testing.T, newStore newStoreFunc) {
	newFixture := func(t *testing.T) store.Store {
		s := newStore(t)
		if err := s.PutContact(t.Context(), flapjack.Contact{ID: "c1", Name: "Contact"}); err != nil {
			t.Fatalf("PutContact: %v", err)
		}
		for _, id := range []string{"m1", "m2"} {
			if err := s.PutMedium(t.Context(), flapjack.Medium{ID: id, ContactID: "c1", Transport: "email", Address: id + "@example.com"}); err != nil {
				t.Fatalf("PutMedium: %v", err)
			}
		}
		return s
	}
	remembered := flapjack.MediumState{
		LastState: &flapjack.State{
			CreatedAt: t0, UpdatedAt: t0.Add(1500 * time.Millisecond).In(west),
			Condition: flapjack.Critical, Summary: "down", Details: "refused",
			Perfdata: []flapjack.PerfDatum{{Key: "rtt", Value: "0.3"}},
		},
		LastRollupType: flapjack.RollupProblem,
	}

	t.Run("NeverWritten", func(t *testing.T) {
		s := newFixture(t)
		wantMediumState(t, s, "m1", flapjack.MediumState{})
		var seen flapjack.MediumState
		err := s.UpdateMediumState(t.Context(), "m1", func(u *store.MediumUpdate) error {
			seen = u.State
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateMediumState: %v", err)
		}
		if d := diff(flapjack.MediumState{}, seen); d != "" {
			t.Errorf("first callback saw a state that is not zero: %s", d)
		}
	})

	t.Run("Persists", func(t *testing.T) {
		s := newFixture(t)
		err := s.UpdateMediumState(t.Context(), "m1", func(u *store.MediumUpdate) error {
			u.State = cloneMediumState(remembered)
			u.Enqueue = append(u.Enqueue, store.Message{Queue: "alerts-email", Payload: []byte("alert 1")})
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateMediumState: %v", err)
		}
		wantMediumState(t, s, "m1", remembered)
		wantMediumState(t, s, "m2", flapjack.MediumState{})
		wantPayloads(t, "alerts-email", drain(t, s.Queue("alerts-email")), "alert 1")

		var seen flapjack.MediumState
		err = s.UpdateMediumState(t.Context(), "m1", func(u *store.MediumUpdate) error {
			seen = cloneMediumState(u.State)
			if len(u.Enqueue) != 0 {
				return fmt.Errorf("callback started with %d messages", len(u.Enqueue))
			}
			u.State.LastRollupType = flapjack.RollupRecovery
			u.State.LastState.Condition = flapjack.OK
			return nil
		})
		if err != nil {
			t.Fatalf("second UpdateMediumState: %v", err)
		}
		if d := diff(remembered, seen); d != "" {
			t.Errorf("second callback did not see the stored state: %s", d)
		}
		want := cloneMediumState(remembered)
		want.LastRollupType, want.LastState.Condition = flapjack.RollupRecovery, flapjack.OK
		wantMediumState(t, s, "m1", want)
	})

	t.Run("CallbackErrorWritesNothing", func(t *testing.T) {
		s := newFixture(t)
		setMediumState(t, s, "m1", "remembered")
		before := mediumState(t, s, "m1")
		err := s.UpdateMediumState(t.Context(), "m1", func(u *store.MediumUpdate) error {
			u.State.LastState.Summary = "scribbled"
			u.State.LastState.Perfdata[0].Value = "scribbled"
			u.State.LastRollupType = flapjack.RollupRecovery
			u.Enqueue = append(u.Enqueue, store.Message{Queue: "alerts-email", Payload: []byte("alert")})
			return errCallback
		})
		if !errors.Is(err, errCallback) {
			t.Fatalf("UpdateMediumState with a failing callback returned %v, want the callback's error", err)
		}
		wantMediumState(t, s, "m1", before)
		wantQueueLen(t, s, "alerts-email", 0)

		err = s.UpdateMediumState(t.Context(), "m2", func(u *store.MediumUpdate) error {
			u.State = cloneMediumState(remembered)
			return errCallback
		})
		if !errors.Is(err, errCallback) {
			t.Fatalf("UpdateMediumState with a failing callback returned %v, want the callback's error", err)
		}
		wantMediumState(t, s, "m2", flapjack.MediumState{})
	})

	t.Run("Isolation", func(t *testing.T) {
		s := newFixture(t)
		var kept *store.MediumUpdate
		err := s.UpdateMediumState(t.Context(), "m1", func(u *store.MediumUpdate) error {
			u.State = cloneMediumState(remembered)
			kept = u
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateMediumState: %v", err)
		}
		kept.State.LastState.Summary = "scribbled"
		kept.State.LastState.Perfdata[0].Value = "scribbled"
		wantMediumState(t, s, "m1", remembered)

		got := mediumState(t, s, "m1")
		if got.LastState != nil && len(got.LastState.Perfdata) > 0 {
			got.LastState.Summary = "scribbled"
			got.LastState.Perfdata[0].Value = "scribbled"
		}
		wantMediumState(t, s, "m1", remembered)
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := newFixture(t)
		const goroutines, updates = 8, 100
		// LastState.Summary is used as a counter.
		parallel(goroutines, func(g int) {
			for i := range updates {
				err := s.UpdateMediumState(t.Context(), "m1", func(u *store.MediumUpdate) error {
					n := 0
					if u.State.LastState != nil {
						var err error
						if n, err = strconv.Atoi(u.State.LastState.Summary); err != nil {
							return err
						}
					} else {
						u.State.LastState = &flapjack.State{CreatedAt: t0}
					}
					u.State.LastState.Summary = strconv.Itoa(n + 1)
					u.Enqueue = append(u.Enqueue, store.Message{Queue: "alerts-email", Payload: fmt.Appendf(nil, "%d/%d", g, i)})
					return nil
				})
				if err != nil {
					t.Errorf("UpdateMediumState %d/%d: %v", g, i, err)
					return
				}
			}
		})
		wantMediumSummary(t, s, "m1", strconv.Itoa(goroutines*updates))
		wantQueueLen(t, s, "alerts-email", goroutines*updates)
	})
}

func setMediumState(t *testing.T, s store.Store, id, summary string) {
	t.Helper()
	err := s.UpdateMediumState(t.Context(), id, func(u *store.MediumUpdate) error {
		u.State = flapjack.MediumState{
			LastState:      &flapjack.State{CreatedAt: t0, Condition: flapjack.Critical, Summary: summary, Perfdata: []flapjack.PerfDatum{{Key: "k", Value: "v"}}},
			LastRollupType: flapjack.RollupProblem,
		}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateMediumState(%s): %v", id, err)
	}
}

func mediumState(t *testing.T, s store.Store, id string) flapjack.MediumState {
	t.Helper()
	m, err := s.MediumState(t.Context(), id)
	if err != nil {
		t.Fatalf("MediumState(%s): %v", id, err)
	}
	return m
}

func wantMediumState(t *testing.T, s store.Store, id string, want flapjack.MediumState) {
	t.Helper()
	if d := diff(want, mediumState(t, s, id)); d != "" {
		t.Errorf("MediumState(%s): %s", id, d)
	}
}

func wantMediumSummary(t *testing.T, s store.Store, id, want string) {
	t.Helper()
	m := mediumState(t, s, id)
	if m.LastState == nil || m.LastState.Summary != want {
		t.Errorf("MediumState(%s).LastState = %+v, want summary %q", id, m.LastState, want)
	}
}

func cloneMediumState(m flapjack.MediumState) flapjack.MediumState {
	if m.LastState != nil {
		st := m.LastState.Clone()
		m.LastState = &st
	}
	return m
}

// ---------------------------------------------------------------------------
// Statistics

func testStatistics(t *testing.T, newStore newStoreFunc) {
	t.Run("AddAndDelete", func(t *testing.T) {
		s := newStore(t)
		t1, t2, t3 := t0, t0.Add(time.Minute).In(west), t0.Add(time.Hour)
		add := func(instance string, now time.Time, d flapjack.Statistics) {
			t.Helper()
			if err := s.AddStatistics(t.Context(), instance, now, d); err != nil {
				t.Fatalf("AddStatistics(%s): %v", instance, err)
			}
		}
		add("host-a:1", t1, flapjack.Statistics{AllEvents: 3, OKEvents: 2, FailureEvents: 1})
		add("host-b:2", t2, flapjack.Statistics{AllEvents: 5, ActionEvents: 1, InvalidEvents: 4})
		add("host-a:1", t3, flapjack.Statistics{AllEvents: 1, OKEvents: 1})
		wantStatistics(t, s,
			store.Statistic{Instance: store.GlobalStatistic, CreatedAt: t1, Statistics: flapjack.Statistics{AllEvents: 9, OKEvents: 3, FailureEvents: 1, ActionEvents: 1, InvalidEvents: 4}},
			store.Statistic{Instance: "host-a:1", CreatedAt: t1, Statistics: flapjack.Statistics{AllEvents: 4, OKEvents: 3, FailureEvents: 1}},
			store.Statistic{Instance: "host-b:2", CreatedAt: t2, Statistics: flapjack.Statistics{AllEvents: 5, ActionEvents: 1, InvalidEvents: 4}},
		)
		if err := s.DeleteStatistics(t.Context(), "host-a:1"); err != nil {
			t.Fatalf("DeleteStatistics: %v", err)
		}
		wantStatistics(t, s,
			store.Statistic{Instance: store.GlobalStatistic, CreatedAt: t1, Statistics: flapjack.Statistics{AllEvents: 9, OKEvents: 3, FailureEvents: 1, ActionEvents: 1, InvalidEvents: 4}},
			store.Statistic{Instance: "host-b:2", CreatedAt: t2, Statistics: flapjack.Statistics{AllEvents: 5, ActionEvents: 1, InvalidEvents: 4}},
		)
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		const goroutines, adds = 8, 100
		parallel(goroutines, func(g int) {
			instance := fmt.Sprintf("host-%d:1", g%2)
			for range adds {
				if err := s.AddStatistics(t.Context(), instance, t0, flapjack.Statistics{AllEvents: 1, FailureEvents: 2}); err != nil {
					t.Errorf("AddStatistics: %v", err)
					return
				}
			}
		})
		half := flapjack.Statistics{AllEvents: goroutines / 2 * adds, FailureEvents: goroutines * adds}
		wantStatistics(t, s,
			store.Statistic{Instance: store.GlobalStatistic, CreatedAt: t0, Statistics: flapjack.Statistics{AllEvents: goroutines * adds, FailureEvents: 2 * goroutines * adds}},
			store.Statistic{Instance: "host-0:1", CreatedAt: t0, Statistics: half},
			store.Statistic{Instance: "host-1:1", CreatedAt: t0, Statistics: half},
		)
	})
}

// wantStatistics checks that Statistics returns the global record first and then
// the others, in any order.
func wantStatistics(t *testing.T, s store.Store, global store.Statistic, others ...store.Statistic) {
	t.Helper()
	got, err := s.Statistics(t.Context())
	if err != nil {
		t.Fatalf("Statistics: %v", err)
	}
	if len(got) == 0 || got[0].Instance != store.GlobalStatistic {
		t.Fatalf("Statistics returned %+v, want the %q record first", got, store.GlobalStatistic)
	}
	if d := diff(global, got[0]); d != "" {
		t.Errorf("Statistics, global record: %s", d)
	}
	rest := slices.Clone(got[1:])
	slices.SortFunc(rest, func(a, b store.Statistic) int { return strings.Compare(a.Instance, b.Instance) })
	if d := diff(others, rest); d != "" {
		t.Errorf("Statistics, instance records sorted by instance: %s", d)
	}
}

// ---------------------------------------------------------------------------
// Queues

func testQueues(t *testing.T, newStore newStoreFunc) {
	t.Run("FIFO", func(t *testing.T) {
		s := newStore(t)
		q := s.Queue("events")
		push(t, q, "a", "b")
		push(t, q, "c")
		push(t, q, "d", "e")
		wantPayloads(t, "events", drain(t, q), "a", "b", "c", "d", "e")
	})

	t.Run("ReserveEmpty", func(t *testing.T) {
		s := newStore(t)
		items, err := s.Queue("events").Reserve(t.Context(), 10, false)
		if err != nil || len(items) != 0 {
			t.Errorf("non-blocking Reserve on an empty queue = %d items, error %v; want none and no error", len(items), err)
		}
	})

	t.Run("ReserveMax", func(t *testing.T) {
		s := newStore(t)
		q := s.Queue("events")
		push(t, q, "p0", "p1", "p2", "p3", "p4")
		var got [][]byte
		for _, max := range []int{2, 1, 10} {
			items, err := q.Reserve(t.Context(), max, false)
			if err != nil {
				t.Fatalf("Reserve(%d): %v", max, err)
			}
			if len(items) == 0 || len(items) > max {
				t.Fatalf("Reserve(%d) with items waiting returned %d, want 1 to %d", max, len(items), max)
			}
			for _, it := range items {
				got = append(got, it.Payload)
			}
			if err := q.Ack(t.Context(), items...); err != nil {
				t.Fatalf("Ack: %v", err)
			}
		}
		got = append(got, drain(t, q)...)
		wantPayloads(t, "events", got, "p0", "p1", "p2", "p3", "p4")
	})

	t.Run("LenAndAck", func(t *testing.T) {
		s := newStore(t)
		q := s.Queue("events")
		wantQueueLen(t, s, "events", 0)
		push(t, q, "a", "b", "c")
		wantQueueLen(t, s, "events", 3)
		items, err := q.Reserve(t.Context(), 1, false)
		if err != nil || len(items) != 1 {
			t.Fatalf("Reserve(1) = %d items, error %v; want 1 item", len(items), err)
		}
		wantQueueLen(t, s, "events", 2) // a reserved item is not waiting
		if err := q.Ack(t.Context(), items...); err != nil {
			t.Errorf("Ack of a reserved item: %v", err)
		}
		if err := q.Ack(t.Context()); err != nil {
			t.Errorf("Ack of no items: %v", err)
		}
		wantQueueLen(t, s, "events", 2)
		drain(t, q)
		wantQueueLen(t, s, "events", 0)
	})

	t.Run("BlockingReserveWakesOnPush", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		type result struct {
			items []store.Item
			err   error
		}
		done := make(chan result, 1)
		go func() {
			items, err := s.Queue("events").Reserve(ctx, 10, true)
			done <- result{items, err}
		}()
		// Give the consumer a moment to start waiting; the test passes either way.
		time.Sleep(20 * time.Millisecond)
		push(t, s.Queue("events"), "wake up")
		r := <-done
		if r.err != nil {
			t.Fatalf("blocking Reserve: %v", r.err)
		}
		var got [][]byte
		for _, it := range r.items {
			got = append(got, it.Payload)
		}
		wantPayloads(t, "events", got, "wake up")
	})

	t.Run("BlockingReserveEndsWithContext", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			ctx     func(context.Context) (context.Context, context.CancelFunc)
			wantErr error
		}{
			{"Cancelled", func(parent context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(parent)
				go func() {
					time.Sleep(20 * time.Millisecond)
					cancel()
				}()
				return ctx, cancel
			}, context.Canceled},
			{"AlreadyCancelled", func(parent context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(parent)
				cancel()
				return ctx, cancel
			}, context.Canceled},
			{"DeadlineExceeded", func(parent context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(parent, 50*time.Millisecond)
			}, context.DeadlineExceeded},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				q := s.Queue("events")
				ctx, cancel := tc.ctx(t.Context())
				defer cancel()
				items, err := q.Reserve(ctx, 10, true)
				if !errors.Is(err, tc.wantErr) || len(items) != 0 {
					t.Fatalf("blocking Reserve on an empty queue = %d items, error %v; want none and %v", len(items), err, tc.wantErr)
				}
				// The abandoned wait must not swallow what comes next.
				push(t, q, "after")
				wantQueueLen(t, s, "events", 1)
				wantPayloads(t, "events", drain(t, q), "after")
			})
		}
	})

	t.Run("NamesAreIndependent", func(t *testing.T) {
		s := newStore(t)
		push(t, s.Queue("alerts-email"), "mail")
		push(t, s.Queue("alerts-sms"), "text")
		wantQueueLen(t, s, "events", 0)
		wantPayloads(t, "events", drain(t, s.Queue("events")))
		wantPayloads(t, "alerts-sms", drain(t, s.Queue("alerts-sms")), "text")
		wantPayloads(t, "alerts-email", drain(t, s.Queue("alerts-email")), "mail")
	})

	t.Run("SameNameSameQueue", func(t *testing.T) {
		s := newStore(t)
		push(t, s.Queue("events"), "one")
		push(t, s.Queue("events"), "two")
		wantPayloads(t, "events", drain(t, s.Queue("events")), "one", "two")
	})

	t.Run("PayloadCopied", func(t *testing.T) {
		s := newStore(t)
		q := s.Queue("events")
		buf := []byte("one")
		if err := q.Push(t.Context(), buf); err != nil {
			t.Fatalf("Push: %v", err)
		}
		copy(buf, "two") // a producer reusing its buffer
		if err := q.Push(t.Context(), buf); err != nil {
			t.Fatalf("Push: %v", err)
		}
		copy(buf, "xxx")
		wantPayloads(t, "events", drain(t, q), "one", "two")
	})

	t.Run("ConcurrentProducersAndConsumers", func(t *testing.T) {
		s := newStore(t)
		const producers, consumers, each = 4, 4, 250
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		var (
			mu       sync.Mutex
			received = map[string]int{}
			total    atomic.Int64
			wg       sync.WaitGroup
		)
		for range consumers {
			wg.Go(func() {
				q := s.Queue("events")
				for total.Load() < producers*each {
					items, err := q.Reserve(ctx, 7, true)
					if err != nil {
						if ctx.Err() == nil || total.Load() < producers*each {
							t.Errorf("blocking Reserve: %v", err)
						}
						return
					}
					mu.Lock()
					for _, it := range items {
						received[string(it.Payload)]++
					}
					mu.Unlock()
					if err := q.Ack(t.Context(), items...); err != nil {
						t.Errorf("Ack: %v", err)
					}
					if total.Add(int64(len(items))) >= producers*each {
						cancel() // wakes the other consumers
					}
				}
			})
		}
		parallel(producers, func(p int) {
			q := s.Queue("events")
			for i := range each {
				if err := q.Push(ctx, fmt.Appendf(nil, "%d/%d", p, i)); err != nil {
					t.Errorf("Push: %v", err)
					return
				}
			}
		})
		wg.Wait()
		if len(received) != producers*each {
			t.Errorf("consumers received %d distinct items, want %d", len(received), producers*each)
		}
		for p, n := range received {
			if n != 1 {
				t.Errorf("item %s received %d times, want once", p, n)
			}
		}
	})
}

func push(t *testing.T, q store.Queue, payloads ...string) {
	t.Helper()
	bs := make([][]byte, len(payloads))
	for i, p := range payloads {
		bs[i] = []byte(p)
	}
	if err := q.Push(t.Context(), bs...); err != nil {
		t.Fatalf("Push: %v", err)
	}
}

// drain reserves and acknowledges every waiting item, oldest first.
func drain(t *testing.T, q store.Queue) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		items, err := q.Reserve(t.Context(), 100, false)
		if err != nil {
			t.Fatalf("Reserve: %v", err)
		}
		if len(items) == 0 {
			return out
		}
		for _, it := range items {
			out = append(out, it.Payload)
		}
		if err := q.Ack(t.Context(), items...); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
}

func wantPayloads(t *testing.T, queue string, got [][]byte, want ...string) {
	t.Helper()
	gs := make([]string, len(got))
	for i, g := range got {
		gs[i] = string(g)
	}
	if !slices.Equal(gs, want) {
		t.Errorf("queue %s gave %q, want %q", queue, gs, want)
	}
}

func wantQueueLen(t *testing.T, s store.Store, queue string, want int64) {
	t.Helper()
	n, err := s.Queue(queue).Len(t.Context())
	if err != nil {
		t.Fatalf("Len(%s): %v", queue, err)
	}
	if n != want {
		t.Errorf("queue %s holds %d items, want %d", queue, n, want)
	}
}

// ---------------------------------------------------------------------------
// Maintenance

// testMaintenance runs the maintenance arithmetic through the store: each operation
// of flapjack.Check runs inside UpdateCheck and the result is read back with Check,
// so a store must keep every window and time exactly (compared with time.Equal, at
// nanosecond precision, whatever their location).
func testMaintenance(t *testing.T, newStore newStoreFunc) {
	t1 := t0 // a window's start
	at := func(d time.Duration) time.Time { return t1.Add(d).In(west) }
	window := func(id string, start, end time.Time) flapjack.Maintenance {
		return flapjack.Maintenance{ID: id, Start: start, End: end, Summary: "window " + id}
	}
	unscheduledA := window("A", t1, t1.Add(30*time.Minute))
	scheduled := window("S", t1.Add(time.Hour), t1.Add(3*time.Hour))

	for _, tc := range []struct {
		name    string
		given   func(c *flapjack.Check)
		op      func(c *flapjack.Check) error
		wantErr error
		want    func(t *testing.T, c *flapjack.Check)
	}{
		{
			name: "NewCheck",
			want: func(t *testing.T, c *flapjack.Check) {
				wantIn(t, c, false, t1, false)
				wantIn(t, c, true, t1, false)
			},
		},
		{
			name: "WindowsRoundTrip",
			given: func(c *flapjack.Check) {
				c.ScheduledMaintenances = []flapjack.Maintenance{scheduled}
				c.UnscheduledMaintenances = []flapjack.Maintenance{unscheduledA}
			},
			want: func(t *testing.T, c *flapjack.Check) {
				wantWindows(t, "scheduled", c.ScheduledMaintenances, scheduled)
				wantWindows(t, "unscheduled", c.UnscheduledMaintenances, unscheduledA)
				// Both ends are inclusive, to the nanosecond.
				wantIn(t, c, true, scheduled.Start.Add(-1), false)
				wantIn(t, c, true, scheduled.Start, true)
				wantIn(t, c, true, scheduled.End, true)
				wantIn(t, c, true, scheduled.End.Add(1), false)
				wantIn(t, c, false, unscheduledA.End, true)
				wantIn(t, c, false, unscheduledA.End.Add(1), false)
			},
		},
		{
			name: "AcknowledgeAgainReplacesCurrentWindow",
			given: func(c *flapjack.Check) {
				c.Alertable = true
				c.SetUnscheduledMaintenance(unscheduledA, t1)
			},
			op: func(c *flapjack.Check) error {
				c.Alertable = true
				c.SetUnscheduledMaintenance(window("B", at(15*time.Minute), at(45*time.Minute)), at(15*time.Minute))
				return nil
			},
			want: func(t *testing.T, c *flapjack.Check) {
				a := unscheduledA
				a.End = at(15 * time.Minute)
				wantWindows(t, "unscheduled", c.UnscheduledMaintenances, a, window("B", at(15*time.Minute), at(45*time.Minute)))
				wantIn(t, c, false, at(15*time.Minute), true)
				wantIn(t, c, false, at(45*time.Minute), true)
				wantIn(t, c, false, at(45*time.Minute+1), false)
				if c.Alertable {
					t.Errorf("Alertable = true after an acknowledgement, want false")
				}
			},
		},
		{
			name:  "EndUnscheduled",
			given: func(c *flapjack.Check) { c.SetUnscheduledMaintenance(unscheduledA, t1) },
			op: func(c *flapjack.Check) error {
				if !c.EndUnscheduledMaintenance(at(15*time.Minute), at(15*time.Minute)) {
					return errors.New("EndUnscheduledMaintenance ended no window")
				}
				return nil
			},
			want: func(t *testing.T, c *flapjack.Check) {
				a := unscheduledA
				a.End = at(15 * time.Minute)
				wantWindows(t, "unscheduled", c.UnscheduledMaintenances, a)
				wantIn(t, c, false, at(15*time.Minute+10*time.Second), false)
			},
		},
		{
			name:  "EndScheduledBeforeItStarts",
			given: func(c *flapjack.Check) { c.ScheduledMaintenances = []flapjack.Maintenance{scheduled} },
			op:    func(c *flapjack.Check) error { return c.EndScheduledMaintenance("S", at(0)) },
			want: func(t *testing.T, c *flapjack.Check) {
				wantWindows(t, "scheduled", c.ScheduledMaintenances)
				wantIn(t, c, true, at(2*time.Hour), false)
			},
		},
		{
			name:  "EndScheduledWhileRunning",
			given: func(c *flapjack.Check) { c.ScheduledMaintenances = []flapjack.Maintenance{scheduled} },
			op:    func(c *flapjack.Check) error { return c.EndScheduledMaintenance("S", at(90*time.Minute)) },
			want: func(t *testing.T, c *flapjack.Check) {
				s := scheduled
				s.End = at(90 * time.Minute)
				wantWindows(t, "scheduled", c.ScheduledMaintenances, s)
				wantIn(t, c, true, at(90*time.Minute), true)
				wantIn(t, c, true, at(90*time.Minute+1), false)
			},
		},
		{
			name:    "EndScheduledAfterItEnded",
			given:   func(c *flapjack.Check) { c.ScheduledMaintenances = []flapjack.Maintenance{scheduled} },
			op:      func(c *flapjack.Check) error { return c.EndScheduledMaintenance("S", at(6*time.Hour)) },
			wantErr: flapjack.ErrMaintenanceOver,
			want: func(t *testing.T, c *flapjack.Check) {
				wantWindows(t, "scheduled", c.ScheduledMaintenances, scheduled)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			create(t, s, "web-1:http", tc.given)
			if tc.op != nil {
				_, err := s.UpdateCheck(t.Context(), "web-1:http", false, func(u *store.CheckUpdate) error { return tc.op(&u.Check) })
				if tc.wantErr == nil && err != nil {
					t.Fatalf("UpdateCheck: %v", err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("UpdateCheck returned %v, want %v", err, tc.wantErr)
				}
			}
			c := get(t, s, "web-1:http")
			tc.want(t, &c)
		})
	}
}

func wantWindows(t *testing.T, kind string, got []flapjack.Maintenance, want ...flapjack.Maintenance) {
	t.Helper()
	if d := diff(want, got); d != "" {
		t.Errorf("%s maintenances: %s", kind, d)
	}
}

func wantIn(t *testing.T, c *flapjack.Check, scheduled bool, at time.Time, want bool) {
	t.Helper()
	kind, in := "unscheduled", c.InUnscheduledMaintenance
	if scheduled {
		kind, in = "scheduled", c.InScheduledMaintenance
	}
	if _, got := in(at); got != want {
		t.Errorf("in %s maintenance at %s = %t, want %t", kind, at.Format(time.RFC3339Nano), got, want)
	}
}

// ---------------------------------------------------------------------------
// Helpers

// ackHash is the first 8 lower-case hex digits of SHA-1 over id.
func ackHash(id string) string {
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:4])
}

func ptr[T any](v T) *T { return &v }

// populate gives every field a store keeps, apart from the keys, a value, with
// something behind every slice and pointer.
func populate(c *flapjack.Check) {
	c.Enabled = true
	c.Tags = []string{"app:web", "dc:east"}
	c.InitialFailureDelay = ptr[int64](30)
	c.RepeatFailureDelay = ptr[int64](3600)
	c.InitialRecoveryDelay = ptr[int64](0)
	c.NotificationCount = 7
	c.Condition = flapjack.Critical
	c.Failing = true
	c.Alertable = true
	c.CurrentState = &flapjack.State{
		CreatedAt: t0, UpdatedAt: t0.Add(90*time.Second + 1).In(west),
		Condition: flapjack.Critical, Summary: "connection refused", Details: "port 80",
		Perfdata: []flapjack.PerfDatum{{Key: "time", Value: "0.5s"}, {Key: "size", Value: "0B"}},
	}
	c.LatestNotifications = []flapjack.State{
		{CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute), Condition: flapjack.Critical, Summary: "connection refused", Perfdata: []flapjack.PerfDatum{{Key: "time", Value: "0.4s"}}},
		{CreatedAt: t0.Add(2 * time.Minute).In(west), UpdatedAt: t0.Add(2 * time.Minute), Condition: flapjack.Critical, Action: flapjack.Acknowledgement, Summary: "looking"},
	}
	c.MostSevere = flapjack.Critical
	c.ScheduledMaintenances = []flapjack.Maintenance{{ID: "sm-1", Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour).In(west), Summary: "upgrade"}}
	c.UnscheduledMaintenances = []flapjack.Maintenance{{ID: "um-1", Start: t0.Add(2 * time.Minute), End: t0.Add(time.Hour + time.Millisecond), Summary: "looking"}}
}

// scribble changes in place whatever populate put behind a slice or a pointer, and
// some plain fields.
func scribble(c *flapjack.Check) {
	c.Enabled = !c.Enabled
	c.NotificationCount = -1
	if len(c.Tags) > 0 {
		c.Tags[0] = "scribbled"
	}
	for _, p := range []*int64{c.InitialFailureDelay, c.RepeatFailureDelay, c.InitialRecoveryDelay} {
		if p != nil {
			*p = -1
		}
	}
	if c.CurrentState != nil {
		c.CurrentState.Summary = "scribbled"
		c.CurrentState.UpdatedAt = time.Time{}
		if len(c.CurrentState.Perfdata) > 0 {
			c.CurrentState.Perfdata[0].Value = "scribbled"
		}
	}
	for i := range c.LatestNotifications {
		c.LatestNotifications[i].Summary = "scribbled"
		if len(c.LatestNotifications[i].Perfdata) > 0 {
			c.LatestNotifications[i].Perfdata[0].Value = "scribbled"
		}
	}
	for _, ms := range [][]flapjack.Maintenance{c.ScheduledMaintenances, c.UnscheduledMaintenances} {
		for i := range ms {
			ms[i].End = time.Time{}
			ms[i].Summary = "scribbled"
		}
	}
}

// unchanged is a callback that changes nothing.
func unchanged(*store.CheckUpdate) error { return nil }

func update(t *testing.T, s store.Store, name string, create bool, fn func(*store.CheckUpdate) error) flapjack.Check {
	t.Helper()
	c, err := s.UpdateCheck(t.Context(), name, create, fn)
	if err != nil {
		t.Fatalf("UpdateCheck(%q, create=%t): %v", name, create, err)
	}
	return c
}

// create makes a check, lets set (when not nil) fill it, and appends one history
// entry.
func create(t *testing.T, s store.Store, name string, set func(*flapjack.Check)) flapjack.Check {
	t.Helper()
	return update(t, s, name, true, func(u *store.CheckUpdate) error {
		if !u.Created {
			return fmt.Errorf("check %q exists already", name)
		}
		if set != nil {
			set(&u.Check)
		}
		u.History = append(u.History, flapjack.State{CreatedAt: t0, UpdatedAt: t0, Condition: flapjack.Critical, Summary: "first"})
		return nil
	})
}

func get(t *testing.T, s store.Store, name string) flapjack.Check {
	t.Helper()
	c, err := s.Check(t.Context(), name)
	if err != nil {
		t.Fatalf("Check(%q): %v", name, err)
	}
	return c
}

func mustHistory(t *testing.T, s store.Store, id string) []flapjack.State {
	t.Helper()
	h, err := s.History(t.Context(), id)
	if err != nil {
		t.Fatalf("History(%q): %v", id, err)
	}
	return h
}

// wantNoCheck checks that no lookup finds the check.
func wantNoCheck(t *testing.T, s store.Store, name, id, hash string) {
	t.Helper()
	_, err := s.Check(t.Context(), name)
	wantNotFound(t, "Check", err)
	_, err = s.CheckByID(t.Context(), id)
	wantNotFound(t, "CheckByID", err)
	_, err = s.CheckByAckHash(t.Context(), hash)
	wantNotFound(t, "CheckByAckHash", err)
	_, err = s.History(t.Context(), id)
	wantNotFound(t, "History", err)
	cs, err := s.QueryChecks(t.Context(), store.CheckQuery{})
	if err != nil {
		t.Fatalf("QueryChecks: %v", err)
	}
	for _, c := range cs {
		if c.Name == name {
			t.Errorf("QueryChecks still returns %q", name)
		}
	}
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: got error %v, want ErrNotFound", what, err)
	}
}

// wantQuery checks that q selects exactly the checks named, in that order.
func wantQuery(t *testing.T, s store.Store, q store.CheckQuery, names ...string) []flapjack.Check {
	t.Helper()
	cs, err := s.QueryChecks(t.Context(), q)
	if err != nil {
		t.Fatalf("QueryChecks(%+v): %v", q, err)
	}
	got := make([]string, len(cs))
	for i, c := range cs {
		got[i] = c.Name
	}
	if !slices.Equal(got, names) {
		t.Errorf("QueryChecks(%+v) = %q, want %q", q, got, names)
	}
	return cs
}

// wantEachOnceInOrder checks that got holds every "g/i" for g < goroutines and
// i < n exactly once, each goroutine's in increasing i.
func wantEachOnceInOrder(t *testing.T, what string, got []string, goroutines, n int) {
	t.Helper()
	if len(got) != goroutines*n {
		t.Errorf("%s holds %d entries, want %d", what, len(got), goroutines*n)
	}
	next := make([]int, goroutines)
	for _, s := range got {
		var g, i int
		if _, err := fmt.Sscanf(s, "%d/%d", &g, &i); err != nil || g < 0 || g >= goroutines {
			t.Errorf("%s holds an unexpected entry %q", what, s)
			return
		}
		if i != next[g] {
			t.Errorf("%s: entry %q follows %d/%d, want %d/%d", what, s, g, next[g]-1, g, next[g])
			return
		}
		next[g]++
	}
}

// parallel runs f(0)…f(n-1) in goroutines released together, and waits for them.
func parallel(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			f(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

var timeType = reflect.TypeFor[time.Time]()

// diff describes the first difference between want and got by its path, or returns
// "" when there is none. Times are equal when they are the same instant (a store
// may hand one back in another location and without its monotonic reading), and a
// nil slice or map equals an empty one (a store need not keep that difference).
func diff(want, got any) string {
	return diffValue("", reflect.ValueOf(want), reflect.ValueOf(got))
}

func diffValue(path string, w, g reflect.Value) string {
	mismatch := func() string {
		return fmt.Sprintf("%s: want %s, got %s", where(path), show(w), show(g))
	}
	if !w.IsValid() || !g.IsValid() {
		if w.IsValid() == g.IsValid() {
			return ""
		}
		return mismatch()
	}
	if w.Type() != g.Type() {
		return fmt.Sprintf("%s: want a %s, got a %s", where(path), w.Type(), g.Type())
	}
	if w.Type() == timeType {
		if !w.Interface().(time.Time).Equal(g.Interface().(time.Time)) {
			return mismatch()
		}
		return ""
	}
	switch w.Kind() {
	case reflect.Pointer, reflect.Interface:
		if w.IsNil() || g.IsNil() {
			if w.IsNil() == g.IsNil() {
				return ""
			}
			return mismatch()
		}
		return diffValue(path, w.Elem(), g.Elem())
	case reflect.Struct:
		for i := range w.NumField() {
			if f := w.Type().Field(i); f.IsExported() {
				if d := diffValue(path+"."+f.Name, w.Field(i), g.Field(i)); d != "" {
					return d
				}
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		for i := range min(w.Len(), g.Len()) {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i)); d != "" {
				return d
			}
		}
		if w.Len() != g.Len() {
			return fmt.Sprintf("%s: want %d elements, got %d: want %s, got %s", where(path), w.Len(), g.Len(), show(w), show(g))
		}
		return ""
	case reflect.Map:
		keys := append(w.MapKeys(), g.MapKeys()...)
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			p := fmt.Sprintf("%s[%v]", path, k)
			wv, gv := w.MapIndex(k), g.MapIndex(k)
			if !gv.IsValid() {
				return fmt.Sprintf("%s: missing, want %s", where(p), show(wv))
			}
			if !wv.IsValid() {
				return fmt.Sprintf("%s: unexpected %s", where(p), show(gv))
			}
			if d := diffValue(p, wv, gv); d != "" {
				return d
			}
		}
		return ""
	}
	if !w.Equal(g) {
		return mismatch()
	}
	return ""
}

func where(path string) string {
	if path == "" {
		return "value"
	}
	return strings.TrimPrefix(path, ".")
}

func show(v reflect.Value) string {
	switch {
	case !v.IsValid():
		return "nothing"
	case v.Kind() == reflect.Pointer && v.IsNil():
		return "nil"
	case v.Kind() == reflect.Pointer:
		return "&" + show(v.Elem())
	case v.Type() == timeType:
		return v.Interface().(time.Time).Format(time.RFC3339Nano)
	case v.Kind() == reflect.String:
		return strconv.Quote(v.String())
	}
	return fmt.Sprintf("%+v", v.Interface())
}
