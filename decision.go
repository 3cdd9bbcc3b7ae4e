package flapjack

import (
	"strconv"
	"strings"
	"time"
)

// The sources of decision records.
const (
	// DecidedByProcessor marks a record of what the processor made of an event.
	DecidedByProcessor = "processor"
	// DecidedByNotifier marks a record of whom a notification alerted.
	DecidedByNotifier = "notifier"
)

// The outcomes of decision records.
const (
	// OutcomeNotification: the event made a notification.
	OutcomeNotification = "notification"
	// OutcomeNoNotification: a filter kept the event from making a notification.
	OutcomeNoNotification = "no notification"
	// OutcomeAlerted: the notification alerted at least one medium.
	OutcomeAlerted = "alerted"
	// OutcomeNotAlerted: the notification alerted no medium.
	OutcomeNotAlerted = "not alerted"
)

// DecisionRecord is one entry of a check's decision log: what the processor made
// of an event about the check, or whom the notifier alerted for a notification,
// and why, in the words of the trace. Operators read it to learn why a check did
// or did not alert.
//
// Consecutive records that decided the same thing for the same reason (see Key)
// are kept as one, with Count the number of decisions it stands for, Time the
// first of them and Last the latest; the rest of the record is the latest's.
type DecisionRecord struct {
	CheckID   string `json:"check_id"`
	CheckName string `json:"check_name"`
	// Source is DecidedByProcessor or DecidedByNotifier.
	Source string `json:"source"`
	// Time is when the first of the decisions was made, Last the latest.
	Time  time.Time `json:"time"`
	Last  time.Time `json:"last"`
	Count int64     `json:"count"`
	// Event is what was decided on: for the processor the result or action
	// ("critical", "ok", "acknowledgement", "test_notifications"), for the
	// notifier the notification's type ("problem", "recovery",
	// "acknowledgement", "test").
	Event   string `json:"event"`
	Summary string `json:"summary,omitempty"`
	// Outcome is one of the Outcome constants.
	Outcome string `json:"outcome"`
	// BlockedBy names the filter that kept the event from notifying.
	BlockedBy string `json:"blocked_by,omitempty"`
	// NotificationID is the notification the event made, or the notifier
	// handled: it joins a processor's record to the notifier's.
	NotificationID string `json:"notification_id,omitempty"`
	// Alerts are who the notifier alerted, in medium id order.
	Alerts []DecisionAlert `json:"alerts,omitempty"`
	Trace  Trace           `json:"trace"`
}

// DecisionAlert is one alert a notifier decision sent. It names the medium and
// its contact, not the address: addresses of some transports are credentials.
type DecisionAlert struct {
	ContactID   string    `json:"contact_id"`
	ContactName string    `json:"contact_name,omitempty"`
	MediumID    string    `json:"medium_id"`
	Transport   string    `json:"transport"`
	Type        AlertType `json:"type"`
	Rollup      Rollup    `json:"rollup,omitempty"`
}

// Key identifies what a record decided: two consecutive records of a check with
// the same key are kept as one. It is made of the source, the event, the
// outcome, the filter that blocked and the media alerted, not of details that
// change with every event such as how long a check has been failing.
func (r *DecisionRecord) Key() string {
	var b strings.Builder
	n := len(r.Source) + len(r.Event) + len(r.Outcome) + len(r.BlockedBy) + 3
	for _, a := range r.Alerts {
		n += len(a.MediumID) + len(a.Type) + len(a.Rollup) + 2
	}
	b.Grow(n)
	b.WriteString(r.Source)
	b.WriteByte('|')
	b.WriteString(r.Event)
	b.WriteByte('|')
	b.WriteString(r.Outcome)
	b.WriteByte('|')
	b.WriteString(r.BlockedBy)
	for _, a := range r.Alerts {
		b.WriteByte('|')
		b.WriteString(a.MediumID)
		b.WriteByte(':')
		b.WriteString(string(a.Type))
		b.WriteString(string(a.Rollup))
	}
	// The key is one line: stores may keep it in front of the record.
	return strings.ReplaceAll(b.String(), "\n", " ")
}

