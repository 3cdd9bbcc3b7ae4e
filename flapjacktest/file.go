package flapjacktest

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/x/flapjack"
	"github.com/x/flapjack/filter"
	"github.com/x/flapjack/setup"
)

// File is a rule-test file: settings, set-up data, and tests that each start from a
// fresh store holding that set-up.
type File struct {
	Settings   Settings  `yaml:"settings"`
	Start      time.Time `yaml:"start"`
	setup.Data `yaml:",inline"`
	Tests      []Test `yaml:"tests"`

	// Path is where the file was read from.
	Path string `yaml:"-"`
}

// Test is a named sequence of steps.
type Test struct {
	Name  string     `yaml:"name"`
	Steps []FileStep `yaml:"steps"`
	Line  int        `yaml:"-"`
}

// FileStep is one step of a test: at most one time and at most one action, then
// expectations about what that action produced.
type FileStep struct {
	// At is seconds since the test's start; Clock an absolute time. Without
	// either the step happens at the previous step's time.
	At    *float64   `yaml:"at"`
	Clock *time.Time `yaml:"clock"`

	// Event is processed exactly as a producer's event.
	Event                     yaml.Node               `yaml:"event"`
	ScheduledMaintenance      *MaintenanceStep        `yaml:"scheduled_maintenance"`
	UnscheduledMaintenance    *UnscheduledMaintenance `yaml:"unscheduled_maintenance"`
	EndScheduledMaintenance   string                  `yaml:"end_scheduled_maintenance"`
	EndUnscheduledMaintenance string                  `yaml:"end_unscheduled_maintenance"`
	DisableCheck              string                  `yaml:"disable_check"`
	EnableCheck               string                  `yaml:"enable_check"`
	DeleteRule                string                  `yaml:"delete_rule"`
	Expect                    *Expect                 `yaml:"expect"`
	Line                      int                     `yaml:"-"`
	eventJSON                 []byte
	when                      time.Duration // offset from the test's start, resolved at load
	absolute                  bool
}

// MaintenanceStep adds scheduled maintenance; Start and End are seconds relative to
// the step's time and may be negative.
type MaintenanceStep struct {
	Check   string  `yaml:"check"`
	Start   float64 `yaml:"start"`
	End     float64 `yaml:"end"`
	Summary string  `yaml:"summary"`
}

// UnscheduledMaintenance acknowledges a check for Duration seconds from the step's time.
type UnscheduledMaintenance struct {
	Check    string  `yaml:"check"`
	Duration float64 `yaml:"duration"`
	Summary  string  `yaml:"summary"`
}

// Expect lists what a step must have produced; each key is checked only when present.
type Expect struct {
	// Notifications the processor generated in this step, tests included.
	Notifications *int `yaml:"notifications"`
	// BlockedBy names the filter that must have blocked the event.
	BlockedBy *string `yaml:"blocked_by"`
	// Alerts is the exact multiset of alerts produced, order ignored; [] means none.
	Alerts *[]AlertMatch `yaml:"alerts"`
	// Check is the state of a check after the step.
	Check *CheckMatch `yaml:"check"`
}

// AlertMatch matches an alert whose listed fields are equal.
type AlertMatch struct {
	Medium       *string             `yaml:"medium"`
	Contact      *string             `yaml:"contact"`
	Transport    *string             `yaml:"transport"`
	Address      *string             `yaml:"address"`
	Check        *string             `yaml:"check"`
	Type         *string             `yaml:"type"`
	Rollup       *string             `yaml:"rollup"` // none | problem | recovery
	Condition    *string             `yaml:"condition"`
	RollupStates map[string][]string `yaml:"rollup_states"`
}

// CheckMatch is the expected state of a check.
type CheckMatch struct {
	Name                     string  `yaml:"name"`
	Condition                *string `yaml:"condition"`
	Failing                  *bool   `yaml:"failing"`
	Enabled                  *bool   `yaml:"enabled"`
	InScheduledMaintenance   *bool   `yaml:"in_scheduled_maintenance"`
	InUnscheduledMaintenance *bool   `yaml:"in_unscheduled_maintenance"`
}

// UnmarshalYAML implementations reject unknown keys and record lines.

func (f *File) UnmarshalYAML(n *yaml.Node) error {
	type plain File
	return setup.StrictDecode(n, (*plain)(f))
}

func (s *Settings) UnmarshalYAML(n *yaml.Node) error {
	type plain Settings
	return setup.StrictDecode(n, (*plain)(s))
}

func (t *Test) UnmarshalYAML(n *yaml.Node) error {
	type plain Test
	t.Line = n.Line
	return setup.StrictDecode(n, (*plain)(t))
}

func (s *FileStep) UnmarshalYAML(n *yaml.Node) error {
	type plain FileStep
	s.Line = n.Line
	return setup.StrictDecode(n, (*plain)(s))
}

func (m *MaintenanceStep) UnmarshalYAML(n *yaml.Node) error {
	type plain MaintenanceStep
	return setup.StrictDecode(n, (*plain)(m))
}

func (m *UnscheduledMaintenance) UnmarshalYAML(n *yaml.Node) error {
	type plain UnscheduledMaintenance
	return setup.StrictDecode(n, (*plain)(m))
}

