package notifier_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/x/flapjack/flapjacktest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

func TestShouldSend(t *testing.T) {
	const ms = 0.001
	problem := func(c flapjack.Condition, s float64) *flapjack.State {
		return &flapjack.State{CreatedAt: at(s), Condition: c}
	}
	ack := func(c flapjack.Condition, s float64) *flapjack.State {
		return &flapjack.State{CreatedAt: at(s), Condition: c, Action: flapjack.Acknowledgement}
	}
	crit, warn, ok := flapjack.Critical, flapjack.Warning, flapjack.OK
	tests := []struct {
		name       string
		last       *flapjack.State
		lastRollup flapjack.Rollup
		st         *flapjack.State
		isOK       bool
		rollup     flapjack.Rollup
		interval   int64
		send       bool
	}{
		{"first alert on the medium", nil, "", problem(crit, 0), false, "", 600, true},
		{"first alert on the medium, a recovery", nil, "", problem(ok, 0), true, "", 600, true},
		{"alike problem within the interval", problem(crit, 0), "", problem(crit, 599), false, "", 600, false},
		{"alike problem exactly at the interval", problem(crit, 0), "", problem(crit, 600), false, "", 600, false},
		{"alike problem just after the interval", problem(crit, 0), "", problem(crit, 600+ms), false, "", 600, true},
		{"interval 0, same instant", problem(crit, 0), "", problem(crit, 0), false, "", 0, false},
		{"interval 0, 1 ms later", problem(crit, 0), "", problem(crit, ms), false, "", 0, true},
		{"negative interval counts as 0", problem(crit, 0), "", problem(crit, ms), false, "", -600, true},
		{"condition changed", problem(warn, 0), "", problem(crit, 10), false, "", 600, true},
		{"recovery after a problem", problem(crit, 0), "", problem(ok, 10), true, "", 600, true},
		{"acknowledgement after a problem", problem(crit, 0), "", ack(crit, 10), true, "", 600, true},
		{"problem after a recovery", problem(ok, 0), "", problem(crit, 10), false, "", 600, true},
		{"problem after an acknowledgement", ack(crit, 0), "", problem(crit, 10), false, "", 600, true},
		{"second acknowledgement within the interval", ack(crit, 0), "", ack(crit, 10), true, "", 600, false},
		{"second acknowledgement after the interval", ack(crit, 0), "", ack(crit, 600+ms), true, "", 600, true},
		{"recovery after a recovery within the interval", problem(ok, 0), "", problem(ok, 10), true, "", 600, false},
		{"recovery after an acknowledgement", ack(crit, 0), "", problem(ok, 10), true, "", 600, true},
		{"entering summary mode", problem(crit, 0), "", problem(crit, 10), false, flapjack.RollupProblem, 600, true},
		{"in summary mode within the interval", problem(crit, 0), flapjack.RollupProblem, problem(crit, 10), false, flapjack.RollupProblem, 600, false},
		{"leaving summary mode", problem(crit, 0), flapjack.RollupProblem, problem(crit, 10), false, flapjack.RollupRecovery, 600, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			remembered := flapjack.MediumState{LastState: tt.last, LastRollupType: tt.lastRollup}
			send, why := notifier.ShouldSend(remembered, *tt.st, tt.isOK, tt.rollup, tt.interval)
			if send != tt.send {
				t.Errorf("ShouldSend(last %+v rollup %q; now %+v ok %v rollup %q; interval %d) = %v (%s), want %v",
					tt.last, tt.lastRollup, tt.st, tt.isOK, tt.rollup, tt.interval, send, why, tt.send)
			}
			if why == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestRollupFor(t *testing.T) {
	tests := []struct {
		threshold int64
		alerting  int
		last      flapjack.Rollup
		want      flapjack.Rollup
	}{
		{0, 10, "", ""},
		{-1, 10, "", ""},
		{0, 10, flapjack.RollupProblem, flapjack.RollupRecovery}, // summary mode switched off meanwhile
		{3, 2, "", ""},
		{3, 3, "", flapjack.RollupProblem},
		{3, 4, flapjack.RollupProblem, flapjack.RollupProblem},
		{3, 2, flapjack.RollupProblem, flapjack.RollupRecovery},
		{3, 0, flapjack.RollupProblem, flapjack.RollupRecovery},
		{3, 2, flapjack.RollupRecovery, ""},
		{3, 3, flapjack.RollupRecovery, flapjack.RollupProblem},
		{1, 1, "", flapjack.RollupProblem},
		{1, 0, "", ""},
	}
	for _, tt := range tests {
		m := &flapjack.Medium{ID: "m1", RollupThreshold: tt.threshold}
		if got := notifier.RollupFor(m, tt.alerting, tt.last); got != tt.want {
			t.Errorf("RollupFor(threshold %d, %d alerting, last %q) = %q, want %q", tt.threshold, tt.alerting, tt.last, got, tt.want)
		}
	}
}

// env is a notifier over a memory store holding one team: the ops contact with an
// email medium for every notification and an sms medium for critical ones.
type env struct {
	t     *testing.T
	store *memory.Store
	clock *flapjacktest.Clock
	n     *notifier.Notifier
}

func newEnv(t *testing.T, opts notifier.Options) *env {
	t.Helper()
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	clock := flapjacktest.NewClock(t0)
	opts.Clock = clock
	if opts.DefaultContactTimezone == nil {
		opts.DefaultContactTimezone = time.UTC
	}
	e := &env{t: t, store: s, clock: clock, n: notifier.New(s, opts)}
	ctx := t.Context()
	e.must(s.PutContact(ctx, flapjack.Contact{ID: "ops", Name: "Ops Team", Timezone: "Europe/London"}))
	e.must(s.PutMedium(ctx, flapjack.Medium{ID: "ops_email", ContactID: "ops", Transport: "email", Address: "ops@example.com", Interval: 300}))
	e.must(s.PutMedium(ctx, flapjack.Medium{ID: "ops_sms", ContactID: "ops", Transport: "sms", Address: "+15550100", Interval: 300}))
	e.must(s.PutRule(ctx, flapjack.Rule{ID: "all", ContactID: "ops", Enabled: true, Strategy: flapjack.Global, MediaIDs: []string{"ops_email"}}))
	e.must(s.PutRule(ctx, flapjack.Rule{ID: "critical", ContactID: "ops", Enabled: true, Strategy: flapjack.Global,
		Conditions: []flapjack.Condition{flapjack.Critical}, MediaIDs: []string{"ops_sms"}}))
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// putCheck creates or changes a check.
func (e *env) putCheck(name string, change func(*flapjack.Check)) flapjack.Check {
	e.t.Helper()
	c, err := e.store.UpdateCheck(e.t.Context(), name, true, func(u *store.CheckUpdate) error {
		if change != nil {
			change(&u.Check)
		}
		return nil
	})
	e.must(err)
	return c
}

func (e *env) check(name string) flapjack.Check {
	e.t.Helper()
	c, err := e.store.Check(e.t.Context(), name)
	e.must(err)
	return c
}

func (e *env) notify(n flapjack.Notification) notifier.Result {
	e.t.Helper()
	e.clock.Set(n.State.CreatedAt)
	res, err := e.n.Notify(e.t.Context(), n)
	if err != nil {
		e.t.Fatalf("Notify(%s %s): %v", n.CheckName, n.Type(), err)
	}
	return res
}

// alerts takes every alert waiting on a queue.
func (e *env) alerts(queue string) []flapjack.Alert {
	e.t.Helper()
	items, err := e.store.Queue(queue).Reserve(e.t.Context(), 100, false)
	e.must(err)
	out := make([]flapjack.Alert, len(items))
	for i, it := range items {
		e.must(json.Unmarshal(it.Payload, &out[i]))
	}
	return out
}

func (e *env) mediumState(id string) flapjack.MediumState {
	e.t.Helper()
	ms, err := e.store.MediumState(e.t.Context(), id)
	e.must(err)
	return ms
}

// note is a notification about check c at t0+sec.
func note(c flapjack.Check, sec float64, cond flapjack.Condition, action flapjack.Action, severity flapjack.Condition, summary string) flapjack.Notification {
	return flapjack.Notification{
		ID: fmt.Sprintf("n-%g", sec), CheckID: c.ID, CheckName: c.Name, Severity: severity,
		State: flapjack.State{CreatedAt: at(sec), UpdatedAt: at(sec), Condition: cond, Action: action, Summary: summary},
	}
}

func alertsByMedium(as []flapjack.Alert) map[string]flapjack.Alert {
	out := map[string]flapjack.Alert{}
	for _, a := range as {
		out[a.MediumID] = a
	}
	return out
}

func media(as []flapjack.Alert) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.MediumID)
	}
	slices.Sort(out)
	return out
}

// comparable clears what differs between two equal alerts: the random id, and the
// time's location after a JSON round trip.
func comparable(a flapjack.Alert) flapjack.Alert {
	a.ID = ""
	a.Time = a.Time.UTC()
	return a
}

// TestNotifyAlertFields follows a problem, its acknowledgement and its recovery
// through the notifier and checks every field of the alerts.
func TestNotifyAlertFields(t *testing.T) {
	e := newEnv(t, notifier.Options{})
	c := e.putCheck("app:http", nil)

	problem := note(c, 30, flapjack.Critical, "", flapjack.Critical, "connection refused")
	problem.State.Details = "tcp 10.0.0.1:80"
	problem.ConditionDuration = 30 * time.Second
	problem.EventHash = c.AckHash
	problem.EventCount = 7

	acked := note(c, 60, flapjack.Critical, flapjack.Acknowledgement, flapjack.Critical, "looking into it")
	acked.Duration = 3600
	acked.ConditionDuration = 60 * time.Second

	// A recovery whose severity is ok (a check that recovers with no problem
	// notified since the last recovery) reaches only the rule without conditions.
	recovery := note(c, 120, flapjack.OK, "", flapjack.OK, "all good")
	recovery.ConditionDuration = 120 * time.Second

	base := func(medium, transport, address string) flapjack.Alert {
		return flapjack.Alert{Transport: transport, Address: address, MediumID: medium, ContactID: "ops", ContactName: "Ops Team",
			CheckID: c.ID, CheckName: "app:http"}
	}
	email := base("ops_email", "email", "ops@example.com")
	sms := base("ops_sms", "sms", "+15550100")
	fill := func(a flapjack.Alert, f func(*flapjack.Alert)) flapjack.Alert { f(&a); return a }

	steps := []struct {
		n    flapjack.Notification
		want []flapjack.Alert
	}{
		{problem, []flapjack.Alert{
			fill(email, func(a *flapjack.Alert) {
				a.Type, a.Condition, a.Summary, a.Details, a.Time = flapjack.TypeProblem, flapjack.Critical, "connection refused", "tcp 10.0.0.1:80", at(30)
				a.ConditionDuration, a.EventHash, a.EventCount = 30*time.Second, c.AckHash, 7
			}),
			fill(sms, func(a *flapjack.Alert) {
				a.Type, a.Condition, a.Summary, a.Details, a.Time = flapjack.TypeProblem, flapjack.Critical, "connection refused", "tcp 10.0.0.1:80", at(30)
				a.ConditionDuration, a.EventHash, a.EventCount = 30*time.Second, c.AckHash, 7
			}),
		}},
		{acked, []flapjack.Alert{
			fill(email, func(a *flapjack.Alert) {
				a.Type, a.Condition, a.Action, a.Summary, a.Time = flapjack.TypeAcknowledgement, flapjack.Critical, flapjack.Acknowledgement, "looking into it", at(60)
				a.LastCondition, a.LastSummary = flapjack.Critical, "connection refused"
				a.ConditionDuration, a.AcknowledgementDuration = 60*time.Second, time.Hour
			}),
			fill(sms, func(a *flapjack.Alert) {
				a.Type, a.Condition, a.Action, a.Summary, a.Time = flapjack.TypeAcknowledgement, flapjack.Critical, flapjack.Acknowledgement, "looking into it", at(60)
				a.LastCondition, a.LastSummary = flapjack.Critical, "connection refused"
				a.ConditionDuration, a.AcknowledgementDuration = 60*time.Second, time.Hour
			}),
		}},
		{recovery, []flapjack.Alert{
			fill(email, func(a *flapjack.Alert) {
				a.Type, a.Condition, a.Summary, a.Time = flapjack.TypeRecovery, flapjack.OK, "all good", at(120)
				a.LastCondition, a.LastAction, a.LastSummary = flapjack.Critical, flapjack.Acknowledgement, "looking into it"
				a.ConditionDuration = 120 * time.Second
			}),
		}},
	}
	for _, st := range steps {
		res := e.notify(st.n)
		queued := append(e.alerts("email_notifications"), e.alerts("sms_notifications")...)
		if !slices.Equal(media(res.Alerts), media(st.want)) || !slices.Equal(media(queued), media(st.want)) {
			t.Fatalf("%s: alerts returned for %v, queued for %v; want %v\ntrace:\n%s", st.n.Type(), media(res.Alerts), media(queued), media(st.want), res.Trace)
		}
		got, q := alertsByMedium(res.Alerts), alertsByMedium(queued)
		for _, w := range st.want {
			g := got[w.MediumID]
			if g.ID == "" || g.ID != q[w.MediumID].ID {
				t.Errorf("%s on %s: alert id %q, queued id %q; want the same non-empty id", st.n.Type(), w.MediumID, g.ID, q[w.MediumID].ID)
			}
			if !reflect.DeepEqual(comparable(g), comparable(w)) {
				t.Errorf("%s on %s:\n got %+v\nwant %+v", st.n.Type(), w.MediumID, comparable(g), comparable(w))
			}
			if !reflect.DeepEqual(comparable(q[w.MediumID]), comparable(g)) {
				t.Errorf("%s on %s: queued alert\n %+v\ndiffers from the returned one\n %+v", st.n.Type(), w.MediumID, q[w.MediumID], g)
			}
			ms := e.mediumState(w.MediumID)
			if ms.LastState == nil || !ms.LastState.CreatedAt.Equal(st.n.State.CreatedAt) || ms.LastState.Summary != st.n.State.Summary {
				t.Errorf("%s on %s: medium remembers %+v, want the notification's state", st.n.Type(), w.MediumID, ms.LastState)
			}
		}
	}
}

func TestNotifyAlertable(t *testing.T) {
	tests := []struct {
		name   string
		before bool
		cond   flapjack.Condition
		action flapjack.Action
		after  bool
	}{
		{"problem", false, flapjack.Critical, "", true},
		{"warning", false, flapjack.Warning, "", true},
		{"recovery", true, flapjack.OK, "", false},
		{"acknowledgement", true, flapjack.Critical, flapjack.Acknowledgement, false},
		{"test on an alertable check", true, flapjack.Critical, flapjack.TestNotifications, true},
		{"test on a check that is not alertable", false, flapjack.Critical, flapjack.TestNotifications, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, notifier.Options{})
			c := e.putCheck("app:http", func(c *flapjack.Check) { c.Alertable = tt.before })
			e.notify(note(c, 10, tt.cond, tt.action, flapjack.Critical, ""))
			if got := e.check("app:http").Alertable; got != tt.after {
				t.Errorf("alertable after %s = %v, want %v", tt.name, got, tt.after)
			}
			alertable, _ := e.store.QueryChecks(t.Context(), store.CheckQuery{Alertable: true})
			if (len(alertable) == 1) != tt.after {
				t.Errorf("the store's alertable checks %v disagree with alertable = %v", alertable, tt.after)
			}
		})
	}
}

