package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/x/flapjack/flapjacktest"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/pipeline"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// wait bounds every poll: generous, since a loaded machine is slow, yet short
// enough that a lost alert fails the test instead of hanging it.
const wait = 10 * time.Second

// eventually polls cond until it holds or wait passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", wait, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recorder is a gateway that records each attempt, failing the first ones with the
// errors it is given.
type recorder struct {
	mu        sync.Mutex
	fail      []error // returned by the first attempts, in order
	failAll   error   // returned by every attempt when set
	attempts  []time.Time
	delivered []flapjack.Alert
}

func (r *recorder) Send(ctx context.Context, a *flapjack.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, time.Now())
	if r.failAll != nil {
		return r.failAll
	}
	if len(r.fail) > 0 {
		err := r.fail[0]
		r.fail = r.fail[1:]
		return err
	}
	r.delivered = append(r.delivered, *a)
	return nil
}

func (r *recorder) counts() (attempts, delivered int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.attempts), len(r.delivered)
}

func (r *recorder) alerts() []flapjack.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]flapjack.Alert(nil), r.delivered...)
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// run starts p and returns a function that cancels it and checks that Run returns
// nil promptly.
func run(t *testing.T, p *pipeline.Pipeline) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancellation, want nil", err)
			}
		case <-time.After(wait):
			t.Fatalf("Run did not return within %s of cancellation", wait)
		}
	}
	t.Cleanup(stop)
	return stop
}

// noLeak checks that the goroutine count falls back to before.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines running, %d before the pipeline:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

const transport = "record"

