// Package gatewaytest is the conformance suite every gateway passes, in the
// manner of go-cloud's drivertest: a gateway's own tests describe, in a
// [Harness], how to build it against a fake endpoint and how to read back what
// the endpoint received, and [Run] checks what the delivery layer relies on:
//
//   - every kind of alert (problem, recovery, acknowledgement, test, rollup
//     problem, rollup recovery) is delivered without error, once;
//   - a context already cancelled makes Send return promptly with an error
//     wrapping context.Canceled, not marked permanent, and deliver nothing;
//   - each failure of the endpoint is classified as the harness declares:
//     retryable, or [gateway.Permanent];
//   - Send may be called from several goroutines at once;
//   - run by a [gateway.Delivery], failures end in the dead-letter queue and
//     a re-drive delivers them;
//   - no configured secret shows in any error or log line of all of this, in
//     any of the forms [AssertNoSecrets] looks for.
//
// For gateways that speak HTTP, [HTTPEndpoint] is a ready fake endpoint and
// [HTTPFailures] its failures.
package gatewaytest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/store/memory"
)

// wait bounds every wait of the suite: generous for a loaded machine, short
// enough that a hung gateway fails the test instead of stalling it.
const wait = 10 * time.Second

// Harness describes one gateway to [Run].
type Harness struct {
	// Transport is the transport of the alerts sent, normally the one the
	// gateway registers under.
	Transport string
	// New builds the gateway under test, delivering to a fresh fake endpoint,
	// with env: its Logger must receive every log line of the gateway, and an
	// HTTP gateway should use its HTTPClient. New is called once per sub-test;
	// it releases what it starts with t.Cleanup and fails t itself on error.
	New func(t *testing.T, env gateway.Env) Target
	// Failures are the ways the fake endpoint can be made to fail, each with
	// the classification the gateway must give it. Empty for gateways that
	// have no failing endpoint, such as the log gateway.
	Failures []Failure
}

// Target is one gateway under test and its fake endpoint.
type Target struct {
	Gateway gateway.Gateway
	// Address is the medium address of the alerts sent to Gateway.
	Address string
	// Delivered returns what the endpoint received for each alert delivered,
	// oldest first: a request body, a log line. Each entry must show the
	// alert's check name (for a rollup, one of the rolled-up checks).
	Delivered func() []string
	// Fail makes every later delivery fail as the [Failure] of that name;
	// "" makes them succeed again. It may be nil when Harness.Failures is
	// empty.
	Fail func(name string)
	// Secrets are the credentials the gateway was built with (passwords,
	// tokens, keys, secret URLs or their secret parts), which must never show
	// in an error or a log line.
	Secrets []string
}

// Failure is one way a fake endpoint fails.
type Failure struct {
	// Name identifies the failure to Target.Fail.
	Name string
	// Retryable is the classification the gateway must give it: true for a
	// plain error, false for one marked [gateway.Permanent].
	Retryable bool
}

// Kinds lists the kinds of alert every gateway delivers, as [NewAlert] builds
// them.
func Kinds() []string {
	return []string{"problem", "recovery", "acknowledgement", "test", "rollup problem", "rollup recovery"}
}

