package processor_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/filter"
	"github.com/x/flapjack/processor"
)

// t0 is the moment every test is measured from.
var t0 = time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func i64(v int64) *int64 { return &v }

const ackHash = "0a1b2c3d"

// sim feeds events about one check to Decide, keeping the check record and its
// history between events as a store would.
type sim struct {
	t        *testing.T
	check    flapjack.Check
	history  []flapjack.State
	created  bool
	settings processor.Settings
	filters  filter.Chain
	ids      int
}

// newSim starts a check that does not exist yet.
func newSim(t *testing.T) *sim {
	return &sim{t: t, created: true, check: flapjack.Check{ID: "check-1", Name: "app:http", Enabled: true, AckHash: ackHash}}
}

func (s *sim) newID() string {
	s.ids++
	return fmt.Sprintf("id-%d", s.ids)
}

// event decides ev at t0+sec, filling in the check name and validating it.
func (s *sim) event(sec float64, ev flapjack.Event) processor.Decision {
	s.t.Helper()
	ev.Check = s.check.Name
	if err := ev.Validate(); err != nil {
		s.t.Fatalf("invalid test event: %v", err)
	}
	d := processor.Decide(processor.Input{
		Check: &s.check, Created: s.created, Event: &ev, Now: at(sec),
		Settings: s.settings, Filters: s.filters, NewID: s.newID,
	})
	s.created = false
	s.history = append(s.history, d.History...)
	return d
}

func (s *sim) send(sec float64, state string) processor.Decision {
	s.t.Helper()
	return s.event(sec, flapjack.Event{State: state, Summary: state + " summary"})
}

func zeroDelays() processor.Settings {
	return processor.Settings{InitialFailureDelay: i64(0), RepeatFailureDelay: i64(0), InitialRecoveryDelay: i64(0)}
}

// describe summarises a decision for failure messages.
func describe(d processor.Decision) string {
	if d.Notification != nil {
		return fmt.Sprintf("notification %s severity %s", d.Notification.Type(), d.Notification.Severity)
	}
	if d.BlockedBy != "" {
		return "blocked by " + d.BlockedBy
	}
	return "no notification, nothing blocked"
}

// captureDelays is a chain whose only filter records the delays it is given.
func captureDelays(got *filter.Delays, ran *bool) filter.Chain {
	return filter.Chain{filter.Func("capture", func(in *filter.Input) filter.Verdict {
		*got, *ran = in.Delays, true
		return filter.Block("captured")
	})}
}

type delays struct{ failure, repeat, recovery *int64 }