func TestNotifyTestNotification(t *testing.T) {
	e := newEnv(t, notifier.Options{})
	// A rollup threshold of 1: every other alert on email would be a summary.
	e.must(e.store.PutMedium(t.Context(), flapjack.Medium{ID: "ops_email", ContactID: "ops", Transport: "email",
		Address: "ops@example.com", Interval: 300, RollupThreshold: 1}))
	c := e.putCheck("app:http", func(c *flapjack.Check) { c.Alertable = true; c.Condition = flapjack.Critical; c.Failing = true })

	// Both media alerted 10 s before, well within their interval.
	e.notify(note(c, 0, flapjack.Critical, "", flapjack.Critical, "down"))
	e.alerts("email_notifications")
	e.alerts("sms_notifications")
	before := map[string]flapjack.MediumState{"ops_email": e.mediumState("ops_email"), "ops_sms": e.mediumState("ops_sms")}

	// A test asking for warning is still routed as critical, so sms gets it too.
	test := note(c, 10, flapjack.Critical, flapjack.TestNotifications, flapjack.Warning, "testing")
	res := e.notify(test)
	if got := media(res.Alerts); !slices.Equal(got, []string{"ops_email", "ops_sms"}) {
		t.Fatalf("test sent to %v, want every alerting medium [ops_email ops_sms]\ntrace:\n%s", got, res.Trace)
	}
	for _, a := range res.Alerts {
		if a.Type != flapjack.TypeTest || a.Rollup != flapjack.NoRollup || a.Action != flapjack.TestNotifications || a.Summary != "testing" {
			t.Errorf("alert on %s: type %s rollup %q action %q summary %q; want a test, no rollup", a.MediumID, a.Type, a.Rollup, a.Action, a.Summary)
		}
		if a.LastCondition != flapjack.Critical || a.LastSummary != "down" {
			t.Errorf("alert on %s: last condition %q summary %q, want the medium's last alert (critical, down)", a.MediumID, a.LastCondition, a.LastSummary)
		}
	}
	if n := len(e.alerts("email_notifications")) + len(e.alerts("sms_notifications")); n != 2 {
		t.Errorf("%d test alerts queued, want 2", n)
	}
	for id, ms := range before {
		if after := e.mediumState(id); !reflect.DeepEqual(after, ms) {
			t.Errorf("medium %s memory changed by a test: %+v → %+v", id, ms, after)
		}
	}
	// The medium memory is untouched, so an alike problem is still held back.
	res = e.notify(note(c, 20, flapjack.Critical, "", flapjack.Critical, "down"))
	if len(res.Alerts) != 0 {
		t.Errorf("problem 20 s after the last one sent to %v, want none: the test must not count as the last alert", media(res.Alerts))
	}
}

