package filter_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/filter"
)

// t0 is the moment every test is measured from.
var t0 = time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus s seconds; fractions are kept to the millisecond.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func state(c flapjack.Condition, s float64) *flapjack.State {
	return &flapjack.State{CreatedAt: at(s), UpdatedAt: at(s), Condition: c}
}

// notified is a latest-notifications snapshot: a condition, or an action carrying
// the condition the check had.
func notified(c flapjack.Condition, a flapjack.Action, s float64) flapjack.State {
	return flapjack.State{CreatedAt: at(s), UpdatedAt: at(s), Condition: c, Action: a}
}

func i64(v int64) *int64 { return &v }

// input builds the filter input for an event with the given state string.
func input(ev string, now float64, check *flapjack.Check, old *flapjack.State) *filter.Input {
	e := &flapjack.Event{Check: "app:http", State: ev}
	if err := e.Validate(); err != nil {
		panic(err)
	}
	in := &filter.Input{
		Now: at(now), Event: e, Condition: e.Condition(), Action: e.Action(),
		Check: check, OldState: old,
		Delays: filter.Delays{InitialFailure: 30 * time.Second, RepeatFailure: 60 * time.Second},
	}
	ns := flapjack.State{CreatedAt: in.Now, UpdatedAt: in.Now, Condition: in.Condition, Action: in.Action}
	if !in.IsService() && old != nil {
		ns.Condition = old.Condition
	}
	in.NewState = &ns
	n := 0
	in.NewID = func() string { n++; return fmt.Sprintf("id-%d", n) }
	return in
}

func verdict(v filter.Verdict) string {
	if v.Block {
		return "block (" + v.Reason + ")"
	}
	return "pass (" + v.Reason + ")"
}

func TestOk(t *testing.T) {
	problem := notified(flapjack.Critical, flapjack.NoAction, 30)
	recovery := notified(flapjack.OK, flapjack.NoAction, 40)
	ack := notified(flapjack.Critical, flapjack.Acknowledgement, 50)
	tests := []struct {
		name   string
		event  string
		old    *flapjack.State
		latest []flapjack.State
		block  bool
	}{
		{"a problem is not its business", "critical", state(flapjack.Critical, 0), nil, false},
		{"an acknowledgement is not its business", "acknowledgement", state(flapjack.Critical, 0), nil, false},
		{"a test is not its business", "test_notifications", state(flapjack.OK, 0), nil, false},
		{"ok without a previous state", "ok", nil, []flapjack.State{problem}, true},
		{"ok for a check never notified", "ok", state(flapjack.Critical, 0), nil, true},
		{"ok after a recovery was notified", "ok", state(flapjack.Critical, 0), []flapjack.State{problem, recovery}, true},
		{"ok after a problem was notified", "ok", state(flapjack.Critical, 0), []flapjack.State{problem}, false},
		{"ok after an acknowledgement (it carries the failing condition)", "ok", state(flapjack.Critical, 0), []flapjack.State{problem, ack}, false},
		{"the newest snapshot decides, not the order: problem newest", "ok", state(flapjack.Critical, 0),
			[]flapjack.State{notified(flapjack.Critical, flapjack.NoAction, 60), recovery}, false},
		{"the newest snapshot decides, not the order: recovery newest", "ok", state(flapjack.Critical, 0),
			[]flapjack.State{notified(flapjack.OK, flapjack.NoAction, 60), problem}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := &flapjack.Check{Name: "app:http", LatestNotifications: tt.latest}
			v := filter.Ok{}.Apply(input(tt.event, 100, check, tt.old))
			if v.Block != tt.block {
				t.Errorf("Ok.Apply(%s) = %s, want block=%v", tt.event, verdict(v), tt.block)
			}
			if v.Reason == "" {
				t.Error("verdict has no reason")
			}
		})
	}
}