// SameDecision reports whether r and o have the same Key, without making it.
func (r *DecisionRecord) SameDecision(o *DecisionRecord) bool {
	if r.Source != o.Source || r.Event != o.Event || r.Outcome != o.Outcome || r.BlockedBy != o.BlockedBy ||
		len(r.Alerts) != len(o.Alerts) {
		return false
	}
	for i := range r.Alerts {
		a, b := &r.Alerts[i], &o.Alerts[i]
		if a.MediumID != b.MediumID || a.Type != b.Type || a.Rollup != b.Rollup {
			return false
		}
	}
	return true
}

// Merge folds next, a later record with the same key, into r: r then stands for
// both decisions and says what the later one said.
func (r *DecisionRecord) Merge(next DecisionRecord) {
	first, count := r.Time, r.Count
	*r = next
	r.Time = first
	r.Count = max(count, 1) + max(next.Count, 1)
	if r.Last.IsZero() {
		r.Last = next.Time
	}
}

// Explanation says in plain words what was decided and why, e.g.
// "A critical result made no notification: failing for 10s, less than the
// initial failure delay of 30s."
func (r *DecisionRecord) Explanation() string {
	var b strings.Builder
	switch r.Source {
	case DecidedByNotifier:
		b.WriteString(article(r.Event + " notification"))
		if len(r.Alerts) == 0 {
			b.WriteString(" alerted nobody")
			if why := r.lastDetail("routing", "none"); why != "" {
				b.WriteString(": ")
				b.WriteString(why)
			} else if why := r.lastDetail("", "skip"); why != "" {
				b.WriteString(": ")
				b.WriteString(why)
			}
		} else {
			b.WriteString(" alerted ")
			for i, a := range r.Alerts {
				if i > 0 {
					if i == len(r.Alerts)-1 {
						b.WriteString(" and ")
					} else {
						b.WriteString(", ")
					}
				}
				name := a.ContactName
				if name == "" {
					name = "contact " + a.ContactID
				}
				b.WriteString(name)
				b.WriteString(" by ")
				b.WriteString(a.Transport)
				if a.Rollup != NoRollup {
					b.WriteString(" (" + string(a.Rollup) + " summary)")
				}
			}
		}
	default:
		what := r.Event + " result"
		switch Action(r.Event) {
		case Acknowledgement:
			what = r.Event
		case TestNotifications:
			what = "request for test notifications"
		}
		b.WriteString(article(what))
		switch r.Outcome {
		case OutcomeNotification:
			if kind := r.lastOutcome("notification"); kind != "" {
				b.WriteString(" made " + strings.ToLower(article(kind+" notification")))
			} else {
				b.WriteString(" made a notification")
			}
		default:
			b.WriteString(" made no notification")
			if r.BlockedBy != "" {
				if why := r.lastDetail("filter:"+r.BlockedBy, "block"); why != "" {
					b.WriteString(": ")
					b.WriteString(why)
				} else {
					b.WriteString(": blocked by the " + r.BlockedBy + " filter")
				}
			} else if why := r.lastDetail("check", ""); why != "" {
				b.WriteString(": ")
				b.WriteString(why)
			}
		}
	}
	b.WriteByte('.')
	if r.Count > 1 {
		b.WriteString(" The same for " + strconv.FormatInt(r.Count, 10) + " in a row.")
	}
	return b.String()
}

// lastDetail is the detail of the last trace step of stage (any stage when
// empty) with outcome (any outcome when empty).
func (r *DecisionRecord) lastDetail(stage, outcome string) string {
	for i := len(r.Trace.Steps) - 1; i >= 0; i-- {
		s := r.Trace.Steps[i]
		if (stage == "" || s.Stage == stage) && (outcome == "" || s.Outcome == outcome) {
			return s.Detail
		}
	}
	return ""
}

// lastOutcome is the outcome of the last trace step of stage.
func (r *DecisionRecord) lastOutcome(stage string) string {
	for i := len(r.Trace.Steps) - 1; i >= 0; i-- {
		if s := r.Trace.Steps[i]; s.Stage == stage {
			return s.Outcome
		}
	}
	return ""
}

// article puts "A" or "An" before s.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
		return "An " + s
	}
	return "A " + s
}
