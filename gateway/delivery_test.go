package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/x/flapjack/flapjacktest"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// wait bounds every poll: generous for a loaded machine, short enough that a
// lost alert fails the test instead of hanging it.
const wait = 10 * time.Second

const (
	transport = "pager"
	queue     = "pager_notifications"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

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

// sleeper stands in for DeliveryOptions.Sleep: it records each wait asked for
// and moves the clock on by it at once.
type sleeper struct {
	clock *flapjacktest.Clock
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	s.clock.Advance(d)
	return nil
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// scripted is a gateway that fails each alert's first attempts with the errors
// scripted for its ID, then delivers it.
type scripted struct {
	mu        sync.Mutex
	script    map[string][]error
	always    error // when set, every attempt fails with it
	attempts  map[string]int
	delivered []string
	onSend    func() // called at each attempt, when set
}

func (g *scripted) Send(ctx context.Context, a *flapjack.Alert) error {
	if g.onSend != nil {
		g.onSend()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.attempts == nil {
		g.attempts = map[string]int{}
	}
	n := g.attempts[a.ID]
	g.attempts[a.ID]++
	if g.always != nil {
		return g.always
	}
	if errs := g.script[a.ID]; n < len(errs) {
		return errs[n]
	}
	g.delivered = append(g.delivered, a.ID)
	return nil
}

func (g *scripted) SetAlways(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.always = err
}

func (g *scripted) Attempts(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.attempts[id]
}

func (g *scripted) Delivered() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.delivered)
}

// acks wraps a store to record what is acknowledged, by alert ID (or payload
// when unreadable).
type acks struct {
	*memory.Store
	mu    sync.Mutex
	acked map[string][]string // by queue
}

func newAcks() *acks { return &acks{Store: memory.New(), acked: map[string][]string{}} }

func (s *acks) Queue(name string) store.Queue {
	return &ackQueue{Queue: s.Store.Queue(name), s: s, name: name}
}

func (s *acks) Acked(queue string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acked[queue])
}

type ackQueue struct {
	store.Queue
	s    *acks
	name string
}

func (q *ackQueue) Ack(ctx context.Context, items ...store.Item) error {
	q.s.mu.Lock()
	for _, it := range items {
		var a flapjack.Alert
		id := string(it.Payload)
		if json.Unmarshal(it.Payload, &a) == nil && a.ID != "" {
			id = a.ID
		}
		q.s.acked[q.name] = append(q.s.acked[q.name], id)
	}
	q.s.mu.Unlock()
	return q.Queue.Ack(ctx, items...)
}

func push(t *testing.T, qs store.Queues, q string, alerts ...flapjack.Alert) {
	t.Helper()
	var payloads [][]byte
	for _, a := range alerts {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, b)
	}
	if err := qs.Queue(q).Push(context.Background(), payloads...); err != nil {
		t.Fatal(err)
	}
}

func testAlert(id, address string) flapjack.Alert {
	return flapjack.Alert{ID: id, Transport: transport, Address: address, CheckName: "web-01:HTTP",
		Type: flapjack.TypeProblem, Condition: flapjack.Critical}
}

// start runs d and returns a function that stops it and checks that Run
// returns nil promptly; it also runs when the test ends.
func start(t *testing.T, d *gateway.Delivery) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		t.Helper()
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v after cancellation, want nil", err)
				}
			case <-time.After(wait):
				t.Fatalf("Run did not return within %s of cancellation", wait)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func deadLetters(t *testing.T, qs store.Queues) []gateway.DeadLetter {
	t.Helper()
	dead, err := gateway.DeadLetters(context.Background(), qs, queue, 0)
	if err != nil {
		t.Fatal(err)
	}
	return dead
}