// TestOkEndsAcknowledgement checks that an ok result ends the current unscheduled
// maintenance even when the Ok filter then blocks, and touches nothing else.
func TestOkEndsAcknowledgement(t *testing.T) {
	const now = 100
	tests := []struct {
		name  string
		event string
		old   *flapjack.State
		ends  bool
	}{
		{"ok that passes", "ok", state(flapjack.Critical, 0), true},
		{"ok that blocks: no previous state", "ok", nil, true},
		{"critical leaves it alone", "critical", state(flapjack.Critical, 0), false},
		{"acknowledgement leaves it alone", "acknowledgement", state(flapjack.Critical, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			past := flapjack.Maintenance{ID: "past", Start: at(0), End: at(50)}
			current := flapjack.Maintenance{ID: "current", Start: at(90), End: at(1000)}
			future := flapjack.Maintenance{ID: "future", Start: at(2000), End: at(3000)}
			check := &flapjack.Check{
				Name:                    "app:http",
				UnscheduledMaintenances: []flapjack.Maintenance{past, current, future},
				LatestNotifications:     []flapjack.State{notified(flapjack.Critical, flapjack.NoAction, 30)},
			}
			filter.Ok{}.Apply(input(tt.event, now, check, tt.old))
			want := []flapjack.Maintenance{past, current, future}
			if tt.ends {
				want[1].End = at(now)
			}
			if !slices.Equal(check.UnscheduledMaintenances, want) {
				t.Errorf("unscheduled maintenances after %s:\n got %v\nwant %v", tt.event, check.UnscheduledMaintenances, want)
			}
		})
	}
}

func TestScheduledMaintenance(t *testing.T) {
	window := flapjack.Maintenance{ID: "sm", Start: at(100), End: at(200), Summary: "upgrade"}
	ms := time.Millisecond.Seconds()
	tests := []struct {
		event string
		now   float64
		block bool
	}{
		{"critical", 100 - ms, false},
		{"critical", 100, true}, // start is inclusive
		{"critical", 150, true},
		{"critical", 200, true}, // end is inclusive
		{"critical", 200 + ms, false},
		{"ok", 150, true},
		{"warning", 150, true},
		{"acknowledgement", 150, true},
		{"test_notifications", 150, true},
		{"test_notifications warning", 150, true},
	}
	for _, tt := range tests {
		check := &flapjack.Check{Name: "app:http", ScheduledMaintenances: []flapjack.Maintenance{window}}
		v := filter.ScheduledMaintenance{}.Apply(input(tt.event, tt.now, check, state(flapjack.Critical, 0)))
		if v.Block != tt.block {
			t.Errorf("ScheduledMaintenance.Apply(%s at +%gs, window +100s..+200s) = %s, want block=%v", tt.event, tt.now, verdict(v), tt.block)
		}
	}
	check := &flapjack.Check{Name: "app:http"}
	if v := (filter.ScheduledMaintenance{}).Apply(input("critical", 150, check, nil)); v.Block {
		t.Errorf("ScheduledMaintenance.Apply without maintenance = %s, want pass", verdict(v))
	}
}

func TestUnscheduledMaintenance(t *testing.T) {
	window := flapjack.Maintenance{ID: "um", Start: at(100), End: at(200)}
	ms := time.Millisecond.Seconds()
	tests := []struct {
		name  string
		event string
		old   *flapjack.State
		now   float64
		block bool
	}{
		{"problem before the window", "critical", state(flapjack.Critical, 0), 100 - ms, false},
		{"problem at its start", "critical", state(flapjack.Critical, 0), 100, true},
		{"problem at its end", "critical", state(flapjack.Critical, 0), 200, true},
		{"problem after it", "critical", state(flapjack.Critical, 0), 200 + ms, false},
		{"warning during it", "warning", state(flapjack.Critical, 0), 150, true},
		{"ok during it", "ok", state(flapjack.Critical, 0), 150, false},
		{"acknowledgement during it", "acknowledgement", state(flapjack.Critical, 0), 150, false},
		// The quirk: a test takes the check's last condition as its own.
		{"test on a failing check", "test_notifications", state(flapjack.Critical, 0), 150, true},
		{"test with a severity on a failing check", "test_notifications warning", state(flapjack.Warning, 0), 150, true},
		{"test on an ok check", "test_notifications", state(flapjack.OK, 0), 150, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := &flapjack.Check{Name: "app:http", UnscheduledMaintenances: []flapjack.Maintenance{window}}
			v := filter.UnscheduledMaintenance{}.Apply(input(tt.event, tt.now, check, tt.old))
			if v.Block != tt.block {
				t.Errorf("UnscheduledMaintenance.Apply(%s at +%gs) = %s, want block=%v", tt.event, tt.now, verdict(v), tt.block)
			}
		})
	}
}