func TestNotifyInterval(t *testing.T) {
	e := newEnv(t, notifier.Options{})
	c := e.putCheck("app:http", nil)
	steps := []struct {
		sec  float64
		cond flapjack.Condition
		want []string
	}{
		{0, flapjack.Critical, []string{"ops_email", "ops_sms"}},
		{299, flapjack.Critical, []string{}},
		{300, flapjack.Critical, []string{}}, // last + interval ≥ now holds back
		{300.001, flapjack.Critical, []string{"ops_email", "ops_sms"}},
		{310, flapjack.Warning, []string{"ops_email"}}, // sms: not routed for warning
		{320, flapjack.Warning, []string{}},
	}
	for _, st := range steps {
		res := e.notify(note(c, st.sec, st.cond, "", st.cond, ""))
		if got := media(res.Alerts); !slices.Equal(got, st.want) {
			t.Errorf("%s at +%gs: alerts for %v, want %v\ntrace:\n%s", st.cond, st.sec, got, st.want, res.Trace)
		}
		for _, m := range []string{"ops_email", "ops_sms"} {
			sent := slices.Contains(st.want, m)
			skipped := slices.ContainsFunc(res.Trace.Steps, func(s flapjack.TraceStep) bool { return s.Stage == "medium:"+m && s.Outcome == "skip" })
			routed := st.cond == flapjack.Critical || m == "ops_email"
			if routed && skipped == sent {
				t.Errorf("%s at +%gs: trace for %s says skipped = %v, want %v", st.cond, st.sec, m, skipped, !sent)
			}
		}
	}
	// Held-back alerts are not remembered: the medium's last alert is the one sent.
	if ms := e.mediumState("ops_sms"); !ms.LastState.CreatedAt.Equal(at(300.001)) {
		t.Errorf("sms remembers the alert of %s, want +300.001s", ms.LastState.CreatedAt)
	}
}

