package flapjack

import (
	"strings"
	"testing"
	"time"
)

func TestDecisionExplanation(t *testing.T) {
	step := func(stage, outcome, detail string) TraceStep {
		return TraceStep{Stage: stage, Outcome: outcome, Detail: detail}
	}
	tests := []struct {
		name string
		rec  DecisionRecord
		want string
	}{
		{"blocked by a filter", DecisionRecord{Source: DecidedByProcessor, Event: "warning", Outcome: OutcomeNoNotification,
			BlockedBy: "delays", Trace: Trace{Steps: []TraceStep{step("filter:ok", "pass", "not an ok result"),
				step("filter:delays", "block", "just failed; initial failure delay is 30s")}}},
			"A warning result made no notification: just failed; initial failure delay is 30s."},
		{"blocked, trace lost", DecisionRecord{Source: DecidedByProcessor, Event: "unknown", Outcome: OutcomeNoNotification,
			BlockedBy: "custom"}, "An unknown result made no notification: blocked by the custom filter."},
		{"acknowledged", DecisionRecord{Source: DecidedByProcessor, Event: "acknowledgement", Outcome: OutcomeNotification,
			Trace: Trace{Steps: []TraceStep{step("notification", "acknowledgement", "severity critical")}}},
			"An acknowledgement made an acknowledgement notification."},
		{"test notifications", DecisionRecord{Source: DecidedByProcessor, Event: "test_notifications", Outcome: OutcomeNotification,
			Trace: Trace{Steps: []TraceStep{step("notification", "test", "")}}},
			"A request for test notifications made a test notification."},
		{"acknowledgement of a healthy check", DecisionRecord{Source: DecidedByProcessor, Event: "acknowledgement",
			Outcome: OutcomeNoNotification, BlockedBy: "acknowledgement",
			Trace: Trace{Steps: []TraceStep{step("filter:acknowledgement", "block", "acknowledgement of a check that is not failing")}}},
			"An acknowledgement made no notification: acknowledgement of a check that is not failing."},
		{"merged", DecisionRecord{Source: DecidedByProcessor, Event: "critical", Outcome: OutcomeNoNotification, Count: 4,
			BlockedBy: "scheduled_maintenance", Trace: Trace{Steps: []TraceStep{
				step("filter:scheduled_maintenance", "block", "in scheduled maintenance until 2026-01-01T00:00:00Z")}}},
			"A critical result made no notification: in scheduled maintenance until 2026-01-01T00:00:00Z. The same for 4 in a row."},
		{"nobody to alert", DecisionRecord{Source: DecidedByNotifier, Event: "problem", Outcome: OutcomeNotAlerted,
			Trace: Trace{Steps: []TraceStep{step("routing", "none", "no medium accepts critical notifications about web:http now")}}},
			"A problem notification alerted nobody: no medium accepts critical notifications about web:http now."},
		{"every medium skipped", DecisionRecord{Source: DecidedByNotifier, Event: "problem", Outcome: OutcomeNotAlerted,
			Trace: Trace{Steps: []TraceStep{step("rule:all", "accept", "matches every check"),
				step("medium:ada_email", "skip", "problem alerted 20s ago, within the interval of 60s")}}},
			"A problem notification alerted nobody: problem alerted 20s ago, within the interval of 60s."},
		{"three media, one in summary", DecisionRecord{Source: DecidedByNotifier, Event: "recovery", Outcome: OutcomeAlerted,
			Alerts: []DecisionAlert{
				{ContactName: "Ada", Transport: "email"},
				{ContactID: "k2", Transport: "sms", Rollup: RollupRecovery},
				{ContactName: "Ops", Transport: "slack"},
			}},
			"A recovery notification alerted Ada by email, contact k2 by sms (recovery summary) and Ops by slack."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.Explanation(); got != tt.want {
				t.Errorf("Explanation() =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func TestDecisionKeyAndMerge(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := DecisionRecord{Source: DecidedByProcessor, Event: "critical", Outcome: OutcomeNoNotification, BlockedBy: "delays",
		Time: t0, Last: t0, Count: 1, Summary: "first"}
	a.Trace.Add("filter:delays", "block", "failing for 10s")
	b := a
	b.Time, b.Last, b.Summary = t0.Add(10*time.Second), t0.Add(10*time.Second), "second"
	b.Trace = Trace{}
	b.Trace.Add("filter:delays", "block", "failing for 20s")
	if a.Key() != b.Key() || !a.SameDecision(&b) {
		t.Fatalf("details changed the key: %q vs %q", a.Key(), b.Key())
	}
	for _, other := range []func(r *DecisionRecord){
		func(r *DecisionRecord) { r.Source = DecidedByNotifier },
		func(r *DecisionRecord) { r.Event = "warning" },
		func(r *DecisionRecord) { r.Outcome = OutcomeNotification },
		func(r *DecisionRecord) { r.BlockedBy = "ok" },
		func(r *DecisionRecord) { r.Alerts = []DecisionAlert{{MediumID: "m1", Type: TypeProblem}} },
	} {
		c := a
		other(&c)
		if c.Key() == a.Key() {
			t.Errorf("records that decided differently share the key %q", a.Key())
		}
		if a.SameDecision(&c) || c.SameDecision(&a) {
			t.Errorf("SameDecision(%q, %q) = true", a.Key(), c.Key())
		}
	}
	nl := a
	nl.Event = "crit\nical"
	if k := nl.Key(); len(k) == 0 || strings.Contains(k, "\n") {
		t.Errorf("key %q has a newline", k)
	}
	m := a
	m.Merge(b)
	if m.Count != 2 || !m.Time.Equal(t0) || !m.Last.Equal(b.Last) || m.Summary != "second" || m.Trace.Steps[0].Detail != "failing for 20s" {
		t.Errorf("merged = %+v", m)
	}
}
