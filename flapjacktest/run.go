package flapjacktest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/x/flapjack"
)

// TestResult is the outcome of one test of a file.
type TestResult struct {
	File string
	Name string
	// Failures describe each unmet expectation: the step, expected vs produced, and
	// that step's decision trace.
	Failures []string
	// Err is set when the test could not run to its end.
	Err error
}

// Passed reports whether the test met every expectation.
func (r TestResult) Passed() bool { return r.Err == nil && len(r.Failures) == 0 }

// Run runs every test of the file, each from a fresh store holding its set-up.
func (f *File) Run(ctx context.Context) []TestResult {
	out := make([]TestResult, 0, len(f.Tests))
	for i := range f.Tests {
		out = append(out, f.RunTest(ctx, &f.Tests[i]))
	}
	return out
}

// RunTest runs one test of the file.
func (f *File) RunTest(ctx context.Context, t *Test) TestResult {
	res := TestResult{File: f.Path, Name: t.Name}
	start := f.Start
	if start.IsZero() {
		start = DefaultStart
	}
	h, err := New(ctx, Config{Settings: f.Settings, Start: start, Setup: &f.Data})
	if err != nil {
		res.Err = err
		return res
	}
	for i := range t.Steps {
		s := &t.Steps[i]
		h.Clock.Set(start.Add(s.when))
		step, err := h.runStep(ctx, s)
		if err != nil {
			res.Err = fmt.Errorf("step %d (line %d): %w", i+1, s.Line, err)
			return res
		}
		if s.Expect == nil {
			continue
		}
		if problems := h.check(ctx, s.Expect, step); len(problems) > 0 {
			var b strings.Builder
			fmt.Fprintf(&b, "step %d (line %d) at +%s: %s\n", i+1, s.Line, s.when, s.describe())
			for _, p := range problems {
				fmt.Fprintf(&b, "  %s\n", p)
			}
			if len(step.Trace.Steps) > 0 {
				b.WriteString("  trace:\n")
				for _, line := range strings.Split(step.Trace.String(), "\n") {
					fmt.Fprintf(&b, "    %s\n", line)
				}
			}
			res.Failures = append(res.Failures, strings.TrimRight(b.String(), "\n"))
		}
	}
	return res
}