func (e *Expect) UnmarshalYAML(n *yaml.Node) error {
	type plain Expect
	return setup.StrictDecode(n, (*plain)(e))
}

func (a *AlertMatch) UnmarshalYAML(n *yaml.Node) error {
	type plain AlertMatch
	return setup.StrictDecode(n, (*plain)(a))
}

func (c *CheckMatch) UnmarshalYAML(n *yaml.Node) error {
	type plain CheckMatch
	return setup.StrictDecode(n, (*plain)(c))
}

// LoadFile reads and validates a rule-test file. Its errors name the file and line.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(b, path)
}

// ParseFile reads and validates a rule-test file's content.
func ParseFile(data []byte, path string) (*File, error) {
	f := &File{Path: path}
	if err := setup.DecodeYAML(data, path, f); err != nil {
		return nil, err
	}
	e := &setup.Error{File: path}
	if err := f.Data.Validate(); err != nil {
		e.Problems = append(e.Problems, err.(*setup.Error).Problems...)
	}
	f.validate(e)
	if err := e.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

var filterNames = map[string]bool{
	filter.NameOk: true, filter.NameScheduledMaintenance: true, filter.NameUnscheduledMaintenance: true,
	filter.NameDelays: true, filter.NameAcknowledgement: true,
}

var alertTypes = map[string]bool{"problem": true, "recovery": true, "acknowledgement": true, "test": true}
var rollups = map[string]bool{"none": true, "problem": true, "recovery": true}

func (f *File) validate(e *setup.Error) {
	if f.Settings.NewCheckScheduledMaintenanceDuration < 0 {
		e.Add(0, "settings: new_check_scheduled_maintenance_duration must be 0 or more seconds")
	}
	if z := f.Settings.DefaultContactTimezone; z != "" {
		if _, err := time.LoadLocation(z); err != nil {
			e.Add(0, "settings: unknown default_contact_timezone %q", z)
		}
	}
	if len(f.Tests) == 0 {
		e.Add(0, "no tests")
	}
	start := f.Start
	if start.IsZero() {
		start = DefaultStart
	}
	for ti := range f.Tests {
		t := &f.Tests[ti]
		if t.Name == "" {
			e.Add(t.Line, "test: name is required")
		}
		var prev time.Duration
		for si := range t.Steps {
			s := &t.Steps[si]
			where := fmt.Sprintf("test %q step %d", t.Name, si+1)
			switch {
			case s.At != nil && s.Clock != nil:
				e.Add(s.Line, "%s: give either at or clock, not both", where)
			case s.At != nil:
				s.when = time.Duration(*s.At * float64(time.Second))
			case s.Clock != nil:
				s.when, s.absolute = s.Clock.Sub(start), true
			default:
				s.when = prev
			}
			if s.when < prev {
				e.Add(s.Line, "%s: time goes backwards (%s after start, previous step at %s)", where, s.when, prev)
			}
			prev = max(prev, s.when)
			actions := 0
			for _, set := range []bool{s.Event.Kind != 0, s.ScheduledMaintenance != nil, s.UnscheduledMaintenance != nil,
				s.EndScheduledMaintenance != "", s.EndUnscheduledMaintenance != "", s.DisableCheck != "", s.EnableCheck != "", s.DeleteRule != ""} {
				if set {
					actions++
				}
			}
			if actions > 1 {
				e.Add(s.Line, "%s: a step has at most one action", where)
			}
			if s.Event.Kind != 0 {
				var v any
				if err := s.Event.Decode(&v); err != nil {
					e.Add(s.Event.Line, "%s: event: %v", where, err)
				} else if b, err := json.Marshal(v); err != nil {
					e.Add(s.Event.Line, "%s: event: %v", where, err)
				} else if _, err := flapjack.ParseEvent(b); err != nil {
					e.Add(s.Event.Line, "%s: %v", where, err)
				} else {
					s.eventJSON = b
				}
			}
			if m := s.ScheduledMaintenance; m != nil && (m.Check == "" || m.End <= m.Start) {
				e.Add(s.Line, "%s: scheduled_maintenance needs a check and an end after its start", where)
			}
			if m := s.UnscheduledMaintenance; m != nil && (m.Check == "" || m.Duration <= 0) {
				e.Add(s.Line, "%s: unscheduled_maintenance needs a check and a positive duration", where)
			}
			if x := s.Expect; x != nil {
				if x.BlockedBy != nil && !filterNames[*x.BlockedBy] {
					e.Add(s.Line, "%s: blocked_by %q is not a filter (ok, scheduled_maintenance, unscheduled_maintenance, delays, acknowledgement)", where, *x.BlockedBy)
				}
				if x.Alerts != nil {
					for _, a := range *x.Alerts {
						if a.Type != nil && !alertTypes[*a.Type] {
							e.Add(s.Line, "%s: alert type %q is not problem, recovery, acknowledgement or test", where, *a.Type)
						}
						if a.Rollup != nil && !rollups[*a.Rollup] {
							e.Add(s.Line, "%s: alert rollup %q is not none, problem or recovery", where, *a.Rollup)
						}
					}
				}
				if x.Check != nil && x.Check.Name == "" {
					e.Add(s.Line, "%s: expect.check needs a name", where)
				}
			}
		}
	}
}