func TestDeliveryOutcomes(t *testing.T) {
	retryable := errors.New("503 from upstream")
	permanent := gateway.Permanent(errors.New("address rejected"))
	for _, tc := range []struct {
		name        string
		fail        []error
		maxAttempts int
		attempts    int  // expected attempts of the first alert
		delivered   bool // whether it got through; else it is dead-lettered
		permanent   bool // how the dead letter is marked
		err         string
	}{
		{name: "first attempt", attempts: 1, delivered: true},
		{name: "retried until delivered", fail: []error{retryable, retryable}, maxAttempts: 5, attempts: 3, delivered: true},
		{name: "gives up after MaxAttempts", fail: []error{retryable, retryable, retryable}, maxAttempts: 3, attempts: 3,
			err: "503 from upstream"},
		{name: "one attempt allowed", fail: []error{retryable}, maxAttempts: 1, attempts: 1, err: "503 from upstream"},
		{name: "permanent error is not retried", fail: []error{permanent}, maxAttempts: 5, attempts: 1, permanent: true,
			err: "address rejected"},
		{name: "permanent error after a retry", fail: []error{retryable, permanent}, maxAttempts: 5, attempts: 2, permanent: true,
			err: "address rejected"},
		{name: "default MaxAttempts", fail: slices.Repeat([]error{retryable}, 20), attempts: gateway.DefaultMaxAttempts,
			err: "503 from upstream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newAcks()
			t.Cleanup(func() { st.Close() })
			clock := flapjacktest.NewClock(t0)
			sl := &sleeper{clock: clock}
			logs := gatewaytest.NewLogs()
			gw := &scripted{script: map[string][]error{"first": tc.fail}}
			d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{
				MaxAttempts: tc.maxAttempts, Clock: clock, Sleep: sl.Sleep, Logger: logs.Logger(),
			})
			stop := start(t, d)
			// The second alert shows the loop goes on after the first, whatever
			// became of it.
			push(t, st, queue, testAlert("first", "ops"), testAlert("second", "ops"))
			eventually(t, "both alerts to be dealt with", func() bool { return len(st.Acked(queue)) == 2 })
			stop()

			if got := gw.Attempts("first"); got != tc.attempts {
				t.Errorf("%d attempts for the first alert, want %d", got, tc.attempts)
			}
			if got := st.Acked(queue); !slices.Equal(got, []string{"first", "second"}) {
				t.Errorf("acknowledged %q, want both in order", got)
			}
			waits := sl.Waits()
			if len(waits) != tc.attempts-1 {
				t.Errorf("%d back-off waits, want one per retry: %d", len(waits), tc.attempts-1)
			}
			want := gateway.MetricsSnapshot{Sent: 1, Failed: uint64(tc.attempts), Retried: uint64(tc.attempts - 1), DeadLettered: 1}
			if tc.delivered {
				want.Sent, want.Failed, want.DeadLettered = 2, uint64(tc.attempts-1), 0
			}
			got := d.Metrics().Snapshot()
			if got.Sent != want.Sent || got.Failed != want.Failed || got.Retried != want.Retried || got.DeadLettered != want.DeadLettered {
				t.Errorf("metrics %+v, want %+v", got, want)
			}
			dead := deadLetters(t, st)
			if tc.delivered {
				if !slices.Equal(gw.Delivered(), []string{"first", "second"}) || len(dead) != 0 {
					t.Errorf("delivered %q with dead letters %+v; want both delivered, none dead", gw.Delivered(), dead)
				}
				if logs.Contains("not delivered") {
					t.Errorf("a delivered alert was logged as not delivered:\n%s", strings.Join(logs.Lines(), "\n"))
				}
				return
			}
			if len(dead) != 1 {
				t.Fatalf("%d dead letters, want 1", len(dead))
			}
			dl := dead[0]
			a, err := dl.DecodeAlert()
			if err != nil || a.ID != "first" {
				t.Errorf("dead letter holds %+v, %v; want the first alert", a, err)
			}
			var total time.Duration
			for _, w := range waits {
				total += w
			}
			if dl.Transport != transport || dl.Attempts != tc.attempts || dl.Permanent != tc.permanent || dl.Error != tc.err ||
				!dl.FirstAttempt.Equal(t0) || !dl.LastAttempt.Equal(t0.Add(total)) {
				t.Errorf("dead letter %+v; want %d attempts from %s to %s, permanent %v, error %q",
					dl, tc.attempts, t0, t0.Add(total), tc.permanent, tc.err)
			}
			if !logs.Contains("alert not delivered; dead-lettered", "alert=first", "dead_letter_queue="+queue+"_dead", tc.err) {
				t.Errorf("the dead letter was not logged with its alert and error:\n%s", strings.Join(logs.Lines(), "\n"))
			}
			if tc.attempts > 1 && !logs.Contains("alert delivery failed; will retry", "alert=first", "attempt=1") {
				t.Errorf("the retry was not logged:\n%s", strings.Join(logs.Lines(), "\n"))
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	const backoff, maxBackoff = 100 * time.Millisecond, time.Second
	for _, tc := range []struct {
		name     string
		err      error
		atLeast  time.Duration // every wait's floor besides the ceiling
		exactMax bool          // every wait is maxBackoff
	}{
		{name: "full jitter under a doubling ceiling", err: errors.New("timeout")},
		{name: "Retry-After is a floor", err: fmt.Errorf("x: %w", &gateway.StatusError{Code: 429, RetryAfter: 700 * time.Millisecond}),
			atLeast: 700 * time.Millisecond},
		{name: "Retry-After is capped by MaxBackoff", err: &gateway.StatusError{Code: 503, RetryAfter: time.Hour},
			atLeast: time.Hour, exactMax: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			t.Cleanup(func() { st.Close() })
			clock := flapjacktest.NewClock(t0)
			sl := &sleeper{clock: clock}
			gw := &scripted{always: tc.err}
			d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{
				MaxAttempts: 8, Backoff: backoff, MaxBackoff: maxBackoff, Clock: clock, Sleep: sl.Sleep,
			})
			start(t, d)
			push(t, st, queue, testAlert("a", "ops"))
			eventually(t, "the dead letter", func() bool { return d.Metrics().Snapshot().DeadLettered == 1 })
			waits := sl.Waits()
			if len(waits) != 7 {
				t.Fatalf("%d waits, want 7", len(waits))
			}
			ceiling := backoff
			for i, w := range waits {
				floor := min(tc.atLeast, maxBackoff)
				if w < floor || w > max(ceiling, floor) {
					t.Errorf("wait %d is %s, want between %s and %s", i+1, w, floor, max(ceiling, floor))
				}
				if tc.exactMax && w != maxBackoff {
					t.Errorf("wait %d is %s, want MaxBackoff %s", i+1, w, maxBackoff)
				}
				ceiling = min(2*ceiling, maxBackoff)
			}
		})
	}
}