func pushAlert(t *testing.T, st *memory.Store, queue, id string) {
	t.Helper()
	b, err := json.Marshal(flapjack.Alert{ID: id, Transport: transport, Address: "ops", MediumID: "ops_rec",
		CheckName: "web:http", Type: flapjack.AlertType("problem"), Condition: flapjack.Critical})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Queue(queue).Push(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func TestFailingCheckIsAlerted(t *testing.T) {
	ctx := context.Background()
	before := runtime.NumGoroutine()
	st := memory.New()
	defer st.Close()
	if err := st.PutContact(ctx, flapjack.Contact{ID: "ops", Name: "Ops"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutMedium(ctx, flapjack.Medium{ID: "ops_rec", ContactID: "ops", Transport: transport, Address: "ops-desk", Interval: 60}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutRule(ctx, flapjack.Rule{ID: "all", ContactID: "ops", Enabled: true, Strategy: flapjack.Global, MediaIDs: []string{"ops_rec"}}); err != nil {
		t.Fatal(err)
	}

	start := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := flapjacktest.NewClock(start)
	var logs logBuffer
	gw := &recorder{}
	p := pipeline.New(st, pipeline.Options{
		Processor: processor.New(st, processor.Options{Clock: clock, Logger: logs.logger(), Instance: "test"}),
		Notifier:  notifier.New(st, notifier.Options{Clock: clock, Logger: logs.logger(), DefaultContactTimezone: time.UTC}),
		Gateways:  map[string]gateway.Gateway{transport: gw},
		Logger:    logs.logger(),
	})
	stop := run(t, p)

	const check = "web-01:HTTP"
	events := st.Queue("events")
	send := func(at time.Duration, state string) {
		t.Helper()
		clock.Set(start.Add(at))
		ev := fmt.Sprintf(`{"entity":"web-01","check":"HTTP","state":%q,"summary":"at %s"}`, state, at)
		if err := events.Push(ctx, []byte(ev)); err != nil {
			t.Fatal(err)
		}
		// The event is processed once the check shows its summary.
		eventually(t, "the event at "+at.String()+" to be processed", func() bool {
			c, err := st.Check(ctx, check)
			return err == nil && c.CurrentState != nil && c.CurrentState.Summary == "at "+at.String()
		})
	}

	send(0, "critical")
	send(10*time.Second, "critical")
	// Failing for 10 s is less than the 30 s initial failure delay: the processor
	// wrote the check without a notification, in the same atomic write.
	if n, _ := st.Queue("notifications").Len(ctx); n != 0 {
		t.Fatalf("%d notifications after 10 s of failure, want none", n)
	}

	send(40*time.Second, "critical")
	eventually(t, "the problem alert", func() bool { _, n := gw.counts(); return n == 1 })
	a := gw.alerts()[0]
	if a.CheckName != check || a.Type != "problem" || a.Condition != flapjack.Critical || a.MediumID != "ops_rec" ||
		a.Address != "ops-desk" || a.ContactID != "ops" || a.Transport != transport || a.Summary != "at 40s" ||
		!a.Time.Equal(start.Add(40*time.Second)) {
		t.Errorf("alert = %+v; want a critical problem for %s to ops_rec at +40s", a, check)
	}

	send(50*time.Second, "ok")
	eventually(t, "the recovery alert", func() bool { _, n := gw.counts(); return n == 2 })
	if a := gw.alerts()[1]; a.Type != "recovery" || a.Condition != flapjack.OK || a.CheckName != check {
		t.Errorf("second alert = %+v; want an ok recovery for %s", a, check)
	}

	stop()
	st.Close()
	noLeak(t, before)
}

// noWait stands in for the back-off timer: retries follow at once.
func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func TestDelivery(t *testing.T) {
	retryable := errors.New("503 from upstream")
	permanent := gateway.Permanent(errors.New("address rejected"))
	for _, tc := range []struct {
		name        string
		fail        []error
		maxAttempts int
		attempts    int    // expected attempts for the first alert
		delivered   bool   // whether the first alert got through
		log         string // a line the delivery layer must log
	}{
		{name: "first attempt", attempts: 1, delivered: true},
		{name: "retried until delivered", fail: []error{retryable, retryable}, maxAttempts: 5, attempts: 3, delivered: true,
			log: "alert delivery failed; will retry"},
		{name: "gives up after MaxAttempts", fail: []error{retryable, retryable, retryable}, maxAttempts: 3, attempts: 3,
			log: "alert not delivered; dead-lettered"},
		{name: "one attempt allowed", fail: []error{retryable}, maxAttempts: 1, attempts: 1, log: "alert not delivered; dead-lettered"},
		{name: "permanent error is not retried", fail: []error{permanent}, maxAttempts: 5, attempts: 1, log: "address rejected"},
		{name: "permanent error after a retry", fail: []error{retryable, permanent}, maxAttempts: 5, attempts: 2, log: "alert not delivered; dead-lettered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			var logs logBuffer
			gw := &recorder{fail: tc.fail}
			p := pipeline.New(st, pipeline.Options{
				Gateways: map[string]gateway.Gateway{transport: gw},
				Delivery: gateway.DeliveryOptions{MaxAttempts: tc.maxAttempts, Sleep: noWait},
				Logger:   logs.logger(),
			})
			stop := run(t, p)
			queue := notifier.TransportQueue(transport)
			pushAlert(t, st, queue, "first")
			// A second alert shows the loop goes on after the first, whatever
			// became of it.
			pushAlert(t, st, queue, "second")
			want := 1
			if tc.delivered {
				want = 2
			}
			eventually(t, "the second alert", func() bool { _, n := gw.counts(); return n == want })
			stop()

			attempts, _ := gw.counts()
			if attempts != tc.attempts+1 {
				t.Errorf("%d attempts for the first alert, want %d", attempts-1, tc.attempts)
			}
			got := gw.alerts()
			if tc.delivered && got[0].ID != "first" || got[len(got)-1].ID != "second" {
				t.Errorf("delivered %v", got)
			}
			if tc.log != "" && !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log does not contain %q:\n%s", tc.log, logs.String())
			}
			d := p.Delivery(transport)
			dead, err := d.DeadLetters(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			m := d.Metrics().Snapshot()
			if tc.delivered {
				if len(dead) != 0 || m.Sent != 2 || m.DeadLettered != 0 {
					t.Errorf("dead letters %+v, metrics %+v; want none and 2 sent", dead, m)
				}
				if strings.Contains(logs.String(), "alert not delivered") {
					t.Errorf("a delivered alert was logged as not delivered:\n%s", logs.String())
				}
				return
			}
			if !strings.Contains(logs.String(), "alert=first") {
				t.Errorf("the failure log does not name the alert:\n%s", logs.String())
			}
			if len(dead) != 1 || dead[0].Attempts != tc.attempts || m.DeadLettered != 1 || m.Sent != 1 {
				t.Fatalf("dead letters %+v, metrics %+v; want the first alert after %d attempts", dead, m, tc.attempts)
			}
			if a, err := dead[0].DecodeAlert(); err != nil || a.ID != "first" {
				t.Errorf("dead letter holds %+v, %v", a, err)
			}
		})
	}
}

// TestTransportDelivery checks that each transport gets its own delivery
// options, and that a redriven dead letter is delivered.
func TestTransportDelivery(t *testing.T) {
	st := memory.New()
	defer st.Close()
	retryable := errors.New("timeout")
	slow := &recorder{fail: []error{retryable, retryable}}
	fast := &recorder{fail: []error{retryable, retryable}}
	p := pipeline.New(st, pipeline.Options{
		Gateways: map[string]gateway.Gateway{transport: slow, "other": fast},
		Delivery: gateway.DeliveryOptions{MaxAttempts: 1, Sleep: noWait},
		TransportDelivery: map[string]gateway.DeliveryOptions{
			transport: {MaxAttempts: 3, Sleep: noWait},
		},
	})
	if got := p.Transports(); !slices.Equal(got, []string{"other", transport}) {
		t.Errorf("Transports() = %q", got)
	}
	if p.Delivery("pigeon") != nil {
		t.Error("a delivery for a transport without a gateway")
	}
	stop := run(t, p)
	pushAlert(t, st, notifier.TransportQueue(transport), "a")
	pushAlert(t, st, notifier.TransportQueue("other"), "b")
	eventually(t, "a delivered on its third attempt", func() bool { _, n := slow.counts(); return n == 1 })
	other := p.Delivery("other")
	eventually(t, "b dead-lettered after one attempt", func() bool { return other.Metrics().Snapshot().DeadLettered == 1 })
	if n, _ := fast.counts(); n != 1 {
		t.Errorf("%d attempts for b, want 1", n)
	}
	// Re-driven, b meets the second scripted failure and is dead again; the
	// next re-drive delivers it.
	for dead := uint64(2); dead <= 3; dead++ {
		if n, err := other.Redrive(context.Background(), 0); n != 1 || err != nil {
			t.Fatalf("Redrive = %d, %v", n, err)
		}
		if dead == 2 {
			eventually(t, "b dead again", func() bool { return other.Metrics().Snapshot().DeadLettered == dead })
		}
	}
	eventually(t, "b delivered", func() bool { _, d := fast.counts(); return d == 1 })
	stop()
}

func TestCustomTransportQueueAndUnreadableAlert(t *testing.T) {
	st := memory.New()
	defer st.Close()
	var logs logBuffer
	gw := &recorder{}
	stop := run(t, pipeline.New(st, pipeline.Options{
		Gateways:        map[string]gateway.Gateway{transport: gw},
		TransportQueues: map[string]string{transport: "pager_alerts"},
		Logger:          logs.logger(),
	}))
	if err := st.Queue("pager_alerts").Push(context.Background(), []byte("not an alert")); err != nil {
		t.Fatal(err)
	}
	pushAlert(t, st, "pager_alerts", "a")
	eventually(t, "the alert from the custom queue", func() bool { _, n := gw.counts(); return n == 1 })
	stop()
	if !strings.Contains(logs.String(), "unreadable alert dead-lettered") {
		t.Errorf("the unreadable alert was not logged:\n%s", logs.String())
	}
	dead, err := gateway.DeadLetters(context.Background(), st, "pager_alerts", 0)
	if err != nil || len(dead) != 1 || string(dead[0].Payload) != "not an alert" {
		t.Errorf("dead letters of the custom queue: %+v, %v; want the unreadable payload", dead, err)
	}
	if n, _ := st.Queue(notifier.TransportQueue(transport)).Len(context.Background()); n != 0 {
		t.Errorf("%d items on the default queue, want 0", n)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	before := runtime.NumGoroutine()
	st := memory.New()
	var logs logBuffer
	gw := &recorder{failAll: errors.New("connection refused")}
	stop := run(t, pipeline.New(st, pipeline.Options{
		Gateways: map[string]gateway.Gateway{transport: gw},
		Delivery: gateway.DeliveryOptions{
			MaxAttempts: 10,
			// The back-off lasts until cancellation.
			Sleep: func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() },
		},
		Logger: logs.logger(),
	}))
	pushAlert(t, st, notifier.TransportQueue(transport), "a")
	eventually(t, "the first attempt", func() bool { n, _ := gw.counts(); return n == 1 })
	stop() // fails the test unless Run returns promptly, and nil
	if n, _ := gw.counts(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if !strings.Contains(logs.String(), "alert not delivered: shutting down") {
		t.Errorf("the abandoned alert was not logged:\n%s", logs.String())
	}
	if dead, _ := gateway.DeadLetters(context.Background(), st, notifier.TransportQueue(transport), 0); len(dead) != 0 {
		t.Errorf("an interrupted alert was dead-lettered: %+v", dead)
	}
	st.Close()
	noLeak(t, before)
}

func TestCancelIdle(t *testing.T) {
	before := runtime.NumGoroutine()
	st := memory.New()
	gw1, gw2 := &recorder{}, &recorder{}
	p := pipeline.New(st, pipeline.Options{
		Processor: processor.New(st, processor.Options{Instance: "test"}),
		Notifier:  notifier.New(st, notifier.Options{}),
		Gateways:  map[string]gateway.Gateway{transport: gw1, "other": gw2},
	})
	stop := run(t, p)
	// Give every stage some work, so that each is known to be running and back
	// in its blocking wait when cancelled.
	ctx := context.Background()
	pushAlert(t, st, notifier.TransportQueue(transport), "a")
	pushAlert(t, st, notifier.TransportQueue("other"), "b")
	if err := st.Queue("events").Push(ctx, []byte(`{"check":"x","state":"critical","initial_failure_delay":0}`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every stage to work", func() bool {
		_, d1 := gw1.counts()
		_, d2 := gw2.counts()
		c, err := st.Check(ctx, "x")
		n, _ := st.Queue("notifications").Len(ctx)
		return d1 == 1 && d2 == 1 && err == nil && c.NotificationCount == 1 && n == 0
	})
	stop()
	st.Close()
	noLeak(t, before)
}

func TestRunWithNothingToDo(t *testing.T) {
	st := memory.New()
	defer st.Close()
	stop := run(t, pipeline.New(st, pipeline.Options{}))
	stop()
}

func TestStageFailureStopsRun(t *testing.T) {
	before := runtime.NumGoroutine()
	st := memory.New()
	p := pipeline.New(st, pipeline.Options{
		Processor: processor.New(st, processor.Options{Instance: "test"}),
		Gateways:  map[string]gateway.Gateway{transport: &recorder{}},
	})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	st.Close() // every queue now fails
	select {
	case err := <-done:
		if !errors.Is(err, memory.ErrClosed) {
			t.Errorf("Run returned %v, want an error wrapping memory.ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatalf("Run did not return within %s of its store closing", wait)
	}
	noLeak(t, before)
}

// ackRecorder wraps queues to record what is acknowledged.
type ackRecorder struct {
	*memory.Store
	mu    sync.Mutex
	acked []string
}

func (r *ackRecorder) Queue(name string) store.Queue {
	return &ackQueue{Queue: r.Store.Queue(name), r: r}
}

type ackQueue struct {
	store.Queue
	r *ackRecorder
}

func (q *ackQueue) Ack(ctx context.Context, items ...store.Item) error {
	q.r.mu.Lock()
	defer q.r.mu.Unlock()
	for _, it := range items {
		var a flapjack.Alert
		_ = json.Unmarshal(it.Payload, &a)
		q.r.acked = append(q.r.acked, a.ID)
	}
	return q.Queue.Ack(ctx, items...)
}

// stallingGateway delivers every alert but "stall", on which it waits for ctx.
type stallingGateway struct{ stalled chan struct{} }

func (g *stallingGateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if a.ID != "stall" {
		return nil
	}
	close(g.stalled)
	<-ctx.Done()
	return fmt.Errorf("stalled: %w", ctx.Err())
}

// TestShutdownLeavesUndeliveredAlertsQueued checks that alerts a shutdown
// interrupts, or never reaches, are not acknowledged, so that a store that
// survives a restart hands them out again.
func TestShutdownLeavesUndeliveredAlertsQueued(t *testing.T) {
	st := &ackRecorder{Store: memory.New()}
	defer st.Close()
	var payloads [][]byte
	for _, id := range []string{"ok1", "ok2", "stall", "never"} {
		b, _ := json.Marshal(flapjack.Alert{ID: id, Transport: transport})
		payloads = append(payloads, b)
	}
	// One push, so that the delivery loop reserves all four at once.
	if err := st.Queue(notifier.TransportQueue(transport)).Push(context.Background(), payloads...); err != nil {
		t.Fatal(err)
	}
	gw := &stallingGateway{stalled: make(chan struct{})}
	stop := run(t, pipeline.New(st, pipeline.Options{Gateways: map[string]gateway.Gateway{transport: gw}}))
	select {
	case <-gw.stalled:
	case <-time.After(wait):
		t.Fatal("the stalling alert was never sent")
	}
	stop()
	st.mu.Lock()
	defer st.mu.Unlock()
	if want := []string{"ok1", "ok2"}; !slices.Equal(st.acked, want) {
		t.Errorf("acknowledged %q, want only the delivered %q", st.acked, want)
	}
}
