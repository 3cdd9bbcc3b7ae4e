package oobetet_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack/oobetet"
)

const check = "flapper.example.org:Flapper"

const (
	problemBreach  = "haven't seen a test problem notification in the last 300 seconds"
	recoveryBreach = "haven't seen a test recovery notification in the last 300 seconds"
)

// critical is the announcement of breach at t on host mon-01.
func critical(breach string, t time.Time) string {
	return "Flapjack Self Monitoring is Critical: " + breach + ` for "` + check + `", from mon-01 at ` +
		t.Format("2006-01-02 15:04:05 -0700")
}

func newOobetet(t *testing.T, opts oobetet.Options) *oobetet.Oobetet {
	t.Helper()
	if opts.WatchedCheck == "" {
		opts.WatchedCheck = check
	}
	if opts.Hostname == "" {
		opts.Hostname = "mon-01"
	}
	o, err := oobetet.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts oobetet.Options
		want []string // substrings of the error; none: no error
	}{
		{"minimal", oobetet.Options{WatchedCheck: check}, nil},
		{"no check", oobetet.Options{}, []string{"watched_check is required"}},
		{"blank check", oobetet.Options{WatchedCheck: "  "}, []string{"watched_check is required"}},
		{"negative durations", oobetet.Options{WatchedCheck: check, MaxLatency: -1, Tick: -time.Second, Throttle: -time.Minute},
			[]string{"max_latency: -1ns is negative", "tick: -1s is negative", "throttle: -1m0s is negative"}},
		{"everything wrong at once", oobetet.Options{MaxLatency: -1}, []string{"watched_check", "max_latency"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := oobetet.New(tc.opts)
			if tc.want == nil {
				if err != nil || o == nil {
					t.Fatalf("New() = %v, %v; want an oobetet", o, err)
				}
				return
			}
			if err == nil {
				t.Fatal("New() succeeded; want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := newClock()
	o := newOobetet(t, oobetet.Options{Clock: c})
	// max_latency defaults to 300 s.
	if b, ok := o.Evaluate(start.Add(300 * time.Second)); ok {
		t.Errorf("at 300 s: breach %q; want none", b)
	}
	if b, _ := o.Evaluate(start.Add(301 * time.Second)); b != problemBreach {
		t.Errorf("at 301 s: breach %q; want %q", b, problemBreach)
	}
	if got := o.IncidentKey(); got != "Flapjack Self Monitoring from mon-01" {
		t.Errorf("IncidentKey() = %q", got)
	}
	// The hostname defaults to the machine's.
	o, err := oobetet.New(oobetet.Options{WatchedCheck: check})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.IncidentKey(); got == "Flapjack Self Monitoring from " {
		t.Errorf("IncidentKey() = %q: no hostname", got)
	}
}

// E.6 row 1: a received alert sets the last time of its kind, and of no other.
func TestRecord(t *testing.T) {
	x := start.Add(-42 * time.Minute)
	for _, k := range []oobetet.Kind{oobetet.Problem, oobetet.Recovery, oobetet.Acknowledgement} {
		t.Run(string(k), func(t *testing.T) {
			o := newOobetet(t, oobetet.Options{Clock: newClock()})
			o.Record(k, x)
			for _, other := range []oobetet.Kind{oobetet.Problem, oobetet.Recovery, oobetet.Acknowledgement} {
				want := start // all the times start at now
				if other == k {
					want = x
				}
				if got := o.Last(other); !got.Equal(want) {
					t.Errorf("Last(%s) = %v; want %v", other, got, want)
				}
			}
		})
	}
	o := newOobetet(t, oobetet.Options{Clock: newClock()})
	o.Record("test", x) // not a kind: ignored
	if got := o.Last("test"); !got.IsZero() {
		t.Errorf("Last(test) = %v; want zero", got)
	}
}

// E.6 rows 2, 3 and the derived 299 s row, with the edges around them.
func TestEvaluate(t *testing.T) {
	day, minute := 24*time.Hour, time.Minute
	for _, tc := range []struct {
		name                 string
		problemAge, recovAge time.Duration
		maxLatency           time.Duration
		want                 string
	}{
		{"problem 1 day ago, recovery 1 min ago", day, minute, 0, problemBreach},
		{"problem 1 min ago, recovery 1 day ago", minute, day, 0, recoveryBreach},
		{"both 299 s old", 299 * time.Second, 299 * time.Second, 0, ""},
		{"both exactly 300 s old", 300 * time.Second, 300 * time.Second, 0, ""},
		{"problem 300.001 s old", 300*time.Second + time.Millisecond, 0, 0, problemBreach},
		{"both old: the problem is reported", day, day, 0, problemBreach},
		{"both fresh", 0, 0, 0, ""},
		{"acknowledgements are never checked", 0, 0, 0, ""},
		{"other max latency", 61 * time.Second, 0, time.Minute,
			"haven't seen a test problem notification in the last 60 seconds"},
		{"fractional max latency", 0, 2 * time.Second, 1500 * time.Millisecond,
			"haven't seen a test recovery notification in the last 1.5 seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			o := newOobetet(t, oobetet.Options{Clock: c, MaxLatency: tc.maxLatency})
			now := start.Add(48 * time.Hour)
			o.Record(oobetet.Problem, now.Add(-tc.problemAge))
			o.Record(oobetet.Recovery, now.Add(-tc.recovAge))
			o.Record(oobetet.Acknowledgement, start.Add(-day)) // never checked
			got, ok := o.Evaluate(now)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Evaluate() = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		body string
		kind oobetet.Kind // "": no match
	}{
		{`Problem: flapjack: ACKID a1b2c3d4, "flapper.example.org:Flapper" is Critical, connection refused`, oobetet.Problem},
		{`PROBLEM: "flapper.example.org:Flapper" is Critical`, oobetet.Problem},
		{`problem "flapper.example.org:Flapper"`, oobetet.Problem},
		{`Recovery: "flapper.example.org:Flapper" is OK, TCP OK`, oobetet.Recovery},
		{`rEcOvErY: "flapper.example.org:Flapper" is OK`, oobetet.Recovery},
		{`Acknowledgement: "flapper.example.org:Flapper" has been acknowledged, looking into it`, oobetet.Acknowledgement},
		// Without the double quotes.
		{`Problem: flapper.example.org:Flapper is Critical`, ""},
		{`Problem: 'flapper.example.org:Flapper' is Critical`, ""},
		// Another check, or the check's name as part of another.
		{`Problem: "app-01:HTTP" is Critical`, ""},
		{`Problem: "xflapper.example.org:Flapper" is Critical`, ""},
		{`Problem: "flapper.example.org:Flapper2" is Critical`, ""},
		{`Problem: "FLAPPER.EXAMPLE.ORG:FLAPPER" is Critical`, ""},
		// Not at the start.
		{` Problem: "flapper.example.org:Flapper" is Critical`, ""},
		{`Re: Problem: "flapper.example.org:Flapper" is Critical`, ""},
		// Other kinds of message.
		{`Test: "flapper.example.org:Flapper", testing`, ""},
		{`Prob "flapper.example.org:Flapper"`, ""},
		{`Flapjack Self Monitoring is Critical: haven't seen a test problem notification in the last 300 seconds for "flapper.example.org:Flapper", from mon-01 at 2013-02-01 12:00:00 +0000`, ""},
		{``, ""},
	} {
		t.Run(tc.body, func(t *testing.T) {
			k, ok := oobetet.Match(tc.body, check)
			if k != tc.kind || ok != (tc.kind != "") {
				t.Errorf("Match() = %q, %v; want %q", k, ok, tc.kind)
			}
		})
	}
	if _, ok := oobetet.Match(`Problem: ""`, ""); ok {
		t.Error("Match with no check matched")
	}
}

func TestReceive(t *testing.T) {
	at := start.Add(90 * time.Second)
	for _, tc := range []struct {
		name string
		m    oobetet.Message
		kind oobetet.Kind // "": ignored
	}{
		{"problem", oobetet.Message{From: "flapjack", Body: `Problem: "` + check + `" is Critical`}, oobetet.Problem},
		{"recovery", oobetet.Message{From: "flapjack", Body: `Recovery: "` + check + `" is OK`}, oobetet.Recovery},
		{"acknowledgement", oobetet.Message{From: "ops", Body: `acknowledgement: "` + check + `" acked`}, oobetet.Acknowledgement},
		{"own message", oobetet.Message{From: "oobetet", Body: `Problem: "` + check + `" is Critical`, Self: true}, ""},
		{"other check", oobetet.Message{From: "flapjack", Body: `Problem: "app-01:HTTP" is Critical`}, ""},
		{"chatter", oobetet.Message{From: "ops", Body: "anyone seen the flapper?"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			o := newOobetet(t, oobetet.Options{Clock: c})
			c.Set(at)
			k, ok := o.Receive(tc.m)
			if k != tc.kind || ok != (tc.kind != "") {
				t.Fatalf("Receive() = %q, %v; want %q", k, ok, tc.kind)
			}
			for _, kind := range []oobetet.Kind{oobetet.Problem, oobetet.Recovery, oobetet.Acknowledgement} {
				want := start
				if kind == tc.kind {
					want = at // the receipt time
				}
				if got := o.Last(kind); !got.Equal(want) {
					t.Errorf("Last(%s) = %v; want %v", kind, got, want)
				}
			}
		})
	}
}

// step is one tick of a script: the clock is set to start+at, the alerts
// listed are received just before, then the oobetet ticks.
type step struct {
	at       time.Duration
	received []oobetet.Kind
	said     []string // what the rooms hear
	paged    []string // "trigger <summary>" or "resolve"
}

// E.6 rows 4 and the derived throttle and clear rows, as scripts of ticks.
func TestTickScripts(t *testing.T) {
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	at := func(n int) time.Time { return start.Add(s(n)) }
	T := 310 // the first tick with a breach: both are 310 s old
	crit := func(breach string, n int) string { return critical(breach, at(n)) }
	trig := func(breach string, n int) string { return "trigger " + crit(breach, n) }

	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"no breach within max latency", []step{
			{at: s(10)}, {at: s(290)}, {at: s(300)},
		}},
		{"breach: announce and trigger", []step{
			{at: s(300)},
			{at: s(T), said: []string{crit(problemBreach, T)}, paged: []string{trig(problemBreach, T)}},
		}},
		{"throttle: silent T+10…T+50, alerts again at the first tick after T+55", []step{
			{at: s(T), said: []string{crit(problemBreach, T)}, paged: []string{trig(problemBreach, T)}},
			{at: s(T + 10)}, {at: s(T + 20)}, {at: s(T + 30)}, {at: s(T + 40)}, {at: s(T + 50)},
			{at: s(T + 55)}, // exactly the throttle: not yet
			{at: s(T + 60), said: []string{crit(problemBreach, T+60)}, paged: []string{trig(problemBreach, T+60)}},
			{at: s(T + 70)},
			{at: s(T + 120), said: []string{crit(problemBreach, T+120)}, paged: []string{trig(problemBreach, T+120)}},
		}},
		{"a changed breach is throttled too", []step{
			{at: s(T), said: []string{crit(problemBreach, T)}, paged: []string{trig(problemBreach, T)}},
			{at: s(T + 10), received: []oobetet.Kind{oobetet.Problem}}, // now the recovery is missing
			{at: s(T + 60), said: []string{crit(recoveryBreach, T+60)}, paged: []string{trig(recoveryBreach, T+60)}},
		}},
		{"clear: OK and resolve, once", []step{
			{at: s(T), said: []string{crit(problemBreach, T)}, paged: []string{trig(problemBreach, T)}},
			{at: s(T + 10)},
			{at: s(T + 20), received: []oobetet.Kind{oobetet.Problem, oobetet.Recovery},
				said: []string{"Flapjack Self Monitoring is OK"}, paged: []string{"resolve"}},
			{at: s(T + 30)},
		}},
		{"a new breach after a clear is announced at once", []step{
			{at: s(T), said: []string{crit(problemBreach, T)}, paged: []string{trig(problemBreach, T)}},
			{at: s(T + 10), received: []oobetet.Kind{oobetet.Problem, oobetet.Recovery},
				said: []string{"Flapjack Self Monitoring is OK"}, paged: []string{"resolve"}},
			{at: s(T + 320), said: []string{crit(problemBreach, T+320)}, paged: []string{trig(problemBreach, T+320)}},
		}},
		{"acknowledgements clear nothing", []step{
			{at: s(T), said: []string{crit(problemBreach, T)}, paged: []string{trig(problemBreach, T)}},
			{at: s(T + 10), received: []oobetet.Kind{oobetet.Acknowledgement}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			r := newRoom()
			p := &fakePager{}
			o := newOobetet(t, oobetet.Options{Clock: c, Room: r, Pager: p})
			for _, st := range tc.steps {
				c.Set(start.Add(st.at))
				for _, k := range st.received {
					o.Record(k, c.Now())
				}
				o.Tick(context.Background())
				if got := r.take(); !slices.Equal(got, st.said) {
					t.Errorf("at +%s: rooms heard %q; want %q", st.at, got, st.said)
				}
				if got := p.take(); !slices.Equal(got, st.paged) {
					t.Errorf("at +%s: paged %q; want %q", st.at, got, st.paged)
				}
			}
		})
	}
}

// fakePager records the pages: "trigger <summary>" and "resolve".
type fakePager struct {
	mu    sync.Mutex
	pages []string
	err   error
}

func (p *fakePager) Trigger(_ context.Context, in oobetet.Incident) error {
	return p.add(in, "trigger "+in.Summary)
}

func (p *fakePager) Resolve(_ context.Context, in oobetet.Incident) error {
	return p.add(in, "resolve")
}

func (p *fakePager) add(in oobetet.Incident, s string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.Key != "Flapjack Self Monitoring from mon-01" || in.Host != "mon-01" {
		return fmt.Errorf("incident %+v", in)
	}
	if p.err != nil {
		return p.err
	}
	p.pages = append(p.pages, s)
	return nil
}

func (p *fakePager) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.pages
	p.pages = nil
	return s
}

// E.6 row 4 against an HTTP PagerDuty answering 200 {"status":"success"}.
func TestTickPagerDuty(t *testing.T) {
	c := newClock()
	r := newRoom()
	srv := newPD(t)
	srv.setStatus(http.StatusOK)
	o := newOobetet(t, oobetet.Options{Clock: c, Room: r, Pager: srv.pager()})
	c.Set(start.Add(24 * time.Hour))
	o.Tick(context.Background())
	said := r.take()
	if len(said) != 1 || !strings.HasPrefix(said[0], "Flapjack Self Monitoring is Critical") {
		t.Errorf("rooms heard %q; want one announcement starting \"Flapjack Self Monitoring is Critical\"", said)
	}
	want := []string{fmt.Sprintf(triggerBody, critical(problemBreach, c.Now()))}
	if got := srv.take(); !slices.Equal(got, want) {
		t.Errorf("PagerDuty got\n%q\nwant\n%q", got, want)
	}
	o.Record(oobetet.Problem, c.Now())
	o.Record(oobetet.Recovery, c.Now())
	o.Tick(context.Background())
	if got, want := srv.take(), []string{resolveBody}; !slices.Equal(got, want) {
		t.Errorf("PagerDuty got\n%q\nwant\n%q", got, want)
	}
}

// When neither the rooms nor the pager can be told, the oobetet says so in
// its log, and keeps the throttle.
func TestTickUnableToTell(t *testing.T) {
	for _, tc := range []struct {
		name      string
		roomErr   error
		pagerErr  error
		noRoom    bool
		noPager   bool
		wantPanic bool // the DON'T PANIC notice
	}{
		{name: "both fail", roomErr: errors.New("not connected"), pagerErr: errors.New("HTTP 500"), wantPanic: true},
		{name: "neither configured", noRoom: true, noPager: true, wantPanic: true},
		{name: "room fails, pager works", roomErr: errors.New("not connected")},
		{name: "pager fails, room works", pagerErr: errors.New("HTTP 500")},
		{name: "no pager", noPager: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := newClock()
			opts := oobetet.Options{Clock: c, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			if !tc.noRoom {
				r := newRoom()
				r.err = tc.roomErr
				opts.Room = r
			}
			if !tc.noPager {
				opts.Pager = &fakePager{err: tc.pagerErr}
			}
			o := newOobetet(t, opts)
			c.Set(start.Add(time.Hour))
			o.Tick(context.Background())
			out := logs.String()
			if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, problemBreach) {
				t.Errorf("the breach was not logged as an error:\n%s", out)
			}
			notice := "unable to tell anyone about it. DON'T PANIC."
			if got := strings.Contains(out, notice); got != tc.wantPanic {
				t.Errorf("notice logged: %v; want %v:\n%s", got, tc.wantPanic, out)
			}
			// The next tick is throttled: the breach is logged, the notice is not.
			logs.Reset()
			c.Set(start.Add(time.Hour + 10*time.Second))
			o.Tick(context.Background())
			if out := logs.String(); strings.Contains(out, notice) || !strings.Contains(out, problemBreach) {
				t.Errorf("throttled tick logged:\n%s", out)
			}
		})
	}
}
