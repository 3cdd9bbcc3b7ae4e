package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/redistest"
)

// fakeTimer is a clock that waiting moves forward.
type fakeTimer struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeTimer) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	c := make(chan time.Time, 1)
	c <- f.now
	return c
}

func TestSimulation(t *testing.T) {
	start := time.Date(2024, 5, 15, 14, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name               string
		state              string
		recover            bool
		duration, interval time.Duration
		wantStates         []string
		wantLines          []string
	}{{
		name: "fail for 45 s every 10 s", state: "critical", duration: 45 * time.Second, interval: 10 * time.Second,
		wantStates: []string{"critical", "critical", "critical", "critical", "critical", "critical"},
		wantLines: []string{
			"2024-05-15 14:30:00 +0000: sending failure event (critical) for web-01:HTTP",
			"2024-05-15 14:30:10 +0000: sending failure event (critical) for web-01:HTTP",
			"2024-05-15 14:30:20 +0000: sending failure event (critical) for web-01:HTTP",
			"2024-05-15 14:30:30 +0000: sending failure event (critical) for web-01:HTTP",
			"2024-05-15 14:30:40 +0000: sending failure event (critical) for web-01:HTTP",
			"2024-05-15 14:30:50 +0000: sending failure event (critical) for web-01:HTTP",
			"2024-05-15 14:30:50 +0000: stopping",
		},
	}, {
		name: "fail and recover", state: "warning", recover: true, duration: 1500 * time.Millisecond, interval: 500 * time.Millisecond,
		wantStates: []string{"warning", "warning", "warning", "warning", "ok"},
		wantLines: []string{
			"2024-05-15 14:30:00 +0000: sending failure event (warning) for web-01:HTTP",
			"2024-05-15 14:30:00 +0000: sending failure event (warning) for web-01:HTTP",
			"2024-05-15 14:30:01 +0000: sending failure event (warning) for web-01:HTTP",
			"2024-05-15 14:30:01 +0000: sending failure event (warning) for web-01:HTTP",
			"2024-05-15 14:30:01 +0000: stopping",
			"sending recovery event for web-01:HTTP",
		},
	}, {
		name: "ok, once", state: "ok", duration: 0, interval: time.Second,
		wantStates: []string{"ok"},
		wantLines: []string{
			"2024-05-15 14:30:00 +0000: sending ok event for web-01:HTTP",
			"2024-05-15 14:30:00 +0000: stopping",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeTimer{now: start}
			var sent []flapjack.Event
			var out bytes.Buffer
			sim := simulation{
				check: "web-01:HTTP", state: tc.state, recover: tc.recover, duration: tc.duration, interval: tc.interval,
				send: func(_ context.Context, ev flapjack.Event) error { sent = append(sent, ev); return nil },
				out:  &out, clock: clock, after: clock.after,
			}
			if err := sim.run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(tc.wantLines, "\n") {
				t.Errorf("printed:\n%s\nwant:\n%s", out.String(), strings.Join(tc.wantLines, "\n"))
			}
			var states []string
			for _, ev := range sent {
				states = append(states, ev.State)
				if ev.Check != "web-01:HTTP" || ev.Entity != "" || ev.Summary != simulatedSummary || ev.Time < start.Unix() || ev.Time > clock.Now().Unix() {
					t.Errorf("sent %+v", ev)
				}
				if err := ev.Validate(); err != nil {
					t.Errorf("sent an invalid event %+v: %v", ev, err)
				}
			}
			if strings.Join(states, ",") != strings.Join(tc.wantStates, ",") {
				t.Errorf("sent states %v, want %v", states, tc.wantStates)
			}
		})
	}
}

func TestSimulationStops(t *testing.T) {
	errDown := errors.New("intake down")
	for _, tc := range []struct {
		name     string
		send     func(ctx context.Context, cancel func()) error
		wantErr  error
		wantLast string
	}{
		{"interrupted while waiting", func(context.Context, func()) error { return nil }, nil, "interrupted, stopping"},
		{"interrupted while sending", func(ctx context.Context, cancel func()) error { cancel(); return ctx.Err() }, nil, "interrupted, stopping"},
		{"send fails", func(context.Context, func()) error { return errDown }, errDown, "sending failure event (critical) for HTTP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var out bytes.Buffer
			sends := 0
			sim := simulation{
				check: "HTTP", state: "critical", recover: true, duration: time.Hour, interval: time.Second,
				send: func(ctx context.Context, _ flapjack.Event) error {
					sends++
					return tc.send(ctx, cancel)
				},
				out: &out, clock: flapjack.SystemClock{},
				after: func(time.Duration) <-chan time.Time { cancel(); return make(chan time.Time) },
			}
			err := sim.run(ctx)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("run = %v, want %v", err, tc.wantErr)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if last := lines[len(lines)-1]; !strings.HasSuffix(last, tc.wantLast) {
				t.Errorf("last line %q, want it to end with %q", last, tc.wantLast)
			}
			if sends != 1 || strings.Contains(out.String(), "recovery") {
				t.Errorf("sent %d events and printed\n%s\nwant one event and no recovery", sends, &out)
			}
		})
	}
}

// intakeRecorder is an HTTP event intake that keeps what it is sent.
type intakeRecorder struct {
	mu     sync.Mutex
	events []flapjack.Event
	status int
}

