package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/pipeline"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// flaky is a component that fails its first runs, then runs until stopped.
type flaky struct {
	failures int // runs that fail before one that lasts
	panics   bool
	runs     atomic.Int32
	running  atomic.Bool
}

func (f *flaky) Run(ctx context.Context) error {
	n := int(f.runs.Add(1))
	if n <= f.failures {
		if f.panics {
			panic(fmt.Sprintf("run %d blew up", n))
		}
		return fmt.Errorf("run %d failed", n)
	}
	f.running.Store(true)
	defer f.running.Store(false)
	<-ctx.Done()
	return nil
}

// fastRestarts is a pipeline's restart back-off for tests.
func fastRestarts(o pipeline.Options) pipeline.Options {
	o.RestartBackoff, o.MaxRestartBackoff = time.Millisecond, 4*time.Millisecond
	return o
}

func stage(p *pipeline.Pipeline, name string) pipeline.StageStatus {
	for _, s := range p.Stages() {
		if s.Name == name {
			return s
		}
	}
	return pipeline.StageStatus{}
}

func TestFailingStageIsRestarted(t *testing.T) {
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprintf("panics=%v", panics), func(t *testing.T) {
			before := runtime.NumGoroutine()
			st := memory.New()
			defer st.Close()
			bad := &flaky{failures: 2, panics: panics}
			good := &flaky{}
			var logs logBuffer
			p := pipeline.New(st, fastRestarts(pipeline.Options{
				Components: map[string]func(context.Context) error{"bad": bad.Run, "good": good.Run},
				Gateways:   map[string]gateway.Gateway{transport: &recorder{}},
				Logger:     logs.logger(),
			}))
			stop := run(t, p)
			eventually(t, "the failing stage to run", bad.running.Load)
			eventually(t, "the other stage to run", good.running.Load)
			if n := bad.runs.Load(); n != 3 {
				t.Errorf("the failing stage ran %d times, want 3", n)
			}
			if n := good.runs.Load(); n != 1 {
				t.Errorf("the other stage ran %d times, want once", n)
			}
			s := stage(p, "bad")
			if s.State != pipeline.StageRunning || s.Restarts != 2 || s.LastError == nil || !strings.Contains(s.LastError.Error(), "run 2") {
				t.Errorf("status of the failing stage: %+v", s)
			}
			if s := stage(p, "good"); s.State != pipeline.StageRunning || s.Restarts != 0 || s.LastError != nil {
				t.Errorf("status of the other stage: %+v", s)
			}
			if err := p.Ready(); err != nil {
				t.Errorf("Ready() = %v once every stage runs", err)
			}
			for _, want := range []string{"stage failed; restarting", "stage=bad", "stage restarted"} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log lacks %q:\n%s", want, logs.String())
				}
			}
			if panics && !strings.Contains(logs.String(), "supervise_test.go") {
				t.Errorf("the panic's stack is not logged:\n%s", logs.String())
			}
			stop()
			if s := stage(p, "good"); s.State != pipeline.StageStopped {
				t.Errorf("after Run returned, a stage is %s", s.State)
			}
			if err := p.Ready(); !errors.Is(err, pipeline.ErrNotRunning) {
				t.Errorf("Ready() after Run = %v, want ErrNotRunning", err)
			}
			noLeak(t, before)
		})
	}
}

