package flapjack

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestConditionOrder(t *testing.T) {
	order := []Condition{Critical, Warning, Unknown, OK, NoCondition}
	for i := range order {
		for j := range order {
			if got, want := order[i].MoreSevereThan(order[j]), i < j; got != want {
				t.Errorf("%q.MoreSevereThan(%q) = %v, want %v", order[i], order[j], got, want)
			}
		}
	}
	for _, c := range []struct {
		in        string
		want      Condition
		healthy   bool
		unhealthy bool
		title     string
	}{
		{"OK", OK, true, false, "OK"},
		{"Critical", Critical, false, true, "Critical"},
		{"warning", Warning, false, true, "Warning"},
		{"UNKNOWN", Unknown, false, true, "Unknown"},
	} {
		got, err := ParseCondition(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseCondition(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if got.Healthy() != c.healthy || got.Unhealthy() != c.unhealthy || got.Title() != c.title {
			t.Errorf("%q: Healthy %v Unhealthy %v Title %q", got, got.Healthy(), got.Unhealthy(), got.Title())
		}
	}
	if _, err := ParseCondition("down"); !errors.Is(err, ErrUnknownCondition) {
		t.Errorf("ParseCondition(down) error = %v, want ErrUnknownCondition", err)
	}
	if NoCondition.Healthy() || NoCondition.Unhealthy() {
		t.Error("NoCondition must be neither healthy nor unhealthy")
	}
}

func TestStrategyMatchesTags(t *testing.T) {
	check := []string{"foo", "ping"}
	for _, c := range []struct {
		s    Strategy
		tags []string
		want bool
	}{
		{Global, nil, true},
		{Global, []string{"bar"}, true},
		{AllTags, []string{"foo", "ping"}, true},
		{AllTags, []string{"foo", "bar"}, false},
		{AllTags, nil, true}, // no tags: every check
		{AnyTag, []string{"bar", "ping"}, true},
		{AnyTag, []string{"bar"}, false},
		{AnyTag, nil, false},
		{NoTag, []string{"bar"}, true},
		{NoTag, []string{"bar", "foo"}, false},
		{NoTag, nil, true}, // no tags: every check
		{Strategy("bogus"), nil, false},
	} {
		if got := c.s.MatchesTags(c.tags, check); got != c.want {
			t.Errorf("%s%v on %v = %v, want %v", c.s, c.tags, check, got, c.want)
		}
	}
	if _, err := ParseStrategy("some_tags"); err == nil {
		t.Error("ParseStrategy accepted an unknown strategy")
	}
}

func TestRuleMatchesCondition(t *testing.T) {
	all := Rule{}
	crit := Rule{Conditions: []Condition{Critical, Unknown}}
	for _, c := range []struct {
		r    Rule
		s    Condition
		want bool
	}{
		{all, Critical, true}, {all, OK, true},
		{crit, Critical, true}, {crit, Unknown, true}, {crit, Warning, false}, {crit, OK, false},
	} {
		if got := c.r.MatchesCondition(c.s); got != c.want {
			t.Errorf("rule %v matches %s = %v, want %v", c.r.Conditions, c.s, got, c.want)
		}
	}
}

// TestMaintenanceArithmetic is table E.3 of the reference scenarios.
func TestMaintenanceArithmetic(t *testing.T) {
	t0 := time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)
	plus := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

	t.Run("new check is in no maintenance", func(t *testing.T) {
		var c Check
		if _, in := c.InScheduledMaintenance(t0); in {
			t.Error("in scheduled maintenance")
		}
		if _, in := c.InUnscheduledMaintenance(t0); in {
			t.Error("in unscheduled maintenance")
		}
	})
	t.Run("second unscheduled maintenance ends the first", func(t *testing.T) {
		var c Check
		c.SetUnscheduledMaintenance(Maintenance{ID: "a", Start: t0, End: plus(30)}, t0)
		c.SetUnscheduledMaintenance(Maintenance{ID: "b", Start: plus(15), End: plus(45)}, plus(15))
		if _, in := c.InUnscheduledMaintenance(plus(15)); !in {
			t.Error("not in unscheduled maintenance")
		}
		if len(c.UnscheduledMaintenances) != 2 {
			t.Fatalf("%d windows, want 2", len(c.UnscheduledMaintenances))
		}
		if a, b := c.UnscheduledMaintenances[0], c.UnscheduledMaintenances[1]; !a.End.Equal(plus(15)) || !b.End.Equal(plus(45)) {
			t.Errorf("ends %s and %s, want +15m and +45m", a.End, b.End)
		}
	})
	t.Run("clearing unscheduled maintenance", func(t *testing.T) {
		var c Check
		c.SetUnscheduledMaintenance(Maintenance{ID: "a", Start: t0, End: plus(30)}, t0)
		if !c.EndUnscheduledMaintenance(plus(15), plus(15)) {
			t.Error("EndUnscheduledMaintenance reported nothing ended")
		}
		if _, in := c.InUnscheduledMaintenance(plus(15).Add(10 * time.Second)); in {
			t.Error("still in unscheduled maintenance 10 s after it ended")
		}
		if len(c.UnscheduledMaintenances) != 1 || !c.UnscheduledMaintenances[0].End.Equal(plus(15)) {
			t.Errorf("windows %+v, want one ending at +15m", c.UnscheduledMaintenances)
		}
	})
	scheduled := func() Check {
		return Check{Name: "c", ScheduledMaintenances: []Maintenance{{ID: "s", Start: plus(60), End: plus(180)}}}
	}
	for _, c := range []struct {
		name    string
		at      time.Time
		windows int
		end     time.Time
		err     error
	}{
		{"ending a future window deletes it", t0, 0, time.Time{}, nil},
		{"ending a current window cuts it", plus(90), 1, plus(90), nil},
		{"ending a finished window fails", plus(360), 1, plus(180), ErrMaintenanceOver},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := scheduled()
			err := ch.EndScheduledMaintenance("s", c.at)
			if !errors.Is(err, c.err) {
				t.Fatalf("error = %v, want %v", err, c.err)
			}
			if len(ch.ScheduledMaintenances) != c.windows {
				t.Fatalf("%d windows, want %d", len(ch.ScheduledMaintenances), c.windows)
			}
			if c.windows == 1 && !ch.ScheduledMaintenances[0].End.Equal(c.end) {
				t.Errorf("end = %s, want %s", ch.ScheduledMaintenances[0].End, c.end)
			}
		})
	}
	t.Run("ending an unknown window", func(t *testing.T) {
		ch := scheduled()
		if err := ch.EndScheduledMaintenance("nope", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("error = %v, want ErrNotFound", err)
		}
	})
	t.Run("windows include both ends", func(t *testing.T) {
		m := Maintenance{Start: t0, End: plus(1)}
		for at, want := range map[time.Time]bool{
			t0.Add(-time.Nanosecond): false, t0: true, plus(1): true, plus(1).Add(time.Nanosecond): false,
		} {
			if m.Covers(at) != want {
				t.Errorf("Covers(%s) = %v, want %v", at, !want, want)
			}
		}
	})
}