func TestUnreadablePayloadsAreDeadLettered(t *testing.T) {
	st := newAcks()
	t.Cleanup(func() { st.Close() })
	logs := gatewaytest.NewLogs()
	gw := &scripted{}
	d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{Logger: logs.Logger(), Clock: flapjacktest.NewClock(t0)})
	start(t, d)
	if err := st.Queue(queue).Push(context.Background(), []byte("not an alert"), []byte(`{"id":5}`)); err != nil {
		t.Fatal(err)
	}
	push(t, st, queue, testAlert("good", "ops"))
	eventually(t, "the good alert", func() bool { return len(gw.Delivered()) == 1 })
	eventually(t, "all three acknowledged", func() bool { return len(st.Acked(queue)) == 3 })

	dead := deadLetters(t, st)
	if len(dead) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dead))
	}
	if dl := dead[0]; string(dl.Payload) != "not an alert" || dl.Alert != nil || dl.Attempts != 0 || !dl.Permanent ||
		!strings.HasPrefix(dl.Error, "unreadable alert: ") || !dl.FirstAttempt.Equal(t0) {
		t.Errorf("dead letter of a non-JSON payload: %+v", dl)
	}
	if _, err := dead[0].DecodeAlert(); err == nil {
		t.Error("DecodeAlert of a non-JSON payload succeeded")
	}
	if dl := dead[1]; string(dl.Alert) != `{"id":5}` || dl.Payload != nil || !strings.HasPrefix(dl.Error, "unreadable alert: ") {
		t.Errorf("dead letter of a JSON payload that is no alert: %+v", dl)
	}
	if n := gw.Attempts(""); n != 0 {
		t.Errorf("the gateway was handed an unreadable alert %d times", n)
	}
	if s := d.Metrics().Snapshot(); s.DeadLettered != 2 || s.Sent != 1 || s.Failed != 0 {
		t.Errorf("metrics %+v, want 2 dead-lettered and 1 sent", s)
	}
	if !logs.Contains("unreadable alert dead-lettered") {
		t.Errorf("the unreadable alert was not logged:\n%s", strings.Join(logs.Lines(), "\n"))
	}
}