func TestDelays(t *testing.T) {
	const ms = 0.001
	delays := func(failure, repeat, recovery int64) filter.Delays {
		return filter.Delays{
			InitialFailure:  time.Duration(failure) * time.Second,
			RepeatFailure:   time.Duration(repeat) * time.Second,
			InitialRecovery: time.Duration(recovery) * time.Second,
		}
	}
	def := delays(30, 60, 0)
	crit := func(s float64) flapjack.State { return notified(flapjack.Critical, flapjack.NoAction, s) }
	tests := []struct {
		name   string
		event  string
		old    *flapjack.State
		latest []flapjack.State
		delays filter.Delays
		now    float64
		block  bool
	}{
		// Actions are never delayed.
		{"acknowledgement", "acknowledgement", state(flapjack.Critical, 99), nil, delays(1000, 1000, 1000), 100, false},
		{"test", "test_notifications", state(flapjack.Critical, 99), []flapjack.State{crit(99)}, delays(1000, 1000, 1000), 100, false},

		// Just failed: blocked whenever there is an initial failure delay.
		{"just failed, no previous state", "critical", nil, nil, def, 0, true},
		{"just failed from ok", "critical", state(flapjack.OK, 0), nil, def, 1000, true},
		{"just failed, delay 1 s", "warning", state(flapjack.OK, 0), nil, delays(1, 60, 0), 1000, true},
		{"just failed, delay 0", "critical", state(flapjack.OK, 0), nil, delays(0, 60, 0), 0, false},
		{"just failed without previous state, delay 0", "unknown", nil, nil, delays(0, 60, 0), 0, false},

		// Just recovered: blocked whenever there is an initial recovery delay.
		{"just recovered, delay 0", "ok", state(flapjack.Critical, 0), []flapjack.State{crit(30)}, def, 1000, false},
		{"just recovered, delay 1 s", "ok", state(flapjack.Critical, 0), []flapjack.State{crit(30)}, delays(30, 60, 1), 1000, true},

		// Still ok: the ok duration must reach the initial recovery delay.
		{"ok for 29.999 s of 30", "ok", state(flapjack.OK, 0), nil, delays(30, 60, 30), 30 - ms, true},
		{"ok for exactly 30 s of 30", "ok", state(flapjack.OK, 0), nil, delays(30, 60, 30), 30, false},
		{"ok to ok, no recovery delay", "ok", state(flapjack.OK, 0), nil, def, 0, false},

		// Still failing: the failure duration must reach the initial failure delay.
		{"failing for 29.999 s of 30", "critical", state(flapjack.Critical, 0), nil, def, 30 - ms, true},
		{"failing for exactly 30 s of 30", "critical", state(flapjack.Critical, 0), nil, def, 30, false},
		{"failing for 10 s, delay 5", "critical", state(flapjack.Critical, 0), nil, delays(5, 60, 0), 10, false},
		{"critical to warning measures from the previous condition", "warning", state(flapjack.Critical, 0), nil, def, 29, true},
		{"warning to critical after 30 s of warning", "critical", state(flapjack.Warning, 0), nil, def, 30, false},

		// Repeats: time since the last problem must exceed the repeat delay.
		{"last problem 59 s ago", "critical", state(flapjack.Critical, 0), []flapjack.State{crit(30)}, def, 89, true},
		{"last problem exactly 60 s ago", "critical", state(flapjack.Critical, 0), []flapjack.State{crit(30)}, def, 90, true},
		{"last problem 60.001 s ago", "critical", state(flapjack.Critical, 0), []flapjack.State{crit(30)}, def, 90 + ms, false},
		{"repeat delay 0, last problem this instant", "critical", state(flapjack.Critical, 0), []flapjack.State{crit(30)}, delays(30, 0, 0), 30, true},
		{"repeat delay 0, last problem 1 ms ago", "critical", state(flapjack.Critical, 0), []flapjack.State{crit(30)}, delays(30, 0, 0), 30 + ms, false},
		{"a change between problem conditions does not bypass it", "critical", state(flapjack.Warning, 0),
			[]flapjack.State{notified(flapjack.Warning, flapjack.NoAction, 30)}, def, 60, true},
		{"the newest problem counts", "critical", state(flapjack.Critical, 0),
			[]flapjack.State{crit(100), notified(flapjack.Warning, flapjack.NoAction, 30)}, def, 150, true},
		{"never notified", "critical", state(flapjack.Critical, 0), nil, def, 30, false},

		// An acknowledgement snapshot is the last problem and bypasses the repeat delay.
		{"acknowledged 10 s ago", "critical", state(flapjack.Critical, 0),
			[]flapjack.State{crit(30), notified(flapjack.Critical, flapjack.Acknowledgement, 40)}, def, 50, false},
		{"problem notified after the acknowledgement", "critical", state(flapjack.Critical, 0),
			[]flapjack.State{notified(flapjack.Critical, flapjack.Acknowledgement, 30), crit(40)}, def, 50, true},
		// A recovery notified after the last problem bypasses it too.
		{"recovery notified after the last problem", "critical", state(flapjack.Critical, 45),
			[]flapjack.State{crit(30), notified(flapjack.OK, flapjack.NoAction, 40)}, delays(0, 60, 0), 50, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := &flapjack.Check{Name: "app:http", LatestNotifications: tt.latest}
			in := input(tt.event, tt.now, check, tt.old)
			in.Delays = tt.delays
			v := filter.DelaysFilter{}.Apply(in)
			if v.Block != tt.block {
				t.Errorf("DelaysFilter.Apply(%s at +%gs, old %v, delays %+v) = %s, want block=%v",
					tt.event, tt.now, tt.old, tt.delays, verdict(v), tt.block)
			}
		})
	}
}

