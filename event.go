package flapjack

import "strings"

// DefaultAcknowledgementDuration is how long an acknowledgement silences a check when
// its event gives no duration: 4 hours.
const DefaultAcknowledgementDuration int64 = 4 * 60 * 60

// Event is one check result, acknowledgement or test request, as producers send it.
// Its JSON form is the wire format of Flapjack v2: see ParseEvent for the rules.
//
// Programs that build events in Go fill the fields and call Validate (the processor
// does so too); State may then be given in any case.
type Event struct {
	// Entity, when not empty, prefixes the check name: "<entity>:<check>".
	Entity string
	// Check is the check name, or its part after the entity. Required.
	Check string
	// State is ok, warning, critical, unknown, acknowledgement, or
	// test_notifications optionally followed by an unhealthy condition. Required;
	// Validate lower-cases it.
	State string
	// Time is the producer's Unix time; validated and otherwise not used: Flapjack
	// times everything by when it processes the event.
	Time int64
	// Summary, Details and Perfdata are trimmed; Perfdata is Nagios performance data.
	Summary  string
	Details  string
	Perfdata string
	// Per-event delays in seconds; nil means not given. An explicit 0 is a value:
	// it overrides the check's and the configured delays.
	InitialFailureDelay  *int64
	RepeatFailureDelay   *int64
	InitialRecoveryDelay *int64
	// AcknowledgementID is the ack hash an acknowledgement was made with (chat).
	AcknowledgementID string
	// Duration is an acknowledgement's length in seconds; nil means the default
	// of 4 hours.
	Duration *int64
	// Tags are validated and otherwise ignored: routing uses the check's own tags.
	Tags []string
}

// CheckName is the name of the check the event is about.
func (e *Event) CheckName() string {
	if e.Entity == "" {
		return e.Check
	}
	return e.Entity + ":" + e.Check
}

// Condition is the condition a service event reports, or NoCondition for an
// acknowledgement or a test request (and for an invalid state).
func (e *Event) Condition() Condition {
	c, _, _, _ := classifyState(e.State)
	return c
}

// Action is NoAction for a service event, else Acknowledgement or TestNotifications.
func (e *Event) Action() Action {
	_, a, _, _ := classifyState(e.State)
	return a
}

// TestCondition is the condition a test request asks to be alerted as: the one
// after "test_notifications", critical when none is given.
func (e *Event) TestCondition() Condition {
	_, _, t, _ := classifyState(e.State)
	return t
}

// AcknowledgementDuration is the acknowledgement's length in seconds: Duration when
// positive, else DefaultAcknowledgementDuration.
func (e *Event) AcknowledgementDuration() int64 {
	if e.Duration != nil && *e.Duration > 0 {
		return *e.Duration
	}
	return DefaultAcknowledgementDuration
}

// classifyState splits a state string into what it means. ok reports whether the
// state is one Flapjack knows.
func classifyState(state string) (cond Condition, action Action, test Condition, ok bool) {
	s := state
	if !isLower(s) {
		s = strings.ToLower(s)
	}
	switch Condition(s) {
	case OK, Critical, Warning, Unknown:
		return Condition(s), NoAction, NoCondition, true
	}
	if s == string(Acknowledgement) {
		return NoCondition, Acknowledgement, NoCondition, true
	}
	rest, found := strings.CutPrefix(s, string(TestNotifications))
	if !found {
		return NoCondition, NoAction, NoCondition, false
	}
	if rest == "" {
		return NoCondition, TestNotifications, Critical, true
	}
	trimmed := strings.TrimLeft(rest, " \t\r\n\v\f")
	if len(trimmed) == len(rest) { // "test_notificationswarning": no separator
		return NoCondition, NoAction, NoCondition, false
	}
	switch c := Condition(trimmed); c {
	case Critical, Warning, Unknown:
		return NoCondition, TestNotifications, c, true
	}
	return NoCondition, NoAction, NoCondition, false
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}