// TestNotifyRollupCounting checks which other checks count toward a medium's
// summary mode: with a threshold of 2, a problem on app:http becomes a summary
// exactly when the other check counts.
func TestNotifyRollupCounting(t *testing.T) {
	tests := []struct {
		name   string
		other  func(*flapjack.Check)
		rules  []flapjack.Rule
		counts bool
	}{
		{"alertable and routed", nil, nil, true},
		{"not alertable", func(c *flapjack.Check) { c.Alertable = false }, nil, false},
		{"disabled", func(c *flapjack.Check) { c.Enabled = false }, nil, false},
		{"in scheduled maintenance", func(c *flapjack.Check) {
			c.ScheduledMaintenances = []flapjack.Maintenance{{ID: "sm", Start: at(-10), End: at(100)}}
		}, nil, false},
		{"scheduled maintenance over", func(c *flapjack.Check) {
			c.ScheduledMaintenances = []flapjack.Maintenance{{ID: "sm", Start: at(-100), End: at(-10)}}
		}, nil, true},
		{"in unscheduled maintenance", func(c *flapjack.Check) {
			c.UnscheduledMaintenances = []flapjack.Maintenance{{ID: "um", Start: at(-10), End: at(100)}}
		}, nil, false},
		{"routed by a rule for other conditions only", nil, []flapjack.Rule{
			{ID: "all", ContactID: "ops", Enabled: true, Strategy: flapjack.AnyTag, Tags: []string{"app"}, MediaIDs: []string{"ops_email"}},
			{ID: "db-warnings", ContactID: "ops", Enabled: true, Strategy: flapjack.AnyTag, Tags: []string{"db"},
				Conditions: []flapjack.Condition{flapjack.Warning}, MediaIDs: []string{"ops_email"}},
		}, true},
		{"not routed to the medium", nil, []flapjack.Rule{
			{ID: "all", ContactID: "ops", Enabled: true, Strategy: flapjack.AnyTag, Tags: []string{"app"}, MediaIDs: []string{"ops_email"}},
		}, false},
		{"blackholed on the medium", nil, []flapjack.Rule{
			{ID: "db-quiet", ContactID: "ops", Enabled: true, Blackhole: true, Strategy: flapjack.AnyTag, Tags: []string{"db"}, MediaIDs: []string{"ops_email"}},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, notifier.Options{})
			e.must(e.store.PutMedium(t.Context(), flapjack.Medium{ID: "ops_email", ContactID: "ops", Transport: "email",
				Address: "ops@example.com", Interval: 300, RollupThreshold: 2}))
			for _, r := range tt.rules {
				e.must(e.store.PutRule(t.Context(), r))
			}
			e.putCheck("db:mysql", func(c *flapjack.Check) {
				c.Tags, c.Condition, c.Failing, c.Alertable = []string{"db"}, flapjack.Warning, true, true
				if tt.other != nil {
					tt.other(c)
				}
			})
			c := e.putCheck("app:http", func(c *flapjack.Check) { c.Tags, c.Condition, c.Failing = []string{"app"}, flapjack.Critical, true })
			res := e.notify(note(c, 0, flapjack.Critical, "", flapjack.Critical, ""))
			email, ok := alertsByMedium(res.Alerts)["ops_email"]
			if !ok {
				t.Fatalf("no alert on ops_email\ntrace:\n%s", res.Trace)
			}
			want := flapjack.NoRollup
			var states map[flapjack.Condition][]string
			if tt.counts {
				want = flapjack.RollupProblem
				states = map[flapjack.Condition][]string{flapjack.Critical: {"app:http"}, flapjack.Warning: {"db:mysql"}}
			}
			if email.Rollup != want || !reflect.DeepEqual(email.RollupStates, states) {
				t.Errorf("email alert rollup %q states %v, want %q %v", email.Rollup, email.RollupStates, want, states)
			}
			if email.RollupThreshold != 2 {
				t.Errorf("email alert rollup threshold %d, want 2", email.RollupThreshold)
			}
		})
	}
}