func TestDecideDelayPrecedence(t *testing.T) {
	none := delays{}
	tests := []struct {
		name                  string
		state                 string
		event, check, config  delays
		failure, repeat, reco int64
	}{
		{"built-in defaults", "critical", none, none, none, 30, 60, 0},
		{"configured", "critical", none, none, delays{i64(5), i64(6), i64(7)}, 5, 6, 7},
		{"configured 0 counts", "critical", none, none, delays{i64(0), i64(0), i64(0)}, 0, 0, 0},
		{"configured negative means not given", "critical", none, none, delays{i64(-1), i64(-1), i64(-1)}, 30, 60, 0},
		{"check over config", "critical", none, delays{i64(1), i64(2), i64(3)}, delays{i64(5), i64(6), i64(7)}, 1, 2, 3},
		{"check 0 counts", "critical", none, delays{i64(0), i64(0), i64(0)}, delays{i64(5), i64(6), i64(7)}, 0, 0, 0},
		{"check negative means not given", "critical", none, delays{i64(-1), i64(-1), i64(-1)}, delays{i64(5), i64(6), i64(7)}, 5, 6, 7},
		{"event over check", "critical", delays{i64(10), i64(20), i64(30)}, delays{i64(1), i64(2), i64(3)}, delays{i64(5), i64(6), i64(7)}, 10, 20, 30},
		{"event 0 counts", "warning", delays{i64(0), i64(0), i64(0)}, delays{i64(1), i64(2), i64(3)}, none, 0, 0, 0},
		{"event negative means not given", "critical", delays{i64(-1), i64(-1), i64(-1)}, delays{i64(1), i64(2), i64(3)}, none, 1, 2, 3},
		{"each delay resolved on its own", "ok", delays{i64(10), nil, nil}, delays{nil, i64(2), nil}, delays{nil, nil, i64(7)}, 10, 2, 7},
		{"acknowledgement ignores event delays", "acknowledgement", delays{i64(10), i64(20), i64(30)}, delays{i64(1), i64(2), i64(3)}, none, 1, 2, 3},
		{"test ignores event delays", "test_notifications", delays{i64(10), i64(20), i64(30)}, none, delays{i64(5), i64(6), i64(7)}, 5, 6, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got filter.Delays
			var ran bool
			check := flapjack.Check{
				ID: "check-1", Name: "app:http", Enabled: true,
				CurrentState:         &flapjack.State{CreatedAt: at(0), UpdatedAt: at(0), Condition: flapjack.Critical},
				InitialFailureDelay:  tt.check.failure,
				RepeatFailureDelay:   tt.check.repeat,
				InitialRecoveryDelay: tt.check.recovery,
			}
			// Not validated: Decide itself must treat negative delays as not given.
			ev := flapjack.Event{
				Check: "app:http", State: tt.state,
				InitialFailureDelay: tt.event.failure, RepeatFailureDelay: tt.event.repeat, InitialRecoveryDelay: tt.event.recovery,
			}
			processor.Decide(processor.Input{
				Check: &check, Event: &ev, Now: at(100),
				Settings: processor.Settings{
					InitialFailureDelay: tt.config.failure, RepeatFailureDelay: tt.config.repeat, InitialRecoveryDelay: tt.config.recovery,
				},
				Filters: captureDelays(&got, &ran),
			})
			if !ran {
				t.Fatal("the filters were not run")
			}
			want := filter.Delays{
				InitialFailure:  time.Duration(tt.failure) * time.Second,
				RepeatFailure:   time.Duration(tt.repeat) * time.Second,
				InitialRecovery: time.Duration(tt.reco) * time.Second,
			}
			if got != want {
				t.Errorf("effective delays = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDecideFirstOK(t *testing.T) {
	tests := []struct {
		name     string
		current  *flapjack.State
		created  bool
		state    string
		shortcut bool
	}{
		{"first ok of a new check", nil, true, "ok", true},
		{"first ok of an existing check without history", nil, false, "ok", true},
		{"ok after a condition-less state", &flapjack.State{CreatedAt: at(0)}, false, "ok", true},
		{"ok after ok", &flapjack.State{CreatedAt: at(0), Condition: flapjack.OK}, false, "ok", false},
		{"ok after critical", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, false, "ok", false},
		{"first critical of a new check", nil, true, "critical", false},
		{"first acknowledgement of a new check", nil, true, "acknowledgement", false},
		{"first test of a new check", nil, true, "test_notifications", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			chain := filter.Chain{filter.Func("spy", func(*filter.Input) filter.Verdict { ran = true; return filter.Block("spy") })}
			check := flapjack.Check{ID: "check-1", Name: "app:http", Enabled: true, CurrentState: tt.current}
			ev := flapjack.Event{Check: "app:http", State: tt.state, Summary: "first"}
			d := processor.Decide(processor.Input{Check: &check, Created: tt.created, Event: &ev, Now: at(10), Filters: chain})
			if ran == tt.shortcut {
				t.Errorf("filters ran = %v, want %v", ran, !tt.shortcut)
			}
			if !tt.shortcut {
				return
			}
			if d.Notification != nil || d.BlockedBy != "" {
				t.Errorf("decision = %s, want no notification and nothing blocked", describe(d))
			}
			want := flapjack.State{CreatedAt: at(10), UpdatedAt: at(10), Condition: flapjack.OK, Summary: "first"}
			if len(d.History) != 1 || !equalState(d.History[0], want) {
				t.Errorf("history appended = %+v, want [%+v]", d.History, want)
			}
			if check.CurrentState == nil || !equalState(*check.CurrentState, want) {
				t.Errorf("current state = %+v, want %+v", check.CurrentState, want)
			}
			if check.Condition != flapjack.OK || check.Failing {
				t.Errorf("check condition %q failing %v, want ok and not failing", check.Condition, check.Failing)
			}
			if d.Stats != (flapjack.Statistics{AllEvents: 1, OKEvents: 1}) {
				t.Errorf("stats = %+v, want one ok event", d.Stats)
			}
			for _, s := range d.Trace.Steps {
				if strings.HasPrefix(s.Stage, "filter:") {
					t.Errorf("trace shows a filter step %+v", s)
				}
			}
		})
	}
}

func equalState(a, b flapjack.State) bool {
	return a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) && a.Condition == b.Condition &&
		a.Action == b.Action && a.Summary == b.Summary && a.Details == b.Details && slices.Equal(a.Perfdata, b.Perfdata)
}

func TestDecideHistory(t *testing.T) {
	s := newSim(t)
	var seen []flapjack.State // the old state each event's filters were given
	s.filters, _ = filter.Default().Insert("", filter.Func("spy", func(in *filter.Input) filter.Verdict {
		if in.OldState != nil {
			seen = append(seen, *in.OldState)
		}
		return filter.Pass("")
	}))
	s.settings = zeroDelays()

	type step struct {
		sec                       float64
		state, summary, details   string
		perfdata                  string
		historyLen                int
		currentCreated            float64
		currentUpdated            float64
		currentSummary, currentPD string
	}
	steps := []step{
		{0, "ok", "up", "", "", 1, 0, 0, "up", ""},
		{10, "critical", "down", "d1", "time=1s;;;", 2, 10, 10, "down", "time=1s"},
		// Same condition: the current state is refreshed, perfdata included.
		{20, "critical", "still down", "d2", "time=2s", 2, 10, 20, "still down", "time=2s"},
		// Actions never enter the history nor touch the current state.
		{30, "acknowledgement", "on it", "", "", 2, 10, 20, "still down", "time=2s"},
		{40, "test_notifications", "test", "", "", 2, 10, 20, "still down", "time=2s"},
		{50, "warning", "degraded", "", "", 3, 50, 50, "degraded", ""},
	}
	for _, st := range steps {
		s.event(st.sec, flapjack.Event{State: st.state, Summary: st.summary, Details: st.details, Perfdata: st.perfdata})
		cur := s.check.CurrentState
		pd := ""
		for _, p := range cur.Perfdata {
			pd += p.Key + "=" + p.Value
		}
		if len(s.history) != st.historyLen || !cur.CreatedAt.Equal(at(st.currentCreated)) || !cur.UpdatedAt.Equal(at(st.currentUpdated)) ||
			cur.Summary != st.currentSummary || pd != st.currentPD {
			t.Errorf("after %s at +%gs: history %d entries, current created +%gs updated +%gs summary %q perfdata %q;\n"+
				"want %d entries, created +%gs updated +%gs summary %q perfdata %q",
				st.state, st.sec, len(s.history), cur.CreatedAt.Sub(t0).Seconds(), cur.UpdatedAt.Sub(t0).Seconds(), cur.Summary, pd,
				st.historyLen, st.currentCreated, st.currentUpdated, st.currentSummary, st.currentPD)
		}
	}
	if s.check.CurrentState.Details != "" {
		t.Errorf("current details = %q, want empty", s.check.CurrentState.Details)
	}

	// The history keeps each entry as it was appended.
	if h := s.history[1]; h.Summary != "down" || h.Details != "d1" || !h.UpdatedAt.Equal(at(10)) {
		t.Errorf("history entry for +10s changed by a later event: %+v", h)
	}
	// Filters see the state as it was before the event.
	if len(seen) < 2 || seen[1].Summary != "down" || !seen[1].UpdatedAt.Equal(at(10)) {
		t.Errorf("filters of the +20s event saw old state %+v, want the +10s state before its refresh", seen)
	}
}

func TestDecideEnables(t *testing.T) {
	tests := []struct {
		state   string
		current *flapjack.State
		enabled bool
	}{
		{"ok", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, true},
		{"ok", nil, true}, // first ok: stored without filters, still re-enables
		{"critical", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, true},
		{"warning", nil, true},
		{"acknowledgement", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, false},
		{"test_notifications", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, false},
	}
	for _, tt := range tests {
		check := flapjack.Check{ID: "check-1", Name: "app:http", Enabled: false, CurrentState: tt.current}
		ev := flapjack.Event{Check: "app:http", State: tt.state}
		processor.Decide(processor.Input{Check: &check, Event: &ev, Now: at(100)})
		if check.Enabled != tt.enabled {
			t.Errorf("disabled check after %s (previous state %v): enabled = %v, want %v", tt.state, tt.current, check.Enabled, tt.enabled)
		}
	}
}

func TestDecideNewCheckScheduledMaintenance(t *testing.T) {
	tests := []struct {
		name     string
		duration time.Duration
		ignore   string
		created  bool
		state    string
		want     bool
	}{
		{"off by default", 0, "", true, "critical", false},
		{"on for a new check", time.Hour, "", true, "critical", true},
		{"on for a new check's first ok", time.Hour, "", true, "ok", true},
		{"exempt by the ignore regex", time.Hour, `^app:`, true, "critical", false},
		{"not exempt by a regex that does not match", time.Hour, `^db:`, true, "critical", true},
		{"not for an existing check", time.Hour, "", false, "critical", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := zeroDelays()
			settings.NewCheckScheduledMaintenance = tt.duration
			if tt.ignore != "" {
				settings.NewCheckScheduledMaintenanceIgnore = regexp.MustCompile(tt.ignore)
			}
			check := flapjack.Check{ID: "check-1", Name: "app:http", Enabled: true}
			if !tt.created {
				check.CurrentState = &flapjack.State{CreatedAt: at(0), Condition: flapjack.OK}
			}
			ev := flapjack.Event{Check: "app:http", State: tt.state}
			d := processor.Decide(processor.Input{
				Check: &check, Created: tt.created, Event: &ev, Now: at(100), Settings: settings,
				NewID: func() string { return "sm-1" },
			})
			if !tt.want {
				if len(check.ScheduledMaintenances) != 0 {
					t.Errorf("scheduled maintenances = %v, want none", check.ScheduledMaintenances)
				}
				return
			}
			want := []flapjack.Maintenance{{ID: "sm-1", Start: at(100), End: at(100).Add(tt.duration), Summary: processor.NewCheckMaintenanceSummary}}
			if !slices.Equal(check.ScheduledMaintenances, want) {
				t.Errorf("scheduled maintenances = %v, want %v", check.ScheduledMaintenances, want)
			}
			if tt.state != "ok" && d.BlockedBy != filter.NameScheduledMaintenance {
				t.Errorf("decision = %s, want blocked by scheduled_maintenance", describe(d))
			}
		})
	}
}

// TestDecideSeverity follows the routing severity of one check: the most severe
// condition notified since the last recovery.
func TestDecideSeverity(t *testing.T) {
	s := newSim(t)
	s.settings = zeroDelays()
	steps := []struct {
		state      string
		severity   flapjack.Condition // empty: no notification
		mostSevere flapjack.Condition
	}{
		{"ok", "", ""},
		{"warning", flapjack.Warning, flapjack.Warning},
		{"unknown", flapjack.Warning, flapjack.Warning},
		{"critical", flapjack.Critical, flapjack.Critical},
		{"warning", flapjack.Critical, flapjack.Critical},
		{"ok", flapjack.Critical, ""}, // the recovery is routed like the worst problem
		// After a recovery the worst problem starts again from scratch, so a warning
		// is routed as a warning, not as the critical of before the recovery.
		{"warning", flapjack.Warning, flapjack.Warning},
		// An acknowledgement is routed with the worst problem and keeps it, so
		// that the recovery reaches whoever the problem paged.
		{"acknowledgement", flapjack.Warning, flapjack.Warning},
		{"ok", flapjack.Warning, ""},
		{"unknown", flapjack.Unknown, flapjack.Unknown},
		// Tests do not take part.
		{"test_notifications", flapjack.Critical, flapjack.Unknown},
	}
	for i, st := range steps {
		d := s.send(float64(i), st.state)
		switch {
		case st.severity == "" && d.Notification != nil:
			t.Errorf("step %d %s: %s, want no notification", i, st.state, describe(d))
		case st.severity != "" && d.Notification == nil:
			t.Errorf("step %d %s: %s, want severity %s", i, st.state, describe(d), st.severity)
		case st.severity != "" && d.Notification.Severity != st.severity:
			t.Errorf("step %d %s: severity %s, want %s", i, st.state, d.Notification.Severity, st.severity)
		}
		if s.check.MostSevere != st.mostSevere {
			t.Errorf("step %d %s: most severe afterwards %q, want %q", i, st.state, s.check.MostSevere, st.mostSevere)
		}
	}
}

func TestDecideTestNotifications(t *testing.T) {
	tests := []struct {
		state    string
		severity flapjack.Condition
	}{
		{"test_notifications", flapjack.Critical},
		{"test_notifications critical", flapjack.Critical},
		{"test_notifications warning", flapjack.Warning},
		{"TEST_NOTIFICATIONS unknown", flapjack.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			s := newSim(t)
			s.settings = zeroDelays()
			s.send(0, "ok")
			s.send(1, "warning") // a problem notification
			before := s.check.Clone()
			d := s.event(2, flapjack.Event{State: tt.state, Summary: "testing"})
			n := d.Notification
			if n == nil {
				t.Fatalf("%s: %s, want a test notification", tt.state, describe(d))
			}
			if n.Severity != tt.severity || !n.IsTest() || n.Type() != flapjack.TypeTest {
				t.Errorf("severity %s, test %v, type %s; want %s, a test", n.Severity, n.IsTest(), n.Type(), tt.severity)
			}
			if n.EventHash != "" {
				t.Errorf("event hash %q on a test, want none", n.EventHash)
			}
			if n.State.Condition != flapjack.Warning || n.State.Summary != "testing" {
				t.Errorf("state %+v, want the check's condition (warning) and the test's summary", n.State)
			}
			if s.check.NotificationCount != before.NotificationCount || s.check.MostSevere != before.MostSevere ||
				!slices.EqualFunc(s.check.LatestNotifications, before.LatestNotifications, equalState) {
				t.Errorf("a test changed the check's notification record: count %d→%d, most severe %q→%q, latest %v→%v",
					before.NotificationCount, s.check.NotificationCount, before.MostSevere, s.check.MostSevere,
					before.LatestNotifications, s.check.LatestNotifications)
			}
			if d.Stats != (flapjack.Statistics{AllEvents: 1}) {
				t.Errorf("stats %+v, want all_events only", d.Stats)
			}
		})
	}
}