func TestAcknowledgement(t *testing.T) {
	const now = 100
	tests := []struct {
		name     string
		event    flapjack.Event
		old      *flapjack.State
		existing []flapjack.Maintenance
		block    bool
		want     []flapjack.Maintenance // unscheduled maintenances afterwards
	}{
		{
			name:  "a problem is not its business",
			event: flapjack.Event{State: "critical"}, old: state(flapjack.Critical, 0),
		},
		{
			name:  "a test is not its business",
			event: flapjack.Event{State: "test_notifications"}, old: state(flapjack.Critical, 0),
		},
		{
			name:  "acknowledging a check without state",
			event: flapjack.Event{State: "acknowledgement"}, old: nil, block: true,
		},
		{
			name:  "acknowledging an ok check",
			event: flapjack.Event{State: "acknowledgement"}, old: state(flapjack.OK, 0), block: true,
		},
		{
			name:  "default duration is 4 hours",
			event: flapjack.Event{State: "acknowledgement", Summary: "on it"}, old: state(flapjack.Critical, 0),
			want: []flapjack.Maintenance{{ID: "id-1", Start: at(now), End: at(now + 4*3600), Summary: "on it"}},
		},
		{
			name:  "given duration",
			event: flapjack.Event{State: "acknowledgement", Duration: i64(600)}, old: state(flapjack.Warning, 0),
			want: []flapjack.Maintenance{{ID: "id-1", Start: at(now), End: at(now + 600)}},
		},
		{
			name:  "replaces the current acknowledgement, leaves past ones",
			event: flapjack.Event{State: "acknowledgement", Duration: i64(60), Summary: "again"}, old: state(flapjack.Unknown, 0),
			existing: []flapjack.Maintenance{
				{ID: "old", Start: at(0), End: at(10)},
				{ID: "current", Start: at(50), End: at(5000)},
			},
			want: []flapjack.Maintenance{
				{ID: "old", Start: at(0), End: at(10)},
				{ID: "current", Start: at(50), End: at(now)},
				{ID: "id-1", Start: at(now), End: at(now + 60), Summary: "again"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := &flapjack.Check{Name: "app:http", Alertable: true, UnscheduledMaintenances: slices.Clone(tt.existing)}
			in := input(tt.event.State, now, check, tt.old)
			ev := tt.event
			ev.Check = "app:http"
			in.Event = &ev
			v := filter.Acknowledgement{}.Apply(in)
			if v.Block != tt.block {
				t.Errorf("Acknowledgement.Apply = %s, want block=%v", verdict(v), tt.block)
			}
			want := tt.want
			if want == nil {
				want = tt.existing
			}
			if !slices.Equal(check.UnscheduledMaintenances, want) {
				t.Errorf("unscheduled maintenances:\n got %v\nwant %v", check.UnscheduledMaintenances, want)
			}
			created := tt.want != nil
			if check.Alertable == created {
				t.Errorf("check alertable = %v, want %v (an acknowledgement that creates maintenance makes the check not alertable)", check.Alertable, !created)
			}
		})
	}
}

// recorder is a filter that notes it ran, changes the check, and blocks or passes.
func recorder(name string, block bool, ran *[]string) filter.Filter {
	return filter.Func(name, func(in *filter.Input) filter.Verdict {
		*ran = append(*ran, name)
		in.Check.Tags = append(in.Check.Tags, name)
		if block {
			return filter.Block(name + " says no")
		}
		return filter.Pass(name + " says yes")
	})
}

func TestChainApply(t *testing.T) {
	tests := []struct {
		name      string
		blocks    []bool
		ran       []string
		blockedBy string
	}{
		{"all pass", []bool{false, false, false}, []string{"a", "b", "c"}, ""},
		{"first blocks", []bool{true, false, false}, []string{"a"}, "a"},
		{"middle blocks", []bool{false, true, false}, []string{"a", "b"}, "b"},
		{"last blocks", []bool{false, false, true}, []string{"a", "b", "c"}, "c"},
		{"empty chain", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			var chain filter.Chain
			for i, b := range tt.blocks {
				chain = append(chain, recorder(string(rune('a'+i)), b, &ran))
			}
			check := &flapjack.Check{Name: "app:http"}
			r := chain.Apply(input("critical", 0, check, nil))
			if !slices.Equal(ran, tt.ran) {
				t.Errorf("filters run = %v, want %v", ran, tt.ran)
			}
			if !slices.Equal(check.Tags, tt.ran) {
				t.Errorf("side effects = %v, want only those of %v", check.Tags, tt.ran)
			}
			if r.BlockedBy != tt.blockedBy || r.Passed() != (tt.blockedBy == "") {
				t.Errorf("BlockedBy = %q, Passed = %v; want %q", r.BlockedBy, r.Passed(), tt.blockedBy)
			}
			if len(r.Steps) != len(tt.ran) {
				t.Fatalf("%d steps, want %d", len(r.Steps), len(tt.ran))
			}
			for i, s := range r.Steps {
				if s.Filter != tt.ran[i] {
					t.Errorf("step %d is %q, want %q", i, s.Filter, tt.ran[i])
				}
			}
			wantReason := ""
			if tt.blockedBy != "" {
				wantReason = tt.blockedBy + " says no"
			}
			if r.Reason() != wantReason {
				t.Errorf("Reason() = %q, want %q", r.Reason(), wantReason)
			}
		})
	}
}