func TestDeadLettersAndRedrive(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	gw := &scripted{}
	gw.SetAlways(gateway.Permanent(errors.New("account suspended")))
	d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{})
	start(t, d)
	push(t, st, queue, testAlert("a", "ops"), testAlert("b", "ops"), testAlert("c", "ops"))
	eventually(t, "three dead letters", func() bool { return d.Metrics().Snapshot().DeadLettered == 3 })

	ids := func(dead []gateway.DeadLetter) []string {
		var out []string
		for _, dl := range dead {
			a, err := dl.DecodeAlert()
			if err != nil {
				out = append(out, "?"+dl.Error)
				continue
			}
			out = append(out, a.ID)
		}
		return out
	}
	dq := st.Queue(gateway.DeadLetterQueue(queue))
	for _, tc := range []struct {
		max  int
		want []string
	}{{2, []string{"a", "b"}}, {0, []string{"a", "b", "c"}}, {10, []string{"a", "b", "c"}}, {2, []string{"a", "b"}}} {
		dead, err := d.DeadLetters(ctx, tc.max)
		if err != nil || !slices.Equal(ids(dead), tc.want) {
			t.Errorf("DeadLetters(%d) = %q, %v; want %q", tc.max, ids(dead), err, tc.want)
		}
		if n, _ := dq.Len(ctx); n != 3 {
			t.Errorf("%d dead letters left after DeadLetters, want all 3", n)
		}
	}
	if gateway.DeadLetterQueue(queue) != "pager_notifications_dead" {
		t.Errorf("DeadLetterQueue(%q) = %q", queue, gateway.DeadLetterQueue(queue))
	}

	// Once the service is back, a re-drive delivers them afresh.
	gw.SetAlways(nil)
	if n, err := d.Redrive(ctx, 2); n != 2 || err != nil {
		t.Fatalf("Redrive(2) = %d, %v; want 2", n, err)
	}
	eventually(t, "a and b delivered", func() bool { return slices.Equal(gw.Delivered(), []string{"a", "b"}) })
	if dead, _ := d.DeadLetters(ctx, 0); !slices.Equal(ids(dead), []string{"c"}) {
		t.Errorf("dead letters after re-driving two: %q, want c", ids(dead))
	}

	// A record that is no dead letter is reported and stays.
	if err := dq.Push(ctx, []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	dead, err := gateway.DeadLetters(ctx, st, queue, 0)
	if err != nil || len(dead) != 2 || string(dead[1].Payload) != "garbage" || !strings.HasPrefix(dead[1].Error, "not a dead-letter record") {
		t.Errorf("DeadLetters with a foreign record = %+v, %v", dead, err)
	}
	n, err := gateway.Redrive(ctx, st, queue, 0)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "1 records of \"pager_notifications_dead\" are not dead letters") {
		t.Errorf("Redrive with a foreign record = %d, %v; want 1 and an error about it", n, err)
	}
	eventually(t, "c delivered", func() bool { return slices.Equal(gw.Delivered(), []string{"a", "b", "c"}) })
	if l, _ := dq.Len(ctx); l != 1 {
		t.Errorf("%d records on the dead-letter queue, want the foreign one", l)
	}
	if s := d.Metrics().Snapshot(); s.Sent != 3 || s.DeadLettered != 3 {
		t.Errorf("metrics %+v, want 3 sent, 3 dead-lettered", s)
	}
	if n, err := gateway.Redrive(ctx, st, "empty", 0); n != 0 || err != nil {
		t.Errorf("Redrive of an empty dead-letter queue = %d, %v", n, err)
	}
}

// stalling delivers every alert but "stall", on which it waits for ctx.
type stalling struct{ stalled chan struct{} }

func (g *stalling) Send(ctx context.Context, a *flapjack.Alert) error {
	if a.ID != "stall" {
		return nil
	}
	close(g.stalled)
	<-ctx.Done()
	return fmt.Errorf("stalled: %w", ctx.Err())
}