func (s *FileStep) describe() string {
	switch {
	case s.eventJSON != nil:
		return "event " + string(s.eventJSON)
	case s.ScheduledMaintenance != nil:
		return "scheduled_maintenance on " + s.ScheduledMaintenance.Check
	case s.UnscheduledMaintenance != nil:
		return "unscheduled_maintenance on " + s.UnscheduledMaintenance.Check
	case s.EndScheduledMaintenance != "":
		return "end_scheduled_maintenance " + s.EndScheduledMaintenance
	case s.EndUnscheduledMaintenance != "":
		return "end_unscheduled_maintenance " + s.EndUnscheduledMaintenance
	case s.DisableCheck != "":
		return "disable_check " + s.DisableCheck
	case s.EnableCheck != "":
		return "enable_check " + s.EnableCheck
	case s.DeleteRule != "":
		return "delete_rule " + s.DeleteRule
	}
	return "no action"
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func (h *Harness) runStep(ctx context.Context, s *FileStep) (Step, error) {
	now := h.Clock.Now()
	var err error
	switch {
	case s.eventJSON != nil:
		return h.RawEvent(ctx, s.eventJSON)
	case s.ScheduledMaintenance != nil:
		m := s.ScheduledMaintenance
		err = h.ScheduleMaintenance(ctx, m.Check, now.Add(seconds(m.Start)), now.Add(seconds(m.End)), m.Summary)
	case s.UnscheduledMaintenance != nil:
		m := s.UnscheduledMaintenance
		err = h.Acknowledge(ctx, m.Check, seconds(m.Duration), m.Summary)
	case s.EndScheduledMaintenance != "":
		err = h.EndScheduledMaintenance(ctx, s.EndScheduledMaintenance)
	case s.EndUnscheduledMaintenance != "":
		err = h.EndUnscheduledMaintenance(ctx, s.EndUnscheduledMaintenance)
	case s.DisableCheck != "":
		err = h.SetEnabled(ctx, s.DisableCheck, false)
	case s.EnableCheck != "":
		err = h.SetEnabled(ctx, s.EnableCheck, true)
	case s.DeleteRule != "":
		err = h.DeleteRule(ctx, s.DeleteRule)
	}
	if err != nil {
		return Step{}, err
	}
	return h.Settle(ctx)
}

// check compares a step's outcome with its expectations.
func (h *Harness) check(ctx context.Context, x *Expect, st Step) []string {
	var problems []string
	if x.Notifications != nil && *x.Notifications != len(st.Notifications) {
		problems = append(problems, fmt.Sprintf("notifications: expected %d, produced %d", *x.Notifications, len(st.Notifications)))
	}
	if x.BlockedBy != nil && *x.BlockedBy != st.Processed.BlockedBy {
		got := st.Processed.BlockedBy
		if got == "" {
			got = "nothing (no filter blocked)"
		}
		problems = append(problems, fmt.Sprintf("blocked_by: expected %s, blocked by %s", *x.BlockedBy, got))
	}
	if x.Alerts != nil {
		problems = append(problems, matchAlerts(*x.Alerts, st.Alerts)...)
	}
	if c := x.Check; c != nil {
		problems = append(problems, h.matchCheck(ctx, c)...)
	}
	return problems
}

// matchAlerts pairs each expected alert with a distinct produced one; what remains on
// either side is a mismatch.
func matchAlerts(want []AlertMatch, got []flapjack.Alert) []string {
	used := make([]bool, len(got))
	var missing []string
	// Most specific expectations first, so that a loose one does not take the
	// alert a precise one needs.
	order := make([]int, len(want))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return want[b].specificity() - want[a].specificity() })
	for _, i := range order {
		w := want[i]
		found := false
		for j := range got {
			if !used[j] && w.matches(&got[j]) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, w.String())
		}
	}
	var problems []string
	for _, m := range missing {
		problems = append(problems, "alerts: expected but not produced: "+m)
	}
	for j, a := range got {
		if !used[j] {
			problems = append(problems, "alerts: produced but not expected: "+describeAlert(&a))
		}
	}
	return problems
}

func (w AlertMatch) specificity() int {
	n := len(w.RollupStates)
	for _, p := range []*string{w.Medium, w.Contact, w.Transport, w.Address, w.Check, w.Type, w.Rollup, w.Condition} {
		if p != nil {
			n++
		}
	}
	return n
}

func rollupName(r flapjack.Rollup) string {
	if r == flapjack.NoRollup {
		return "none"
	}
	return string(r)
}

func (w AlertMatch) matches(a *flapjack.Alert) bool {
	eq := func(p *string, v string) bool { return p == nil || *p == v }
	if !eq(w.Medium, a.MediumID) || !eq(w.Contact, a.ContactID) || !eq(w.Transport, a.Transport) ||
		!eq(w.Address, a.Address) || !eq(w.Check, a.CheckName) || !eq(w.Type, string(a.Type)) ||
		!eq(w.Rollup, rollupName(a.Rollup)) || !eq(w.Condition, string(a.Condition)) {
		return false
	}
	if w.RollupStates != nil {
		got := map[string][]string{}
		for c, names := range a.RollupStates {
			got[string(c)] = names
		}
		if !maps.EqualFunc(w.RollupStates, got, slices.Equal[[]string]) {
			return false
		}
	}
	return true
}