// TestDefaultChainStopsBeforeSideEffects checks that the built-in filters after a
// blocking one do not run: an acknowledgement during scheduled maintenance creates
// no unscheduled maintenance, and a critical result does not end an acknowledgement.
func TestDefaultChainStopsBeforeSideEffects(t *testing.T) {
	chain := filter.Default()
	if got, want := chain.Names(), []string{"ok", "scheduled_maintenance", "unscheduled_maintenance", "delays", "acknowledgement"}; !slices.Equal(got, want) {
		t.Fatalf("Default().Names() = %v, want %v", got, want)
	}

	check := &flapjack.Check{
		Name:                  "app:http",
		Alertable:             true,
		ScheduledMaintenances: []flapjack.Maintenance{{ID: "sm", Start: at(0), End: at(1000)}},
	}
	r := chain.Apply(input("acknowledgement", 100, check, state(flapjack.Critical, 0)))
	if r.BlockedBy != filter.NameScheduledMaintenance {
		t.Errorf("acknowledgement in scheduled maintenance blocked by %q, want %q", r.BlockedBy, filter.NameScheduledMaintenance)
	}
	if len(check.UnscheduledMaintenances) != 0 || !check.Alertable {
		t.Errorf("the acknowledgement filter ran after the chain was blocked: unscheduled %v, alertable %v",
			check.UnscheduledMaintenances, check.Alertable)
	}

	// And when nothing blocks first, the same acknowledgement does its work.
	check.ScheduledMaintenances = nil
	r = chain.Apply(input("acknowledgement", 100, check, state(flapjack.Critical, 0)))
	if !r.Passed() || len(check.UnscheduledMaintenances) != 1 || check.Alertable {
		t.Errorf("acknowledgement outside maintenance: blocked by %q, unscheduled %v, alertable %v; want passed, one window, not alertable",
			r.BlockedBy, check.UnscheduledMaintenances, check.Alertable)
	}
}