func TestCancellationLeavesAlertsUnacknowledged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gw    func() (gateway.Gateway, func() bool) // the gateway, and when it is busy with the alert
		opts  gateway.DeliveryOptions
		first string // acknowledged before the interrupted alert
	}{{
		name: "during back-off",
		gw: func() (gateway.Gateway, func() bool) {
			g := &scripted{always: errors.New("connection refused")}
			return g, func() bool { return g.Attempts("a") == 1 }
		},
	}, {
		name: "during Send",
		gw: func() (gateway.Gateway, func() bool) {
			g := &stalling{stalled: make(chan struct{})}
			return g, func() bool {
				select {
				case <-g.stalled:
					return true
				default:
					return false
				}
			}
		},
	}, {
		name: "waiting for the rate limiter",
		gw: func() (gateway.Gateway, func() bool) {
			g := &scripted{}
			return g, func() bool { return len(g.Delivered()) == 1 }
		},
		opts:  gateway.DeliveryOptions{Rate: 0.001},
		first: "first",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			st := newAcks()
			logs := gatewaytest.NewLogs()
			gw, busy := tc.gw()
			tc.opts.Logger = logs.Logger()
			// Every wait, back-off or rate limit, lasts until cancellation.
			tc.opts.Sleep = func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() }
			d := gateway.NewDelivery(st, transport, queue, gw, tc.opts)
			stop := start(t, d)
			alerts := []flapjack.Alert{testAlert("a", "ops")}
			if tc.first != "" {
				alerts = []flapjack.Alert{testAlert(tc.first, "ops"), testAlert("a", "ops")}
			} else if _, ok := gw.(*stalling); ok {
				alerts = []flapjack.Alert{testAlert("stall", "ops")}
			}
			push(t, st, queue, alerts...)
			eventually(t, "the gateway to be busy", busy)
			if tc.first != "" {
				// Tokens for one attempt in 1000 s: the second alert waits.
				eventually(t, "the first alert acknowledged", func() bool { return len(st.Acked(queue)) == 1 })
			}
			stop() // fails the test unless Run returns promptly, and nil
			want := []string(nil)
			if tc.first != "" {
				want = []string{tc.first}
			}
			if got := st.Acked(queue); !slices.Equal(got, want) {
				t.Errorf("acknowledged %q, want %q", got, want)
			}
			if s := d.Metrics().Snapshot(); s.DeadLettered != 0 || s.Retried != 0 {
				t.Errorf("metrics %+v: an interrupted alert was retried or dead-lettered", s)
			}
			if !logs.Contains("alert not delivered: shutting down") {
				t.Errorf("the abandoned alert was not logged:\n%s", strings.Join(logs.Lines(), "\n"))
			}
			st.Close()
			noLeak(t, before)
		})
	}
}

// noLeak checks that the goroutine count falls back to before.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines running, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// gated holds every Send until released, counting those in flight.
type gated struct {
	release  chan struct{}
	mu       sync.Mutex
	inFlight int
	most     int
	done     int
}

func (g *gated) Send(ctx context.Context, a *flapjack.Alert) error {
	g.mu.Lock()
	g.inFlight++
	g.most = max(g.most, g.inFlight)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.done++
		g.mu.Unlock()
	}()
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gated) counts() (inFlight, most, done int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight, g.most, g.done
}

