package processor_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// flakyStore fails UpdateCheck a number of times, as a store does during an outage.
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

// TestRunWaitsOutStoreFailures: an event whose processing fails because the store
// is unavailable is retried until it succeeds — processed once, never dropped.
func TestRunWaitsOutStoreFailures(t *testing.T) {
	mem := memory.New()
	s := &flakyStore{Store: mem}
	s.failures.Store(3)
	p := processor.New(s, processor.Options{Clock: &fakeClock{now: t0}})
	q := mem.Queue("events")
	if err := q.Push(context.Background(), []byte(`{"check":"db:ping","state":"critical"}`), []byte(`{"check":"db:ping","state":"critical"}`)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = p.Run(ctx) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := mem.Statistics(context.Background())
		if len(st) > 0 && st[0].FailureEvents == 2 {
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
	if got := s.calls.Load(); got != 5 {
		t.Errorf("UpdateCheck called %d times, want 5 (3 failures, then each event once)", got)
	}
	if n, _ := q.Len(context.Background()); n != 0 {
		t.Errorf("%d events left on the queue", n)
	}
}

// TestRunStopsWhenStoreCloses: a closed store ends Run with an error wrapping
// store.ErrClosed instead of retrying for ever.
func TestRunStopsWhenStoreCloses(t *testing.T) {
	mem := memory.New()
	p := processor.New(mem, processor.Options{Clock: &fakeClock{now: t0}})
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