// TestNotifyRollupSequence follows a medium into summary mode and out of it.
func TestNotifyRollupSequence(t *testing.T) {
	e := newEnv(t, notifier.Options{})
	e.must(e.store.PutMedium(t.Context(), flapjack.Medium{ID: "ops_email", ContactID: "ops", Transport: "email",
		Address: "ops@example.com", Interval: 300, RollupThreshold: 2}))
	checks := map[string]flapjack.Check{}
	for name, cond := range map[string]flapjack.Condition{"a:ping": flapjack.Critical, "b:ping": flapjack.Warning, "c:ping": flapjack.Warning} {
		checks[name] = e.putCheck(name, func(c *flapjack.Check) { c.Condition, c.Failing = cond, true })
	}
	steps := []struct {
		sec    float64
		check  string
		cond   flapjack.Condition
		sent   bool
		rollup flapjack.Rollup
		states map[flapjack.Condition][]string
	}{
		{0, "a:ping", flapjack.Critical, true, "", nil},
		{10, "b:ping", flapjack.Warning, true, flapjack.RollupProblem,
			map[flapjack.Condition][]string{flapjack.Critical: {"a:ping"}, flapjack.Warning: {"b:ping"}}},
		// Still in summary mode, same condition as the last alert, within the interval.
		{20, "c:ping", flapjack.Warning, false, "", nil},
		{30, "b:ping", flapjack.OK, true, flapjack.RollupProblem,
			map[flapjack.Condition][]string{flapjack.Critical: {"a:ping"}, flapjack.Warning: {"c:ping"}}},
		{40, "a:ping", flapjack.OK, true, flapjack.RollupRecovery,
			map[flapjack.Condition][]string{flapjack.Warning: {"c:ping"}}},
		// Out of summary mode: a plain alert again.
		{50, "c:ping", flapjack.OK, true, "", nil},
	}
	for _, st := range steps {
		if st.cond.Healthy() {
			e.putCheck(st.check, func(c *flapjack.Check) { c.Condition, c.Failing = flapjack.OK, false })
		}
		res := e.notify(note(checks[st.check], st.sec, st.cond, "", flapjack.Critical, ""))
		email, sent := alertsByMedium(res.Alerts)["ops_email"]
		if sent != st.sent {
			t.Fatalf("%s %s at +%gs: email sent = %v, want %v\ntrace:\n%s", st.check, st.cond, st.sec, sent, st.sent, res.Trace)
		}
		if !sent {
			continue
		}
		if email.Rollup != st.rollup || !reflect.DeepEqual(email.RollupStates, st.states) {
			t.Errorf("%s %s at +%gs: rollup %q states %v, want %q %v", st.check, st.cond, st.sec, email.Rollup, email.RollupStates, st.rollup, st.states)
		}
		if ms := e.mediumState("ops_email"); ms.LastRollupType != st.rollup {
			t.Errorf("%s %s at +%gs: medium remembers rollup %q, want %q", st.check, st.cond, st.sec, ms.LastRollupType, st.rollup)
		}
	}
}