func TestWorkers(t *testing.T) {
	ctx := context.Background()
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			st := memory.New()
			t.Cleanup(func() { st.Close() })
			gw := &gated{release: make(chan struct{})}
			d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{Workers: workers})
			start(t, d)
			var alerts []flapjack.Alert
			for i := range 6 {
				alerts = append(alerts, testAlert(fmt.Sprint(i), "ops"))
			}
			push(t, st, queue, alerts...)
			eventually(t, "every worker busy", func() bool { n, _, _ := gw.counts(); return n == workers })
			// No more alerts are taken than there are workers to deliver them.
			if n, _ := st.Queue(queue).Len(ctx); n != int64(6-workers) {
				t.Errorf("%d alerts left queued with %d workers busy, want %d", n, workers, 6-workers)
			}
			close(gw.release)
			eventually(t, "all delivered", func() bool { _, _, done := gw.counts(); return done == 6 })
			if _, most, _ := gw.counts(); most != workers {
				t.Errorf("%d deliveries at once, want %d", most, workers)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name      string
		key       gateway.RateKey
		burst     int
		addresses []string
		waits     []time.Duration
	}{
		{"per transport", gateway.RatePerTransport, 1, []string{"a", "a", "b", "b"}, []time.Duration{500 * ms, 500 * ms, 500 * ms}},
		{"default key is per transport", "", 1, []string{"a", "b"}, []time.Duration{500 * ms}},
		{"per transport with a burst", gateway.RatePerTransport, 2, []string{"a", "b", "c", "d"}, []time.Duration{500 * ms, 500 * ms}},
		{"per address", gateway.RatePerAddress, 1, []string{"a", "a", "b", "b"}, []time.Duration{500 * ms, 500 * ms}},
		{"per address interleaved", gateway.RatePerAddress, 1, []string{"a", "b", "a", "b"}, []time.Duration{500 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			t.Cleanup(func() { st.Close() })
			clock := flapjacktest.NewClock(t0)
			sl := &sleeper{clock: clock}
			gw := &scripted{}
			d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{
				Rate: 2, Burst: tc.burst, RateKey: tc.key, Clock: clock, Sleep: sl.Sleep,
			})
			start(t, d)
			var alerts []flapjack.Alert
			for i, addr := range tc.addresses {
				alerts = append(alerts, testAlert(fmt.Sprint(i), addr))
			}
			push(t, st, queue, alerts...)
			eventually(t, "all delivered", func() bool { return len(gw.Delivered()) == len(alerts) })
			if got := sl.Waits(); !slices.Equal(got, tc.waits) {
				t.Errorf("waited %v, want %v", got, tc.waits)
			}
		})
	}
}

// lifecycle is a gateway with Start and Close.
type lifecycle struct {
	mu         sync.Mutex
	startErrs  []error // returned by the first Starts
	starts     int
	connected  bool
	dropOnce   bool // the first Send finds the connection lost
	sent       int
	closed     int
	sentClosed bool // a Send ran after Close
}

func (g *lifecycle) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.starts++
	if len(g.startErrs) > 0 {
		err := g.startErrs[0]
		g.startErrs = g.startErrs[1:]
		return err
	}
	g.connected = true
	return nil
}

func (g *lifecycle) Send(ctx context.Context, a *flapjack.Alert) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed > 0 {
		g.sentClosed = true
	}
	if g.dropOnce || !g.connected {
		g.dropOnce, g.connected = false, false
		return fmt.Errorf("session: %w", gateway.ErrNotConnected)
	}
	g.sent++
	return nil
}

func (g *lifecycle) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed++
	return nil
}

func (g *lifecycle) state() (starts, sent, closed int, sentClosed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.starts, g.sent, g.closed, g.sentClosed
}

func TestLifecycle(t *testing.T) {
	t.Run("start retried, reconnect, close", func(t *testing.T) {
		st := memory.New()
		t.Cleanup(func() { st.Close() })
		clock := flapjacktest.NewClock(t0)
		sl := &sleeper{clock: clock}
		gw := &lifecycle{startErrs: []error{errors.New("refused"), errors.New("refused")}, dropOnce: true}
		d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{Clock: clock, Sleep: sl.Sleep})
		stop := start(t, d)
		push(t, st, queue, testAlert("a", "ops"), testAlert("b", "ops"))
		eventually(t, "both sent", func() bool { _, sent, _, _ := gw.state(); return sent == 2 })
		stop()
		starts, _, closed, sentClosed := gw.state()
		// Two failed starts and one that worked, then one more after the
		// connection was lost.
		if starts != 4 {
			t.Errorf("Start called %d times, want 4", starts)
		}
		if closed != 1 || sentClosed {
			t.Errorf("Close called %d times (Send after Close: %v), want once, last", closed, sentClosed)
		}
		if s := d.Metrics().Snapshot(); s.Sent != 2 || s.Failed != 1 || s.Retried != 1 {
			t.Errorf("metrics %+v, want 2 sent after 1 failure and 1 retry", s)
		}
	})
	t.Run("permanent start failure", func(t *testing.T) {
		st := memory.New()
		t.Cleanup(func() { st.Close() })
		gw := &lifecycle{startErrs: []error{gateway.Permanent(errors.New("bad credentials"))}}
		d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{})
		err := d.Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "bad credentials") || !gateway.IsPermanent(err) {
			t.Errorf("Run = %v, want the permanent start error", err)
		}
		if _, _, closed, _ := gw.state(); closed != 1 {
			t.Errorf("Close called %d times, want 1", closed)
		}
	})
}

