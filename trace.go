package flapjack

import "strings"

// Trace records why a component decided what it did for one event or notification:
// which filter blocked, which rules matched, which media were skipped and why. It is
// logged at debug level, returned by the library and shown to operators.
type Trace struct {
	Steps []TraceStep `json:"steps"`
}

// TraceStep is one stage of a decision.
type TraceStep struct {
	// Stage names the part that decided, e.g. "filter:delays" or "medium:ops_email".
	Stage string `json:"stage"`
	// Outcome is a one-word result such as "pass", "block", "send" or "skip".
	Outcome string `json:"outcome"`
	// Detail says why, in plain words.
	Detail string `json:"detail,omitempty"`
}

// Add appends a step.
func (t *Trace) Add(stage, outcome, detail string) {
	t.Steps = append(t.Steps, TraceStep{Stage: stage, Outcome: outcome, Detail: detail})
}

// String renders the trace one step per line.
func (t Trace) String() string {
	var b strings.Builder
	for i, s := range t.Steps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.Stage)
		b.WriteString(": ")
		b.WriteString(s.Outcome)
		if s.Detail != "" {
			b.WriteString(" — ")
			b.WriteString(s.Detail)
		}
	}
	return b.String()
}