func TestNotifyMissingTransportQueue(t *testing.T) {
	for _, action := range []flapjack.Action{"", flapjack.TestNotifications} {
		t.Run("action="+string(action), func(t *testing.T) {
			e := newEnv(t, notifier.Options{TransportQueues: map[string]string{"email": "mail_out"}})
			c := e.putCheck("app:http", nil)
			res, err := e.n.Notify(t.Context(), note(c, 0, flapjack.Critical, action, flapjack.Critical, "down"))
			if err != nil {
				t.Fatalf("Notify with no queue for sms: %v", err)
			}
			if got := media(res.Alerts); !slices.Equal(got, []string{"ops_email"}) {
				t.Errorf("alerts for %v, want [ops_email]", got)
			}
			if q := e.alerts("mail_out"); len(q) != 1 {
				t.Errorf("%d alerts on the configured email queue, want 1", len(q))
			}
			if q := e.alerts("sms_notifications"); len(q) != 0 {
				t.Errorf("%d alerts on sms_notifications, which is not configured", len(q))
			}
			i := slices.IndexFunc(res.Trace.Steps, func(s flapjack.TraceStep) bool { return s.Stage == "medium:ops_sms" })
			if i < 0 || res.Trace.Steps[i].Outcome != "skip" || !strings.Contains(res.Trace.Steps[i].Detail, `"sms"`) {
				t.Errorf("trace does not show ops_sms skipped for its transport:\n%s", res.Trace)
			}
			if ms := e.mediumState("ops_sms"); ms.LastState != nil {
				t.Errorf("skipped medium remembers %+v, want nothing", ms.LastState)
			}
		})
	}
}

