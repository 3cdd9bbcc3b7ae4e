package processor_test

import (
	"context"
	"errors"
	"github.com/x/flapjack/flapjacktest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// flakyStore fails its first check writes, as a store does during an outage:
// UpdateChecks fails for every check of the batch, UpdateCheck for its check.
type flakyStore struct {
	*memory.Store
	failures atomic.Int32
	calls    atomic.Int32
}

func (s *flakyStore) UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (c flapjack.Check, err error) {
	s.calls.Add(1)
	if s.failures.Add(-1) >= 0 {
		return c, errors.New("connection refused")
	}
	return s.Store.UpdateCheck(ctx, name, create, fn)
}

func (s *flakyStore) UpdateChecks(ctx context.Context, names []string, create bool, fn func(int, *store.CheckUpdate) error) []error {
	s.calls.Add(1)
	if s.failures.Add(-1) >= 0 {
		errs := make([]error, len(names))
		for i := range errs {
			errs[i] = errors.New("connection refused")
		}
		return errs
	}
	return s.Store.UpdateChecks(ctx, names, create, fn)
}

// plainStore is a flakyStore that is no store.CheckBatcher: the processor
// updates the checks of a batch one by one.
type plainStore struct{ f *flakyStore }

func (s plainStore) UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error) {
	return s.f.UpdateCheck(ctx, name, create, fn)
}

func (s plainStore) AddStatistics(ctx context.Context, instance string, now time.Time, d flapjack.Statistics) error {
	return s.f.AddStatistics(ctx, instance, now, d)
}

func (s plainStore) Queue(name string) store.Queue { return s.f.Queue(name) }

// TestRunWaitsOutStoreFailures: a batch whose processing fails because the store
// is unavailable is retried until it succeeds — its events processed once, never
// dropped — whether the store writes the checks of a batch together or not.
func TestRunWaitsOutStoreFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(*flakyStore) processor.Store
	}{
		{"CheckBatcher", func(f *flakyStore) processor.Store { return f }},
		{"UpdateCheck", func(f *flakyStore) processor.Store { return plainStore{f} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.New()
			s := &flakyStore{Store: mem}
			s.failures.Store(3)
			p := processor.New(tc.store(s), processor.Options{Clock: flapjacktest.NewClock(t0)})
			q := mem.Queue("events")
			if err := q.Push(context.Background(),
				[]byte(`{"check":"db:ping","state":"critical"}`),
				[]byte(`{"check":"db:ping","state":"critical"}`),
				[]byte(`{"check":"web:ping","state":"ok"}`),
			); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var runErr error
			wg.Go(func() { runErr = p.Run(ctx) })
			deadline := time.Now().Add(20 * time.Second)
			for {
				st, _ := mem.Statistics(context.Background())
				if len(st) > 0 && st[0].AllEvents == 3 {
					break
				}
				if time.Now().After(deadline) {
					cancel()
					wg.Wait()
					t.Fatalf("events not processed after store failures; statistics %+v", st)
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			wg.Wait()
			if runErr != nil {
				t.Errorf("Run returned %v, want nil after cancellation", runErr)
			}
			st, _ := mem.Statistics(context.Background())
			if want := (flapjack.Statistics{AllEvents: 3, FailureEvents: 2, OKEvents: 1}); st[0].Statistics != want {
				t.Errorf("statistics %+v, want %+v: each event counted once", st[0].Statistics, want)
			}
			c, err := mem.Check(context.Background(), "db:ping")
			if err != nil || c.Condition != flapjack.Critical {
				t.Errorf("db:ping = %+v, %v; want it critical", c, err)
			}
			if n, _ := q.Len(context.Background()); n != 0 {
				t.Errorf("%d events left on the queue", n)
			}
		})
	}
}

// TestRunStopsWhenStoreCloses: a closed store ends Run with an error wrapping
// store.ErrClosed instead of retrying for ever.
func TestRunStopsWhenStoreCloses(t *testing.T) {
	mem := memory.New()
	p := processor.New(mem, processor.Options{Clock: flapjacktest.NewClock(t0)})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	mem.Close()
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("Run returned %v, want store.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop after the store closed")
	}
}