func TestCheckCloneIsDeep(t *testing.T) {
	d := int64(5)
	c := Check{
		Tags:                    []string{"a"},
		InitialFailureDelay:     &d,
		CurrentState:            &State{Summary: "x", Perfdata: []PerfDatum{{"k", "1"}}},
		LatestNotifications:     []State{{Condition: Critical, Perfdata: []PerfDatum{{"k", "1"}}}},
		ScheduledMaintenances:   []Maintenance{{ID: "s"}},
		UnscheduledMaintenances: []Maintenance{{ID: "u"}},
	}
	cl := c.Clone()
	cl.Tags[0] = "b"
	*cl.InitialFailureDelay = 9
	cl.CurrentState.Summary = "y"
	cl.CurrentState.Perfdata[0].Value = "2"
	cl.LatestNotifications[0].Perfdata[0].Value = "2"
	cl.ScheduledMaintenances[0].ID = "t"
	cl.UnscheduledMaintenances[0].ID = "v"
	if c.Tags[0] != "a" || *c.InitialFailureDelay != 5 || c.CurrentState.Summary != "x" ||
		c.CurrentState.Perfdata[0].Value != "1" || c.LatestNotifications[0].Perfdata[0].Value != "1" ||
		c.ScheduledMaintenances[0].ID != "s" || c.UnscheduledMaintenances[0].ID != "u" {
		t.Errorf("changing the clone changed the original: %+v", c)
	}
}

func TestNotificationType(t *testing.T) {
	for _, c := range []struct {
		st   State
		want AlertType
	}{
		{State{Condition: Critical}, TypeProblem},
		{State{Condition: Unknown}, TypeProblem},
		{State{Condition: OK}, TypeRecovery},
		{State{Condition: Critical, Action: Acknowledgement}, TypeAcknowledgement},
		{State{Condition: OK, Action: TestNotifications}, TypeTest},
	} {
		n := Notification{State: c.st}
		if got := n.Type(); got != c.want {
			t.Errorf("%+v: type %s, want %s", c.st, got, c.want)
		}
	}
}

func TestTraceString(t *testing.T) {
	var tr Trace
	tr.Add("filter:delays", "block", "just failed")
	tr.Add("notification", "none", "")
	want := "filter:delays: block — just failed\nnotification: none"
	if got := tr.String(); got != want {
		t.Errorf("Trace.String() = %q, want %q", got, want)
	}
	if !slices.Equal([]string{tr.Steps[0].Stage, tr.Steps[1].Stage}, []string{"filter:delays", "notification"}) {
		t.Errorf("steps %+v", tr.Steps)
	}
}
