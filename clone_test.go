package flapjack

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// cloneShapes are checks with every combination of nil, empty and filled
// slices and pointers that Clone handles.
func cloneShapes() []Check {
	one, two := int64(1), int64(2)
	pd := func(kv ...string) []PerfDatum {
		var out []PerfDatum
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, PerfDatum{kv[i], kv[i+1]})
		}
		return out
	}
	return []Check{
		{},
		{Name: "a", Tags: []string{}, LatestNotifications: []State{}, ScheduledMaintenances: []Maintenance{}},
		{CurrentState: &State{}},
		{CurrentState: &State{Perfdata: []PerfDatum{}}},
		{CurrentState: &State{Summary: "s", Perfdata: pd("a", "1", "b", "2")}, RepeatFailureDelay: &two},
		{LatestNotifications: []State{{Perfdata: []PerfDatum{}}, {}, {Perfdata: pd("x", "9")}}},
		{
			Tags: []string{"t"}, InitialFailureDelay: &one, InitialRecoveryDelay: &two,
			CurrentState:            &State{CreatedAt: time.Unix(1, 0), Condition: Critical, Perfdata: pd("time", "1s")},
			LatestNotifications:     []State{{Condition: Critical, Perfdata: pd("time", "1s", "size", "0B")}, {Action: Acknowledgement}},
			UnscheduledMaintenances: []Maintenance{{ID: "u"}},
		},
	}
}

func TestCloneEqualsOriginal(t *testing.T) {
	for i, c := range cloneShapes() {
		if d := c.Clone(); !reflect.DeepEqual(d, c) {
			t.Errorf("shape %d: clone %#v differs from %#v", i, d, c)
		}
	}
}

// TestCloneSlicesDoNotOverlap grows and shrinks every slice of a clone in the
// ways the processor does, and checks that nothing else changes: the clone's
// slices share arrays, so each must be capped at its length.
func TestCloneSlicesDoNotOverlap(t *testing.T) {
	for i, c := range cloneShapes() {
		want := c.Clone()
		d := c.Clone()
		if d.CurrentState != nil {
			d.CurrentState.Perfdata = append(d.CurrentState.Perfdata, PerfDatum{"new", "1"})
			if !reflect.DeepEqual(d.LatestNotifications, want.LatestNotifications) {
				t.Errorf("shape %d: appending to the current state's perfdata changed the latest notifications", i)
			}
			d.CurrentState.Perfdata = want.CurrentState.Perfdata
		}
		for j := range d.LatestNotifications {
			d.LatestNotifications[j].Perfdata = append(d.LatestNotifications[j].Perfdata, PerfDatum{"new", "2"})
		}
		if d.CurrentState != nil && !reflect.DeepEqual(*d.CurrentState, *want.CurrentState) {
			t.Errorf("shape %d: appending to a notification's perfdata changed the current state", i)
		}
		for j := range d.LatestNotifications {
			if got := d.LatestNotifications[j].Perfdata; len(got) != len(want.LatestNotifications[j].Perfdata)+1 ||
				!slices.Equal(got[:len(got)-1], want.LatestNotifications[j].Perfdata) {
				t.Errorf("shape %d: notification %d perfdata %v after an append; want %v and one more", i, j, got, want.LatestNotifications[j].Perfdata)
			}
		}
		d = c.Clone()
		d.LatestNotifications = slices.DeleteFunc(d.LatestNotifications, func(s State) bool { return s.Condition == Critical })
		d.LatestNotifications = append(d.LatestNotifications, State{Condition: Warning}, State{Condition: Unknown})
		if d.CurrentState != nil && !reflect.DeepEqual(*d.CurrentState, *want.CurrentState) {
			t.Errorf("shape %d: replacing notifications changed the current state", i)
		}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("shape %d: changing clones changed the original", i)
		}
	}
}

func TestCloneAllocations(t *testing.T) {
	c := cloneShapes()[6]
	c.InitialFailureDelay, c.InitialRecoveryDelay, c.UnscheduledMaintenances = nil, nil, nil
	// Tags, the states, their perfdata.
	if n := testing.AllocsPerRun(100, func() { _ = c.Clone() }); n > 3 {
		t.Errorf("Clone of a failing check took %v allocations, want at most 3", n)
	}
}