// TestDecideNotificationFields follows one failure through problem, repeats,
// acknowledgement, recovery and a test, with the default delays.
func TestDecideNotificationFields(t *testing.T) {
	s := newSim(t)
	type want struct {
		kind      flapjack.AlertType // empty: no notification
		blockedBy string
		severity  flapjack.Condition
		hash      string
		condDur   float64
		duration  int64
		count     int64
		latest    []string // "condition/action@seconds" of latest_notifications, sorted
	}
	steps := []struct {
		sec   float64
		event flapjack.Event
		want  want
	}{
		{0, flapjack.Event{State: "ok"}, want{count: 0}},
		{0, flapjack.Event{State: "critical"}, want{blockedBy: "delays"}},
		{30, flapjack.Event{State: "critical", Summary: "down"}, want{kind: flapjack.TypeProblem, severity: flapjack.Critical, hash: ackHash,
			condDur: 30, count: 1, latest: []string{"critical@30"}}},
		{60, flapjack.Event{State: "critical"}, want{blockedBy: "delays", count: 1, latest: []string{"critical@30"}}},
		{100, flapjack.Event{State: "acknowledgement", Duration: i64(600)}, want{kind: flapjack.TypeAcknowledgement, severity: flapjack.Critical,
			condDur: 100, duration: 600, count: 2, latest: []string{"critical/acknowledgement@100", "critical@30"}}},
		{200, flapjack.Event{State: "critical"}, want{blockedBy: "unscheduled_maintenance", count: 2,
			latest: []string{"critical/acknowledgement@100", "critical@30"}}},
		{300, flapjack.Event{State: "ok"}, want{kind: flapjack.TypeRecovery, severity: flapjack.Critical, condDur: 300, count: 3,
			latest: []string{"critical/acknowledgement@100", "critical@30", "ok@300"}}},
		{400, flapjack.Event{State: "ok"}, want{blockedBy: "ok", count: 3,
			latest: []string{"critical/acknowledgement@100", "critical@30", "ok@300"}}},
		{500, flapjack.Event{State: "test_notifications"}, want{kind: flapjack.TypeTest, severity: flapjack.Critical, condDur: 200, count: 3,
			latest: []string{"critical/acknowledgement@100", "critical@30", "ok@300"}}},
	}
	for _, st := range steps {
		d := s.event(st.sec, st.event)
		w := st.want
		where := fmt.Sprintf("%s at +%gs", st.event.State, st.sec)
		if d.BlockedBy != w.blockedBy {
			t.Errorf("%s: %s, want blocked by %q", where, describe(d), w.blockedBy)
		}
		if n := d.Notification; (n != nil) != (w.kind != "") {
			t.Errorf("%s: %s, want notification %q", where, describe(d), w.kind)
		} else if n != nil {
			if n.Type() != w.kind || n.Severity != w.severity || n.EventHash != w.hash ||
				n.ConditionDuration != time.Duration(w.condDur*float64(time.Second)) || n.Duration != w.duration {
				t.Errorf("%s: notification type %s severity %s hash %q condition duration %s duration %d;\n"+
					"want type %s severity %s hash %q condition duration %gs duration %d",
					where, n.Type(), n.Severity, n.EventHash, n.ConditionDuration, n.Duration,
					w.kind, w.severity, w.hash, w.condDur, w.duration)
			}
			if n.CheckID != "check-1" || n.CheckName != "app:http" || n.ID == "" || !n.State.CreatedAt.Equal(at(st.sec)) {
				t.Errorf("%s: notification id %q check %q %q created %s", where, n.ID, n.CheckID, n.CheckName, n.State.CreatedAt)
			}
		}
		if s.check.NotificationCount != w.count {
			t.Errorf("%s: notification count %d, want %d", where, s.check.NotificationCount, w.count)
		}
		var latest []string
		for _, l := range s.check.LatestNotifications {
			k := string(l.Condition)
			if l.Action != "" {
				k += "/" + string(l.Action)
			}
			latest = append(latest, fmt.Sprintf("%s@%g", k, l.CreatedAt.Sub(t0).Seconds()))
		}
		slices.Sort(latest)
		if !slices.Equal(latest, w.latest) {
			t.Errorf("%s: latest notifications %v, want %v", where, latest, w.latest)
		}
	}
}