func TestChainInsert(t *testing.T) {
	custom := filter.Func("custom", func(*filter.Input) filter.Verdict { return filter.Pass("") })
	base := filter.Default()
	tests := []struct {
		before string
		want   []string
	}{
		{"ok", []string{"custom", "ok", "scheduled_maintenance", "unscheduled_maintenance", "delays", "acknowledgement"}},
		{"delays", []string{"ok", "scheduled_maintenance", "unscheduled_maintenance", "custom", "delays", "acknowledgement"}},
		{"acknowledgement", []string{"ok", "scheduled_maintenance", "unscheduled_maintenance", "delays", "custom", "acknowledgement"}},
		{"", []string{"ok", "scheduled_maintenance", "unscheduled_maintenance", "delays", "acknowledgement", "custom"}},
	}
	for _, tt := range tests {
		got, err := base.Insert(tt.before, custom)
		if err != nil {
			t.Errorf("Insert(%q): %v", tt.before, err)
			continue
		}
		if !slices.Equal(got.Names(), tt.want) {
			t.Errorf("Insert(%q).Names() = %v, want %v", tt.before, got.Names(), tt.want)
		}
		if n := len(base.Names()); n != 5 || base[0].Name() != "ok" {
			t.Errorf("Insert(%q) changed the chain it was called on: %v", tt.before, base.Names())
		}
	}

	// Two insertions into the same chain do not share storage, even when the
	// chain has room to grow in place.
	roomy := append(make(filter.Chain, 0, 10), base...)
	for _, before := range []string{"", "delays"} {
		a, _ := roomy.Insert(before, custom)
		b, _ := roomy.Insert(before, filter.Func("other", func(*filter.Input) filter.Verdict { return filter.Pass("") }))
		if !slices.Contains(a.Names(), "custom") || !slices.Contains(b.Names(), "other") {
			t.Errorf("inserting before %q twice: %v and %v share storage", before, a.Names(), b.Names())
		}
	}

	got, err := base.Insert("no_such_filter", custom)
	if err == nil {
		t.Fatalf("Insert before an unknown filter returned %v and no error", got.Names())
	}
	if got != nil {
		t.Errorf("Insert before an unknown filter returned chain %v, want nil", got.Names())
	}
	if !strings.Contains(err.Error(), `"no_such_filter"`) {
		t.Errorf("error %q does not name the missing filter", err)
	}
}