// NewAlert returns an alert of one of the [Kinds] for transport and address,
// with every field a template may read set. It panics on an unknown kind.
func NewAlert(kind, transport, address string) *flapjack.Alert {
	a := &flapjack.Alert{
		ID: "alert-" + strings.ReplaceAll(kind, " ", "-"), Transport: transport, Address: address,
		MediumID: "medium-1", ContactID: "contact-1", ContactName: "Ada Lovelace",
		CheckID: "check-1", CheckName: "app-01:HTTP",
		Summary: "HTTP 500", Details: "upstream refused the connection",
		Time:              time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC),
		ConditionDuration: 125 * time.Second, EventHash: "a1b2c3d4", EventCount: 3,
	}
	switch kind {
	case "problem":
		a.Type, a.Condition, a.LastCondition = flapjack.TypeProblem, flapjack.Critical, flapjack.OK
	case "recovery":
		a.Type, a.Condition, a.Summary = flapjack.TypeRecovery, flapjack.OK, "HTTP 200"
		a.LastCondition, a.LastSummary = flapjack.Critical, "HTTP 500"
	case "acknowledgement":
		a.Type, a.Condition, a.Action = flapjack.TypeAcknowledgement, flapjack.Critical, flapjack.Acknowledgement
		a.AcknowledgementDuration, a.Summary = 4*time.Hour, "on it"
	case "test":
		a.Type, a.Condition, a.Action = flapjack.TypeTest, flapjack.Critical, flapjack.TestNotifications
		a.Summary = "testing"
	case "rollup problem":
		a.Type, a.Condition, a.Rollup = flapjack.TypeProblem, flapjack.Critical, flapjack.RollupProblem
		a.RollupStates = map[flapjack.Condition][]string{
			flapjack.Critical: {"app-01:HTTP", "app-02:HTTP"},
			flapjack.Warning:  {"db-01:disk"},
		}
		a.RollupThreshold = 3
	case "rollup recovery":
		a.Type, a.Condition, a.Rollup = flapjack.TypeRecovery, flapjack.OK, flapjack.RollupRecovery
		a.RollupStates = map[flapjack.Condition][]string{flapjack.Warning: {"db-01:disk"}}
		a.RollupThreshold = 3
	default:
		panic("gatewaytest: unknown alert kind " + kind)
	}
	return a
}

// shows is the check name a delivery of a must contain.
func shows(a *flapjack.Alert) string {
	if a.Rollup == flapjack.RollupRecovery {
		return a.RollupStates[flapjack.Warning][0]
	}
	return a.CheckName
}

// Run runs the conformance suite against the gateway h describes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Transport == "" || h.New == nil {
		t.Fatal("gatewaytest: the Harness needs a Transport and New")
	}
	t.Run("kinds", func(t *testing.T) {
		for _, kind := range Kinds() {
			t.Run(kind, func(t *testing.T) {
				r := start(t, h)
				a := NewAlert(kind, h.Transport, r.target.Address)
				if err := r.send(context.Background(), a); err != nil {
					t.Fatalf("Send of a %s alert: %v", kind, err)
				}
				got := r.target.Delivered()
				if len(got) != 1 {
					t.Fatalf("the endpoint received %d deliveries of one %s alert, want 1", len(got), kind)
				}
				if !strings.Contains(got[0], shows(a)) {
					t.Errorf("the %s delivery does not show %q:\n%s", kind, shows(a), got[0])
				}
			})
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		r := start(t, h)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := r.send(ctx, NewAlert("problem", h.Transport, r.target.Address))
		switch {
		case err == nil:
			t.Fatal("Send with a cancelled context returned nil")
		case !errors.Is(err, context.Canceled):
			t.Errorf("Send with a cancelled context: %v, want an error wrapping context.Canceled", err)
		case gateway.IsPermanent(err):
			t.Errorf("Send with a cancelled context: %v is marked permanent, so the alert would be dead-lettered", err)
		}
		if n := len(r.target.Delivered()); n != 0 {
			t.Errorf("%d deliveries with a cancelled context, want none", n)
		}
	})
	t.Run("failures", func(t *testing.T) {
		if len(h.Failures) == 0 {
			t.Skip("the harness declares no failures")
		}
		for _, f := range h.Failures {
			t.Run(f.Name, func(t *testing.T) {
				r := start(t, h)
				r.target.Fail(f.Name)
				a := NewAlert("problem", h.Transport, r.target.Address)
				err := r.send(context.Background(), a)
				if err == nil {
					t.Fatalf("Send returned nil from an endpoint failing with %s", f.Name)
				}
				if gateway.IsPermanent(err) == f.Retryable {
					t.Errorf("Send failing with %s: %v; want retryable %v, got permanent %v", f.Name, err, f.Retryable, gateway.IsPermanent(err))
				}
				r.target.Fail("")
				if err := r.send(context.Background(), a); err != nil {
					t.Fatalf("Send once the endpoint recovered: %v", err)
				}
				if n := len(r.target.Delivered()); n != 1 {
					t.Errorf("%d deliveries, want the 1 after recovery", n)
				}
			})
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		r := start(t, h)
		const n = 8
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				a := NewAlert(Kinds()[i%len(Kinds())], h.Transport, r.target.Address)
				if err := r.send(context.Background(), a); err != nil {
					t.Errorf("concurrent Send: %v", err)
				}
			})
		}
		wg.Wait()
		if got := len(r.target.Delivered()); got != n {
			t.Errorf("%d deliveries of %d concurrent alerts", got, n)
		}
	})
	t.Run("delivery", func(t *testing.T) { runDelivery(t, h) })
}