// TestDecideAcknowledgementSnapshot checks that an acknowledgement snapshot counts as
// the last problem (it bypasses the repeat delay) and is replaced by the next
// problem of the same condition.
func TestDecideAcknowledgementSnapshot(t *testing.T) {
	s := newSim(t)
	s.send(0, "ok")
	s.send(0, "critical")
	if d := s.send(30, "critical"); d.Notification == nil {
		t.Fatalf("critical at +30s: %s, want a problem", describe(d))
	}
	// A 10 s acknowledgement: over by +50s.
	if d := s.event(40, flapjack.Event{State: "acknowledgement", Duration: i64(10)}); d.Notification == nil {
		t.Fatalf("acknowledgement at +40s: %s, want a notification", describe(d))
	}
	// 30 s after the last problem, within the repeat delay, yet it passes: the last
	// notification was the acknowledgement.
	d := s.send(60, "critical")
	if d.Notification == nil {
		t.Fatalf("critical at +60s after an acknowledgement: %s, want a problem", describe(d))
	}
	if n := d.Notification; n.Severity != flapjack.Critical || n.EventHash != ackHash {
		t.Errorf("problem after acknowledgement: severity %s hash %q", n.Severity, n.EventHash)
	}
	if got := s.check.LatestNotifications; len(got) != 1 || got[0].Action != "" || !got[0].CreatedAt.Equal(at(60)) {
		t.Errorf("latest notifications %+v, want only the +60s problem: it replaces the problem and the acknowledgement carrying critical", got)
	}
	// And the repeat delay counts from it again.
	if d := s.send(120, "critical"); d.BlockedBy != filter.NameDelays {
		t.Errorf("critical at +120s, 60 s after the last problem: %s, want blocked by delays", describe(d))
	}
}