func TestNotifyDeletedCheck(t *testing.T) {
	for _, action := range []flapjack.Action{"", flapjack.Acknowledgement, flapjack.TestNotifications} {
		t.Run("action="+string(action), func(t *testing.T) {
			e := newEnv(t, notifier.Options{})
			c := e.putCheck("app:http", nil)
			e.must(e.store.DeleteCheck(t.Context(), "app:http"))
			res, err := e.n.Notify(t.Context(), note(c, 0, flapjack.Critical, action, flapjack.Critical, ""))
			if err != nil {
				t.Fatalf("Notify about a deleted check: %v", err)
			}
			if len(res.Alerts) != 0 {
				t.Errorf("alerts for %v, want none", media(res.Alerts))
			}
			if n := len(e.alerts("email_notifications")) + len(e.alerts("sms_notifications")); n != 0 {
				t.Errorf("%d alerts queued, want none", n)
			}
			if _, err := e.store.Check(t.Context(), "app:http"); err == nil {
				t.Error("Notify re-created the deleted check")
			}
			if len(res.Trace.Steps) == 0 || res.Trace.Steps[0].Stage != "check" || res.Trace.Steps[0].Outcome != "skip" {
				t.Errorf("trace does not say the check is gone:\n%s", res.Trace)
			}
		})
	}
}