func TestRunTwice(t *testing.T) {
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	gw := &scripted{}
	d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{})
	stop := start(t, d)
	push(t, st, queue, testAlert("a", "ops"))
	eventually(t, "the first Run to work", func() bool { return len(gw.Delivered()) == 1 })
	if err := d.Run(context.Background()); !errors.Is(err, gateway.ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	stop()
	// Once stopped, it may run again.
	stop = start(t, d)
	push(t, st, queue, testAlert("b", "ops"))
	eventually(t, "the second Run to work", func() bool { return len(gw.Delivered()) == 2 })
	stop()
}

func TestQueueFailureEndsRun(t *testing.T) {
	st := memory.New()
	gw := &scripted{always: errors.New("timeout")}
	d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{
		// One worker free to read the queue while the other retries, with a
		// back-off that lasts until the delivery stops its workers.
		Workers: 2,
		Sleep:   func(ctx context.Context, _ time.Duration) error { <-ctx.Done(); return ctx.Err() },
	})
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	push(t, st, queue, testAlert("a", "ops"))
	eventually(t, "the first attempt", func() bool { return gw.Attempts("a") == 1 })
	st.Close()
	select {
	case err := <-done:
		if !errors.Is(err, memory.ErrClosed) || !strings.Contains(err.Error(), queue) {
			t.Errorf("Run = %v, want an error naming the queue and wrapping memory.ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after its store closed")
	}
}

func TestLatencyMetrics(t *testing.T) {
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	clock := flapjacktest.NewClock(t0)
	gw := &scripted{onSend: func() { clock.Advance(30 * time.Millisecond) }}
	d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{Clock: clock})
	start(t, d)
	push(t, st, queue, testAlert("a", "ops"), testAlert("b", "ops"))
	eventually(t, "both sent", func() bool { return d.Metrics().Snapshot().Sent == 2 })
	h := d.Metrics().Snapshot().Latency
	if h.Count != 2 || h.Sum != 60*time.Millisecond {
		t.Errorf("latency count %d sum %s, want 2 and 60ms", h.Count, h.Sum)
	}
	for _, b := range h.Buckets {
		want := uint64(0)
		if b.UpperBound >= 30*time.Millisecond {
			want = 2
		}
		if b.Count != want {
			t.Errorf("bucket ≤%s holds %d, want %d", b.UpperBound, b.Count, want)
		}
	}
}

// TestDeliveryKeepsAddressesOutOfLogs: an address may be a credential (a
// PagerDuty integration key, a webhook URL with a token), so the delivery layer
// never logs it, nor puts it in a dead letter's error.
func TestDeliveryKeepsAddressesOutOfLogs(t *testing.T) {
	const secret = "s3cr3t-integration-key"
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	logs := gatewaytest.NewLogs()
	gw := &scripted{always: &gateway.StatusError{Code: http.StatusServiceUnavailable}}
	d := gateway.NewDelivery(st, transport, queue, gw, gateway.DeliveryOptions{
		MaxAttempts: 2, Logger: logs.Logger(), Rate: 1000, RateKey: gateway.RatePerAddress,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	start(t, d)
	push(t, st, queue, testAlert("a", secret))
	if err := st.Queue(queue).Push(context.Background(), []byte("unreadable "+secret)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "two dead letters", func() bool { return d.Metrics().Snapshot().DeadLettered == 2 })
	dead := deadLetters(t, st)
	texts := logs.Lines()
	for _, dl := range dead {
		texts = append(texts, dl.Error)
	}
	if len(logs.Lines()) < 3 {
		t.Errorf("want a retry line and two dead-letter lines, got:\n%s", strings.Join(logs.Lines(), "\n"))
	}
	gatewaytest.AssertNoSecrets(t, []string{secret}, texts...)
}
