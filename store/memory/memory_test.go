package memory

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// collidingIDs are two ids whose SHA-1 sums share their first 4 bytes, so their
// ack hashes are equal.
var collidingIDs = [2]string{"check-21643", "check-23495"}

func TestAckHashCollisionTakesAnotherID(t *testing.T) {
	if a, b := AckHash(collidingIDs[0]), AckHash(collidingIDs[1]); a != b {
		t.Fatalf("AckHash(%q) = %s and AckHash(%q) = %s; the test needs them equal", collidingIDs[0], a, collidingIDs[1], b)
	}
	s := New()
	defer s.Close()
	ids := []string{collidingIDs[0], collidingIDs[1], "check-fresh"}
	s.newID = func() string {
		id := ids[0]
		ids = ids[1:]
		return id
	}
	noop := func(*store.CheckUpdate) error { return nil }

	first, err := s.UpdateCheck(t.Context(), "a:1", true, noop)
	if err != nil {
		t.Fatalf("UpdateCheck(a:1): %v", err)
	}
	second, err := s.UpdateCheck(t.Context(), "b:2", true, noop)
	if err != nil {
		t.Fatalf("UpdateCheck(b:2): %v", err)
	}
	if first.ID != collidingIDs[0] {
		t.Errorf("first check got id %q, want %q", first.ID, collidingIDs[0])
	}
	if second.ID != "check-fresh" || second.AckHash != AckHash("check-fresh") {
		t.Errorf("second check got id %q ack hash %q, want %q %q: the colliding id must be skipped",
			second.ID, second.AckHash, "check-fresh", AckHash("check-fresh"))
	}
	if c, err := s.CheckByAckHash(t.Context(), first.AckHash); err != nil || c.Name != "a:1" {
		t.Errorf("CheckByAckHash(%s) = %q, %v; want a:1", first.AckHash, c.Name, err)
	}
	if len(ids) != 0 {
		t.Errorf("%d ids left unused, want all taken", len(ids))
	}
}

func TestAbortedCreationReleasesID(t *testing.T) {
	s := New()
	defer s.Close()
	s.newID = func() string { return "the-only-id" }
	boom := errors.New("boom")
	if _, err := s.UpdateCheck(t.Context(), "a:1", true, func(*store.CheckUpdate) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateCheck = %v, want %v", err, boom)
	}
	// With only one id to hand out, a leaked reservation would loop for ever.
	done := make(chan error, 1)
	go func() {
		_, err := s.UpdateCheck(context.Background(), "b:2", true, func(*store.CheckUpdate) error { return nil })
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("UpdateCheck(b:2): %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("UpdateCheck(b:2) is still looking for a free id: the aborted creation kept its id")
	}
}

func TestCloseWakesBlockedReserve(t *testing.T) {
	s := New()
	q := s.Queue("events")
	done := make(chan error, 1)
	go func() {
		_, err := q.Reserve(t.Context(), 1, true)
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let Reserve start waiting; the test passes either way
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked Reserve returned %v after Close, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("blocked Reserve did not return after Close")
	}

	later := s.Queue("made-after-close")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := later.Reserve(ctx, 1, true); !errors.Is(err, ErrClosed) {
		t.Errorf("Reserve on a queue first named after Close = %v, want ErrClosed", err)
	}
	if err := later.Push(t.Context(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Push after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseLetsReserveDrainWaitingItems(t *testing.T) {
	s := New()
	q := s.Queue("events")
	if err := q.Push(t.Context(), []byte("a")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	s.Close()
	items, err := q.Reserve(t.Context(), 10, true)
	if err != nil || len(items) != 1 || string(items[0].Payload) != "a" {
		t.Fatalf("Reserve after Close = %v, %v; want the waiting item", items, err)
	}
	if _, err := q.Reserve(t.Context(), 10, true); !errors.Is(err, ErrClosed) {
		t.Errorf("Reserve of an empty closed queue = %v, want ErrClosed", err)
	}
}

func TestGlobalInstanceStatisticsCountOnce(t *testing.T) {
	s := New()
	defer s.Close()
	d := flapjack.Statistics{AllEvents: 1}
	if err := s.AddStatistics(t.Context(), store.GlobalStatistic, time.Now(), d); err != nil {
		t.Fatalf("AddStatistics: %v", err)
	}
	stats, err := s.Statistics(t.Context())
	if err != nil {
		t.Fatalf("Statistics: %v", err)
	}
	if len(stats) != 1 || stats[0].AllEvents != 1 {
		t.Errorf("Statistics = %+v, want one global record with AllEvents 1", stats)
	}
}

func BenchmarkUpdateCheck(b *testing.B) {
	increment := func(u *store.CheckUpdate) error {
		u.Check.NotificationCount++
		u.Check.CurrentState = &flapjack.State{Condition: flapjack.Critical, Summary: "down"}
		return nil
	}
	b.Run("Serial", func(b *testing.B) {
		s := New()
		defer s.Close()
		ctx := context.Background()
		for b.Loop() {
			if _, err := s.UpdateCheck(ctx, "web-1:http", true, increment); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParallelSameCheck", func(b *testing.B) {
		s := New()
		defer s.Close()
		ctx := context.Background()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.UpdateCheck(ctx, "web-1:http", true, increment); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("ParallelDistinctChecks", func(b *testing.B) {
		s := New()
		defer s.Close()
		ctx := context.Background()
		const checks = 1024
		names := make([]string, checks)
		for i := range names {
			names[i] = fmt.Sprintf("host-%d:http", i)
		}
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(checks / 16)) // spread the goroutines over the checks
			for pb.Next() {
				if _, err := s.UpdateCheck(ctx, names[i%checks], true, increment); err != nil {
					b.Error(err)
					return
				}
				i += 7
			}
		})
	})
}