func TestNotifyDefaultContactTimezone(t *testing.T) {
	newYork := mustZone(t, "America/New_York")
	for _, tt := range []struct {
		zone *time.Location
		want []string
	}{
		{time.UTC, []string{"ops_email"}}, // 12:00 UTC
		{newYork, []string{}},             // 07:00 in New York
	} {
		e := newEnv(t, notifier.Options{DefaultContactTimezone: tt.zone})
		ctx := t.Context()
		e.must(e.store.PutContact(ctx, flapjack.Contact{ID: "ops", Name: "Ops Team"})) // no zone of its own
		e.must(e.store.PutRule(ctx, flapjack.Rule{ID: "all", ContactID: "ops", Enabled: true, Strategy: flapjack.Global,
			TimeRestrictionICal: weekdaysNineToFive, MediaIDs: []string{"ops_email"}}))
		e.must(e.store.DeleteRule(ctx, "critical"))
		c := e.putCheck("app:http", nil)
		res := e.notify(note(c, 0, flapjack.Critical, "", flapjack.Critical, ""))
		if got := media(res.Alerts); !slices.Equal(got, tt.want) {
			t.Errorf("default zone %s, Friday 12:00 UTC: alerts for %v, want %v", tt.zone, got, tt.want)
		}
	}
}

// TestNotifyRun checks that Run hands queued notifications to Notify and stops
// when its context ends.
func TestNotifyRun(t *testing.T) {
	e := newEnv(t, notifier.Options{})
	c := e.putCheck("app:http", nil)
	payload, err := json.Marshal(note(c, 0, flapjack.Critical, "", flapjack.Critical, "down"))
	e.must(err)
	e.must(e.store.Queue("notifications").Push(t.Context(), []byte("not a notification"), payload))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.n.Run(ctx) }()
	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	defer stop()
	items, err := e.store.Queue("sms_notifications").Reserve(wait, 1, true)
	if err != nil {
		t.Fatalf("no alert from the queued notification: %v", err)
	}
	var a flapjack.Alert
	if err := json.Unmarshal(items[0].Payload, &a); err != nil || a.CheckName != "app:http" {
		t.Errorf("alert %s (%v), want one about app:http", items[0].Payload, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop within 5 s of its context ending")
	}
}