// run is one gateway under test, with everything it said.
type run struct {
	target Target
	logs   *Logs
	mu     sync.Mutex
	errs   []string
}

// start builds a target whose errors and logs are checked for secrets when the
// test ends.
func start(t *testing.T, h Harness) *run {
	t.Helper()
	r := &run{logs: NewLogs()}
	env := gateway.Env{
		Logger:     r.logs.Logger(),
		Clock:      flapjack.ClockFunc(func() time.Time { return time.Date(2016, 2, 1, 12, 0, 5, 0, time.UTC) }),
		HTTPClient: &http.Client{Timeout: wait},
	}.WithDefaults()
	r.target = h.New(t, env)
	if r.target.Gateway == nil || r.target.Delivered == nil {
		t.Fatal("gatewaytest: the Target needs a Gateway and Delivered")
	}
	if len(h.Failures) > 0 && r.target.Fail == nil {
		t.Fatal("gatewaytest: the harness declares failures but the Target has no Fail")
	}
	t.Cleanup(func() {
		r.mu.Lock()
		texts := slices.Concat(r.errs, r.logs.Lines())
		r.mu.Unlock()
		AssertNoSecrets(t, r.target.Secrets, texts...)
	})
	return r
}

// send calls Send, failing the test if it does not return within wait, and
// keeps the error's text.
func (r *run) send(ctx context.Context, a *flapjack.Alert) error {
	done := make(chan error, 1)
	go func() { done <- r.target.Gateway.Send(ctx, a) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(wait):
		err = errors.New("gatewaytest: Send did not return within " + wait.String())
	}
	r.keep(err)
	return err
}

func (r *run) keep(err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err.Error())
}

// runDelivery runs the gateway under a Delivery: a failing alert is
// dead-lettered, and re-driven once the endpoint recovers.
func runDelivery(t *testing.T, h Harness) {
	r := start(t, h)
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	const queue = "gatewaytest_notifications"
	d := gateway.NewDelivery(st, h.Transport, queue, r.target.Gateway, gateway.DeliveryOptions{
		MaxAttempts: 2,
		Logger:      r.logs.Logger(),
		Sleep:       func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Delivery.Run: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("Delivery.Run did not return within %s of cancellation", wait)
		}
	}()

	payload, err := NewAlert("problem", h.Transport, r.target.Address).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Failures) > 0 {
		f := h.Failures[0]
		r.target.Fail(f.Name)
		if err := st.Queue(queue).Push(ctx, payload); err != nil {
			t.Fatal(err)
		}
		poll(t, "the failing alert to be dead-lettered", func() bool { return d.Metrics().Snapshot().DeadLettered == 1 })
		dead, err := d.DeadLetters(ctx, 0)
		if err != nil || len(dead) != 1 {
			t.Fatalf("DeadLetters = %v, %v; want the one alert", dead, err)
		}
		r.keep(errors.New(dead[0].Error))
		wantAttempts := 1
		if f.Retryable {
			wantAttempts = 2
		}
		if dl := dead[0]; dl.Attempts != wantAttempts || dl.Permanent == f.Retryable || dl.Error == "" || dl.Transport != h.Transport {
			t.Errorf("dead letter after %s: %+v; want %d attempts, permanent %v, an error", f.Name, dl, wantAttempts, !f.Retryable)
		}
		r.target.Fail("")
		if n, err := d.Redrive(ctx, 0); n != 1 || err != nil {
			t.Fatalf("Redrive = %d, %v; want 1", n, err)
		}
	} else if err := st.Queue(queue).Push(ctx, payload); err != nil {
		t.Fatal(err)
	}
	poll(t, "the delivery", func() bool { return len(r.target.Delivered()) == 1 })
	poll(t, "the delivery to be counted", func() bool { return d.Metrics().Snapshot().Sent == 1 })
}

// poll waits until cond holds, failing t after wait.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", wait, what)
		}
		time.Sleep(time.Millisecond)
	}
}