func TestDecideStatistics(t *testing.T) {
	tests := []struct {
		state   string
		current *flapjack.State
		want    flapjack.Statistics
	}{
		{"ok", nil, flapjack.Statistics{AllEvents: 1, OKEvents: 1}},
		{"ok", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, flapjack.Statistics{AllEvents: 1, OKEvents: 1}},
		{"critical", nil, flapjack.Statistics{AllEvents: 1, FailureEvents: 1}},
		{"warning", &flapjack.State{CreatedAt: at(0), Condition: flapjack.OK}, flapjack.Statistics{AllEvents: 1, FailureEvents: 1}},
		{"unknown", &flapjack.State{CreatedAt: at(0), Condition: flapjack.OK}, flapjack.Statistics{AllEvents: 1, FailureEvents: 1}},
		{"acknowledgement", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, flapjack.Statistics{AllEvents: 1, ActionEvents: 1}},
		{"acknowledgement", &flapjack.State{CreatedAt: at(0), Condition: flapjack.OK}, flapjack.Statistics{AllEvents: 1, ActionEvents: 1}},
		{"test_notifications", &flapjack.State{CreatedAt: at(0), Condition: flapjack.Critical}, flapjack.Statistics{AllEvents: 1}},
		{"test_notifications warning", nil, flapjack.Statistics{AllEvents: 1}},
	}
	for _, tt := range tests {
		check := flapjack.Check{ID: "check-1", Name: "app:http", Enabled: true, CurrentState: tt.current}
		ev := flapjack.Event{Check: "app:http", State: tt.state}
		d := processor.Decide(processor.Input{Check: &check, Event: &ev, Now: at(100)})
		if d.Stats != tt.want {
			t.Errorf("%s (previous state %v): stats %+v, want %+v", tt.state, tt.current, d.Stats, tt.want)
		}
	}
}