func (rec *intakeRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/events" || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, fmt.Sprintf("unexpected %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type")), http.StatusBadRequest)
		return
	}
	ev, err := flapjack.ParseEvent(body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err != nil || rec.status != 0 {
		w.WriteHeader(cmp.Or(rec.status, http.StatusUnprocessableEntity))
		fmt.Fprintf(w, `{"error":"rejected %v"}`, err)
		return
	}
	rec.events = append(rec.events, ev)
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"accepted":1,"rejected":[]}`)
}

func (rec *intakeRecorder) states() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var s []string
	for _, ev := range rec.events {
		if ev.Check != "web-01:HTTP" || ev.Summary != simulatedSummary {
			s = append(s, fmt.Sprintf("unexpected %+v", ev))
			continue
		}
		s = append(s, ev.State)
	}
	return strings.Join(s, ",")
}

func TestSimulateCommand(t *testing.T) {
	rec := &intakeRecorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	port := srv.Listener.Addr().String()[strings.LastIndexByte(srv.Listener.Addr().String(), ':')+1:]
	cfg := writeFile(t, t.TempDir(), "flapjack.toml", "[gateways.jsonapi]\nbind_address = \"0.0.0.0\"\nport = "+port+"\ntokens_write = [\"w\"]\n")
	for _, tc := range []struct {
		name   string
		args   []string
		states string
		lines  []string
	}{{
		name:   "fail and recover through --intake",
		args:   []string{"simulate", "fail_and_recover", "-k", "web-01:HTTP", "-s", "warning", "-t", "0.002", "-i", "0.05", "-T", "a,b", "--intake", srv.URL},
		states: "warning,warning,", // and more: how many depends on the machine's speed
		lines:  []string{": sending failure event (warning) for web-01:HTTP\n", ": stopping\n", "\nsending recovery event for web-01:HTTP\n"},
	}, {
		name:   "ok through the configured intake",
		args:   []string{"simulate", "ok", "--config", cfg, "-k", "web-01:HTTP", "-t", "0", "-i", "1"},
		states: "ok",
		lines:  []string{": sending ok event for web-01:HTTP\n", ": stopping\n"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.events = nil
			rec.mu.Unlock()
			r := runFlapjack(t, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			got := rec.states()
			if !strings.HasPrefix(got, tc.states) && got != tc.states {
				t.Errorf("the intake received %s, want %s", got, tc.states)
			}
			// One line per event, and the recovery last.
			if sent := strings.Count(r.stdout, "sending"); sent != strings.Count(got, ",")+1 {
				t.Errorf("printed %d events, the intake received %s:\n%s", sent, got, r.stdout)
			}
			if strings.Contains(r.stdout, "recovery") && !strings.HasSuffix(got, ",ok") {
				t.Errorf("the intake received %s, want a final ok", got)
			}
			for _, l := range tc.lines {
				if !strings.Contains(r.stdout, l) {
					t.Errorf("stdout lacks %q:\n%s", l, r.stdout)
				}
			}
		})
	}

	rejecting := &intakeRecorder{status: http.StatusServiceUnavailable}
	down := httptest.NewServer(rejecting)
	defer down.Close()
	noIntake := writeFile(t, t.TempDir(), "quiet.toml", "[processor]\nqueue = \"events\"\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"simulate", "fail", "--intake", down.URL + "/events"}, 1, "503 Service Unavailable"},
		{[]string{"simulate", "fail", "-s", "ok", "--intake", srv.URL}, 2, `--state "ok": want critical, warning or unknown`},
		{[]string{"simulate", "fail", "-i", "0", "--intake", srv.URL}, 2, "--interval 0: want more than 0 seconds"},
		{[]string{"simulate", "ok", "-t", "-1", "--intake", srv.URL}, 2, "--time -1: want 0 minutes or more"},
		{[]string{"simulate", "ok", "-k", "", "--intake", srv.URL}, 2, "--check: name the check"},
		{[]string{"simulate", "ok", "--intake", "127.0.0.1:3081"}, 2, "want an http:// or https:// URL"},
		{[]string{"simulate", "ok", "--config", noIntake}, 2, "no [redis] table and no event intake"},
		{[]string{"simulate", "ok", "-s", "critical"}, 1, "unknown shorthand flag: 's'"},
	} {
		r := runFlapjack(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("flapjack %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.want)
		}
	}
}

// With a [redis] table the events go onto the configured events queue, as
// Flapjack's producers push them.
func TestSimulateOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	cfg := writeFile(t, t.TempDir(), "flapjack.toml", fmt.Sprintf("[redis]\nurl = %q\n\n[processor]\nqueue = \"my_events\"\n", srv.URL(2)))
	r := runFlapjack(t, "simulate", "fail_and_recover", "--config", cfg, "-k", "web-01:HTTP", "-t", "0", "-i", "1")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DB: 2})
	defer rdb.Close()
	items, err := rdb.LRange(t.Context(), "my_events", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for i := len(items) - 1; i >= 0; i-- { // LPUSHed: the oldest is last
		ev, err := flapjack.ParseEvent([]byte(items[i]))
		if err != nil || ev.Check != "web-01:HTTP" || ev.Summary != simulatedSummary {
			t.Errorf("queued %s (%v)", items[i], err)
		}
		states = append(states, ev.State)
	}
	if strings.Join(states, ",") != "critical,ok" {
		t.Errorf("queued states %v, want critical then ok", states)
	}
}