func (w AlertMatch) String() string {
	var parts []string
	add := func(k string, p *string) {
		if p != nil {
			parts = append(parts, k+": "+*p)
		}
	}
	add("medium", w.Medium)
	add("contact", w.Contact)
	add("transport", w.Transport)
	add("address", w.Address)
	add("check", w.Check)
	add("type", w.Type)
	add("rollup", w.Rollup)
	add("condition", w.Condition)
	if w.RollupStates != nil {
		parts = append(parts, "rollup_states: "+formatStates(w.RollupStates))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func describeAlert(a *flapjack.Alert) string {
	s := fmt.Sprintf("{medium: %s, transport: %s, address: %s, check: %s, type: %s, rollup: %s, condition: %s",
		a.MediumID, a.Transport, a.Address, a.CheckName, a.Type, rollupName(a.Rollup), a.Condition)
	if len(a.RollupStates) > 0 {
		m := map[string][]string{}
		for c, n := range a.RollupStates {
			m[string(c)] = n
		}
		s += ", rollup_states: " + formatStates(m)
	}
	return s + "}"
}

func formatStates(m map[string][]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": [" + strings.Join(m[k], ", ") + "]"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (h *Harness) matchCheck(ctx context.Context, want *CheckMatch) []string {
	c, err := h.Check(ctx, want.Name)
	if err != nil {
		return []string{fmt.Sprintf("check %q: %v", want.Name, err)}
	}
	now := h.Clock.Now()
	var problems []string
	cmp := func(field string, want, got any) {
		if fmt.Sprint(want) != fmt.Sprint(got) {
			problems = append(problems, fmt.Sprintf("check %q %s: expected %v, is %v", c.Name, field, want, got))
		}
	}
	if want.Condition != nil {
		cmp("condition", *want.Condition, string(c.Condition))
	}
	if want.Failing != nil {
		cmp("failing", *want.Failing, c.Failing)
	}
	if want.Enabled != nil {
		cmp("enabled", *want.Enabled, c.Enabled)
	}
	if want.InScheduledMaintenance != nil {
		_, in := c.InScheduledMaintenance(now)
		cmp("in_scheduled_maintenance", *want.InScheduledMaintenance, in)
	}
	if want.InUnscheduledMaintenance != nil {
		_, in := c.InUnscheduledMaintenance(now)
		cmp("in_unscheduled_maintenance", *want.InUnscheduledMaintenance, in)
	}
	return problems
}

// Report is the outcome of running files.
type Report struct {
	Results []TestResult
	// Invalid lists files that could not be read, with why.
	Invalid []error
}

// Passed and Failed count the tests.
func (r Report) Passed() int {
	n := 0
	for _, t := range r.Results {
		if t.Passed() {
			n++
		}
	}
	return n
}

// Failed counts the tests that did not pass.
func (r Report) Failed() int { return len(r.Results) - r.Passed() }

// ExitCode is 2 when a file was invalid, 1 when a test failed, else 0.
func (r Report) ExitCode() int {
	switch {
	case len(r.Invalid) > 0:
		return 2
	case r.Failed() > 0:
		return 1
	}
	return 0
}

// RunFiles loads and runs rule-test files, writing one line per test to w
// ("ok FILE: NAME" or "FAIL FILE: NAME" followed by indented details), then
// "N passed, M failed".
func RunFiles(ctx context.Context, w io.Writer, paths ...string) Report {
	var rep Report
	for _, p := range paths {
		f, err := LoadFile(p)
		if err != nil {
			rep.Invalid = append(rep.Invalid, err)
			fmt.Fprintf(w, "INVALID %s\n%s\n", p, indent(err.Error()))
			continue
		}
		for _, r := range f.Run(ctx) {
			rep.Results = append(rep.Results, r)
			if r.Passed() {
				fmt.Fprintf(w, "ok %s: %s\n", r.File, r.Name)
				continue
			}
			fmt.Fprintf(w, "FAIL %s: %s\n", r.File, r.Name)
			if r.Err != nil {
				fmt.Fprintf(w, "%s\n", indent(r.Err.Error()))
			}
			for _, fl := range r.Failures {
				fmt.Fprintf(w, "%s\n", indent(fl))
			}
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", rep.Passed(), rep.Failed())
	return rep
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