func TestDecideCheckCondition(t *testing.T) {
	s := newSim(t)
	for _, st := range []struct {
		state     string
		condition flapjack.Condition
		failing   bool
	}{
		{"ok", flapjack.OK, false},
		{"warning", flapjack.Warning, true},
		{"acknowledgement", flapjack.Warning, true}, // actions leave them alone
		{"test_notifications", flapjack.Warning, true},
		{"ok", flapjack.OK, false},
	} {
		s.send(0, st.state)
		if s.check.Condition != st.condition || s.check.Failing != st.failing {
			t.Errorf("after %s: condition %q failing %v, want %q %v", st.state, s.check.Condition, s.check.Failing, st.condition, st.failing)
		}
	}
}

func TestDecideTrace(t *testing.T) {
	s := newSim(t)
	s.send(0, "ok")
	d := s.send(0, "critical")
	last := d.Trace.Steps[len(d.Trace.Steps)-1]
	if last.Stage != "filter:delays" || last.Outcome != "block" || last.Detail == "" {
		t.Errorf("last trace step of a delayed problem = %+v, want filter:delays block with a reason", last)
	}
	d = s.send(30, "critical")
	last = d.Trace.Steps[len(d.Trace.Steps)-1]
	if last.Stage != "notification" || last.Outcome != "problem" {
		t.Errorf("last trace step of a problem = %+v, want notification problem", last)
	}
	var filters []string
	for _, st := range d.Trace.Steps {
		if name, ok := strings.CutPrefix(st.Stage, "filter:"); ok && st.Outcome == "pass" {
			filters = append(filters, name)
		}
	}
	if want := filter.Default().Names(); !slices.Equal(filters, want) {
		t.Errorf("filters passed in the trace = %v, want %v", filters, want)
	}
}