func TestRestartBackoffGrows(t *testing.T) {
	st := memory.New()
	defer st.Close()
	var mu sync.Mutex
	var starts []time.Time
	failing := func(ctx context.Context) error {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return errors.New("no luck")
	}
	p := pipeline.New(st, pipeline.Options{
		Components:     map[string]func(context.Context) error{"failing": failing},
		RestartBackoff: 20 * time.Millisecond, MaxRestartBackoff: 80 * time.Millisecond,
	})
	stop := run(t, p)
	eventually(t, "six starts", func() bool { mu.Lock(); defer mu.Unlock(); return len(starts) >= 6 })
	if err := p.Ready(); err == nil || !strings.Contains(err.Error(), "failing") || !strings.Contains(err.Error(), "no luck") {
		t.Errorf("Ready() = %v, want the failing stage named with its error", err)
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	// Waits are between half and all of 20, 40, 80, 80, 80 ms.
	for i, min := range []time.Duration{10, 20, 40, 40, 40} {
		if gap := starts[i+1].Sub(starts[i]); gap < min*time.Millisecond {
			t.Errorf("restart %d came after %s, want at least %s", i+1, gap, min*time.Millisecond)
		}
	}
}

func TestStoppedStageIsRestarted(t *testing.T) {
	st := memory.New()
	defer st.Close()
	var runs atomic.Int32
	quitter := func(ctx context.Context) error {
		if runs.Add(1) == 1 {
			return nil // returns while it should run: a failure
		}
		<-ctx.Done()
		return nil
	}
	p := pipeline.New(st, fastRestarts(pipeline.Options{Components: map[string]func(context.Context) error{"quitter": quitter}}))
	stop := run(t, p)
	eventually(t, "the restart", func() bool {
		return stage(p, "quitter").Restarts == 1 && stage(p, "quitter").State == pipeline.StageRunning
	})
	stop()
}

func TestClosedStoreStopsEveryStage(t *testing.T) {
	st := memory.New()
	good := &flaky{}
	p := pipeline.New(st, fastRestarts(pipeline.Options{
		Components: map[string]func(context.Context) error{
			"good": good.Run,
			"reader": func(ctx context.Context) error {
				_, err := st.Queue("q").Reserve(ctx, 1, true)
				return err
			},
		},
	}))
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	eventually(t, "the stages to run", good.running.Load)
	st.Close()
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrClosed) || !strings.Contains(err.Error(), "reader") {
			t.Errorf("Run returned %v, want the reader's ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("Run went on after the store closed")
	}
	if good.running.Load() {
		t.Error("a stage still runs after Run returned")
	}
}

func TestSetWhileRunning(t *testing.T) {
	before := runtime.NumGoroutine()
	st := memory.New()
	defer st.Close()
	first, second, other := &flaky{}, &flaky{}, &flaky{}
	p := pipeline.New(st, pipeline.Options{Components: map[string]func(context.Context) error{"x": first.Run, "other": other.Run}})
	stop := run(t, p)
	eventually(t, "the first x", first.running.Load)
	p.SetComponent("x", second.Run)
	if first.running.Load() {
		t.Error("SetComponent returned before the replaced stage stopped")
	}
	eventually(t, "the second x", second.running.Load)
	p.SetComponent("y", (&flaky{}).Run)
	eventually(t, "the new stage", func() bool { return stage(p, "y").State == pipeline.StageRunning })
	p.SetComponent("y", nil)
	if s := stage(p, "y"); s.Name != "" {
		t.Errorf("removed stage still listed: %+v", s)
	}
	if other.runs.Load() != 1 {
		t.Errorf("an unchanged stage ran %d times", other.runs.Load())
	}

	// A gateway replaced keeps counting from its predecessor's counts.
	rec := &recorder{}
	p.SetGateway(transport, rec, "", gateway.DeliveryOptions{})
	pushAlert(t, st, "record_notifications", "a1")
	eventually(t, "the first alert", func() bool { _, n := rec.counts(); return n == 1 })
	rec2 := &recorder{}
	p.SetGateway(transport, rec2, "", gateway.DeliveryOptions{})
	pushAlert(t, st, "record_notifications", "a2")
	eventually(t, "the second alert", func() bool { _, n := rec2.counts(); return n == 1 })
	if m := p.DeliveryMetrics()[transport]; m.Sent != 2 || m.Latency.Count != 2 {
		t.Errorf("metrics after a replaced gateway: sent %d, %d timed; want 2 and 2", m.Sent, m.Latency.Count)
	}
	p.SetGateway(transport, nil, "", gateway.DeliveryOptions{})
	if p.Delivery(transport) != nil || len(p.Transports()) != 0 {
		t.Error("the removed gateway is still listed")
	}
	if m := p.DeliveryMetrics()[transport]; m.Sent != 2 {
		t.Errorf("metrics after the gateway was removed: sent %d, want 2", m.Sent)
	}
	stop()
	noLeak(t, before)
}

func TestRunTwiceAtOnce(t *testing.T) {
	st := memory.New()
	defer st.Close()
	p := pipeline.New(st, pipeline.Options{})
	stop := run(t, p)
	eventually(t, "readiness", func() bool { return p.Ready() == nil })
	if err := p.Run(context.Background()); !errors.Is(err, pipeline.ErrRunning) {
		t.Errorf("a second Run returned %v, want ErrRunning", err)
	}
	stop()
}
