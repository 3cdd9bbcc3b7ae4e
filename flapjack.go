// Package flapjack holds the domain types shared by every part of Flapjack for Go:
// conditions and their severity order, checks and their states, maintenance windows,
// contacts, media, rules, notifications, alerts, and the Clock through which all
// time is read.
//
// Flapjack turns a steady stream of check results (events) into notifications for
// people. It decides by how long a check has been failing, never by how many failing
// results it saw. The pipeline is
//
//	producers → events queue → processor → notifications queue → notifier → alert queues → gateways
//
// Each stage lives in its own package: [github.com/x/flapjack/processor],
// [github.com/x/flapjack/filter], [github.com/x/flapjack/notifier] and
// [github.com/x/flapjack/gateway]; storage and queues are behind the interfaces of
// [github.com/x/flapjack/store].
package flapjack

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Condition is the health a check reports: ok, or one of the unhealthy conditions
// critical, warning and unknown. The zero value means "no condition yet".
type Condition string

// The conditions, most severe first.
const (
	Critical Condition = "critical"
	Warning  Condition = "warning"
	Unknown  Condition = "unknown"
	OK       Condition = "ok"
	// NoCondition is a check that has never reported a condition.
	NoCondition Condition = ""
)

// UnhealthyConditions lists the unhealthy conditions, most severe first.
var UnhealthyConditions = []Condition{Critical, Warning, Unknown}

// ErrUnknownCondition is returned by ParseCondition for a name that is not a condition.
var ErrUnknownCondition = errors.New("unknown condition")

// ParseCondition returns the condition named s, ignoring case.
func ParseCondition(s string) (Condition, error) {
	switch c := Condition(strings.ToLower(s)); c {
	case OK, Critical, Warning, Unknown:
		return c, nil
	}
	return NoCondition, fmt.Errorf("%w %q (want ok, critical, warning or unknown)", ErrUnknownCondition, s)
}

// Healthy reports whether c is ok. NoCondition is neither healthy nor unhealthy.
func (c Condition) Healthy() bool { return c == OK }

// Unhealthy reports whether c is critical, warning or unknown.
func (c Condition) Unhealthy() bool { return c == Critical || c == Warning || c == Unknown }

// Severity ranks conditions: critical 3 > warning 2 > unknown 1 > ok 0 > none -1.
func (c Condition) Severity() int {
	switch c {
	case Critical:
		return 3
	case Warning:
		return 2
	case Unknown:
		return 1
	case OK:
		return 0
	}
	return -1
}

// MoreSevereThan reports whether c ranks above o.
func (c Condition) MoreSevereThan(o Condition) bool { return c.Severity() > o.Severity() }

// Title is the condition as people read it: "OK", "Critical", "Warning", "Unknown".
func (c Condition) Title() string {
	switch c {
	case OK:
		return "OK"
	case NoCondition:
		return ""
	}
	return strings.ToUpper(string(c[:1])) + string(c[1:])
}

// Action is what a non-monitoring event asks for.
type Action string

const (
	// NoAction marks a service event (a check result).
	NoAction Action = ""
	// Acknowledgement acknowledges a failing check: it creates unscheduled maintenance.
	Acknowledgement Action = "acknowledgement"
	// TestNotifications asks for a test alert to every medium that would be alerted.
	TestNotifications Action = "test_notifications"
)

// Clock is the one source of the current time. Everything that needs time takes a
// Clock, so that tests and rule tests can run on a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of the machine.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ClockFunc adapts a function to a Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// PerfDatum is one item of Nagios performance data: "key=value;warn;crit;min;max"
// keeps the key and the text before the first ';'.
type PerfDatum struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// State is a snapshot of a check at one moment. A check's history holds one State per
// change of condition; other States are kept as notification snapshots.
type State struct {
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	Condition Condition   `json:"condition,omitempty"`
	Action    Action      `json:"action,omitempty"`
	Summary   string      `json:"summary,omitempty"`
	Details   string      `json:"details,omitempty"`
	Perfdata  []PerfDatum `json:"perfdata,omitempty"`
}

// Maintenance is a window during which a check does not alert: scheduled
// (planned; blocks everything) or unscheduled (an acknowledgement; blocks problems).
type Maintenance struct {
	ID      string    `json:"id"`
	Start   time.Time `json:"start_time"`
	End     time.Time `json:"end_time"`
	Summary string    `json:"summary,omitempty"`
}

// Covers reports whether t falls in the window; both ends are inclusive.
func (m Maintenance) Covers(t time.Time) bool { return !t.Before(m.Start) && !t.After(m.End) }

// ErrMaintenanceOver is returned when ending a scheduled maintenance that already ended.
var ErrMaintenanceOver = errors.New("maintenance already over")

// Check is a monitored thing, named "entity:check" by convention. It is the record
// the processor reads and writes for every event about it.
type Check struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Enabled bool     `json:"enabled"`
	Tags    []string `json:"tags,omitempty"` // tag names, sorted

	// Per-check delays in seconds; nil means "use the configured default".
	InitialFailureDelay  *int64 `json:"initial_failure_delay,omitempty"`
	RepeatFailureDelay   *int64 `json:"repeat_failure_delay,omitempty"`
	InitialRecoveryDelay *int64 `json:"initial_recovery_delay,omitempty"`

	// AckHash is the first 8 lower-case hex digits of SHA-1 over ID, unique among
	// checks; people quote it to acknowledge a problem from chat.
	AckHash           string    `json:"ack_hash"`
	NotificationCount int64     `json:"notification_count"`
	Condition         Condition `json:"condition,omitempty"`
	Failing           bool      `json:"failing"`
	// Alertable is true while the check counts toward rollups: set by a problem
	// notification, cleared by a recovery, an acknowledgement or unscheduled maintenance.
	Alertable bool `json:"alertable"`

	// CurrentState is the newest entry of the history, kept up to date by every
	// event of the same condition (updated_at, summary, details, perfdata).
	CurrentState *State `json:"current_state,omitempty"`
	// LatestNotifications holds the snapshot of the last notification per condition
	// and per action.
	LatestNotifications []State `json:"latest_notifications,omitempty"`
	// MostSevere is the most severe unhealthy condition notified since the last
	// recovery; notifications, acknowledgements and the recovery itself are
	// routed with it.
	MostSevere Condition `json:"most_severe,omitempty"`

	ScheduledMaintenances   []Maintenance `json:"scheduled_maintenances,omitempty"`
	UnscheduledMaintenances []Maintenance `json:"unscheduled_maintenances,omitempty"`
}

// HasTag reports whether the check carries tag name.
func (c *Check) HasTag(name string) bool {
	for _, t := range c.Tags {
		if t == name {
			return true
		}
	}
	return false
}

// InScheduledMaintenance returns the first scheduled maintenance covering t.
func (c *Check) InScheduledMaintenance(t time.Time) (Maintenance, bool) {
	return covering(c.ScheduledMaintenances, t)
}

// InUnscheduledMaintenance returns the first unscheduled maintenance covering t.
func (c *Check) InUnscheduledMaintenance(t time.Time) (Maintenance, bool) {
	return covering(c.UnscheduledMaintenances, t)
}

func covering(ms []Maintenance, t time.Time) (Maintenance, bool) {
	for _, m := range ms {
		if m.Covers(t) {
			return m, true
		}
	}
	return Maintenance{}, false
}

// SetUnscheduledMaintenance records an acknowledgement's window m at time now: the
// check stops counting toward rollups, and a window current at now is ended at
// m.Start when m still has time to run (a re-acknowledgement replaces the old one).
func (c *Check) SetUnscheduledMaintenance(m Maintenance, now time.Time) {
	c.Alertable = false
	if m.End.After(now) {
		for i := range c.UnscheduledMaintenances {
			if c.UnscheduledMaintenances[i].Covers(now) {
				c.UnscheduledMaintenances[i].End = m.Start
			}
		}
	}
	c.UnscheduledMaintenances = append(c.UnscheduledMaintenances, m)
}

// EndUnscheduledMaintenance ends every unscheduled maintenance current at now by
// setting its end to at. It reports whether any window was ended.
func (c *Check) EndUnscheduledMaintenance(now, at time.Time) bool {
	ended := false
	for i := range c.UnscheduledMaintenances {
		if c.UnscheduledMaintenances[i].Covers(now) {
			c.UnscheduledMaintenances[i].End = at
			ended = true
		}
	}
	return ended
}

// EndScheduledMaintenance ends the scheduled maintenance with the given id at t: a
// window starting at or after t is deleted, one still running at t is cut to end at
// t, and one already over is left alone with ErrMaintenanceOver.
func (c *Check) EndScheduledMaintenance(id string, t time.Time) error {
	for i, m := range c.ScheduledMaintenances {
		if m.ID != id {
			continue
		}
		switch {
		case !m.Start.Before(t):
			c.ScheduledMaintenances = append(c.ScheduledMaintenances[:i:i], c.ScheduledMaintenances[i+1:]...)
		case !m.End.Before(t):
			c.ScheduledMaintenances[i].End = t
		default:
			return fmt.Errorf("end scheduled maintenance %s of %q: %w at %s", id, c.Name, ErrMaintenanceOver, m.End.UTC().Format(time.RFC3339))
		}
		return nil
	}
	return fmt.Errorf("end scheduled maintenance %s of %q: %w", id, c.Name, ErrNotFound)
}

// ErrNotFound is returned for a record that does not exist.
var ErrNotFound = errors.New("not found")

// Contact is a person or team who owns media and rules.
type Contact struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Timezone is an IANA zone name such as "Europe/Rome"; empty means the
	// notifier's default contact time zone.
	Timezone string `json:"timezone,omitempty"`
	// Tags are tag names, sorted, as on checks. They group contacts; routing
	// does not read them.
	Tags []string `json:"tags,omitempty"`
}

// Medium is one delivery address of a contact on one transport.
type Medium struct {
	ID        string `json:"id"`
	ContactID string `json:"contact_id"`
	Transport string `json:"transport"`
	Address   string `json:"address"`
	// Interval is the least time between two alike alerts on this medium, in seconds.
	Interval int64 `json:"interval"`
	// RollupThreshold, when positive, is the number of alerting checks at which the
	// medium switches to summary (rollup) alerts.
	RollupThreshold      int64  `json:"rollup_threshold,omitempty"`
	PagerdutySubdomain   string `json:"pagerduty_subdomain,omitempty"`
	PagerdutyToken       string `json:"pagerduty_token,omitempty"`
	PagerdutyAckDuration int64  `json:"pagerduty_ack_duration,omitempty"`
}

// MediumState is what the notifier remembers per medium, across all checks: the last
// non-test alert it sent there and the rollup mode of that alert.
type MediumState struct {
	LastState      *State `json:"last_state,omitempty"`
	LastRollupType Rollup `json:"last_rollup_type,omitempty"`
}

// Strategy says how a rule's tags select checks.
type Strategy string

// The rule strategies.
const (
	Global  Strategy = "global"   // every check
	AnyTag  Strategy = "any_tag"  // checks with at least one of the rule's tags
	AllTags Strategy = "all_tags" // checks with all of the rule's tags (no tags: every check)
	NoTag   Strategy = "no_tag"   // checks with none of the rule's tags (no tags: every check)
)

// ParseStrategy validates a strategy name.
func ParseStrategy(s string) (Strategy, error) {
	switch st := Strategy(s); st {
	case Global, AnyTag, AllTags, NoTag:
		return st, nil
	}
	return "", fmt.Errorf("unknown strategy %q (want global, any_tag, all_tags or no_tag)", s)
}

// MatchesTags reports whether a rule with this strategy and tags selects a check
// carrying checkTags.
func (s Strategy) MatchesTags(ruleTags []string, checkTags []string) bool {
	has := func(t string) bool {
		for _, c := range checkTags {
			if c == t {
				return true
			}
		}
		return false
	}
	switch s {
	case Global:
		return true
	case AllTags:
		for _, t := range ruleTags {
			if !has(t) {
				return false
			}
		}
		return true
	case AnyTag:
		for _, t := range ruleTags {
			if has(t) {
				return true
			}
		}
		return false
	case NoTag:
		for _, t := range ruleTags {
			if has(t) {
				return false
			}
		}
		return true
	}
	return false
}

// Rule routes a contact's checks to media. Rules that are not blackholes accept
// media; blackhole rules remove their own media from what the acceptors chose.
type Rule struct {
	ID        string   `json:"id"`
	ContactID string   `json:"contact_id"`
	Name      string   `json:"name,omitempty"`
	Enabled   bool     `json:"enabled"`
	Blackhole bool     `json:"blackhole"`
	Strategy  Strategy `json:"strategy"`
	Tags      []string `json:"tags,omitempty"`
	// Conditions limits the rule to these severities; empty means all.
	Conditions []Condition `json:"conditions,omitempty"`
	// TimeRestrictionICal is an iCalendar VEVENT body; empty means always.
	TimeRestrictionICal string   `json:"time_restriction_ical,omitempty"`
	MediaIDs            []string `json:"media,omitempty"`
}

// MatchesCondition reports whether the rule applies to severity s.
func (r *Rule) MatchesCondition(s Condition) bool {
	if len(r.Conditions) == 0 {
		return true
	}
	for _, c := range r.Conditions {
		if c == s {
			return true
		}
	}
	return false
}

// Notification is what the processor hands the notifier when an event passes every
// filter. It is self-contained: the notifier needs nothing else about the event.
type Notification struct {
	ID        string `json:"id"`
	CheckID   string `json:"check_id"`
	CheckName string `json:"check_name"`
	// Severity routes the notification: the most severe condition notified since the
	// last recovery, critical for tests, ok when there is none.
	Severity Condition `json:"severity"`
	State    State     `json:"state"`
	// Duration is the acknowledgement's length in seconds (acknowledgements only).
	Duration int64 `json:"duration,omitempty"`
	// ConditionDuration is the time between the previous state and this one.
	ConditionDuration time.Duration `json:"condition_duration,omitempty"`
	// EventHash is the check's ack hash on problem notifications.
	EventHash string `json:"event_hash,omitempty"`
	// EventCount is the processor's running count of events when this one arrived.
	EventCount int64 `json:"event_count,omitempty"`
}

// IsTest reports whether n is a test notification.
func (n *Notification) IsTest() bool { return n.State.Action == TestNotifications }

// IsAcknowledgement reports whether n is an acknowledgement.
func (n *Notification) IsAcknowledgement() bool { return n.State.Action == Acknowledgement }

// Type names what the notification announces.
func (n *Notification) Type() AlertType {
	switch {
	case n.IsAcknowledgement():
		return TypeAcknowledgement
	case n.IsTest():
		return TypeTest
	case n.State.Condition.Healthy():
		return TypeRecovery
	}
	return TypeProblem
}

// AlertType is what an alert announces.
type AlertType string

// The alert types.
const (
	TypeProblem         AlertType = "problem"
	TypeRecovery        AlertType = "recovery"
	TypeAcknowledgement AlertType = "acknowledgement"
	TypeTest            AlertType = "test"
)

// Rollup is the summary mode of an alert.
type Rollup string

// The rollup modes.
const (
	NoRollup       Rollup = ""         // a single-check alert
	RollupProblem  Rollup = "problem"  // a summary of all alerting checks
	RollupRecovery Rollup = "recovery" // the summary mode has ended
)

// Alert is one message for one medium, self-contained so that a gateway needs
// nothing but it to deliver.
type Alert struct {
	ID          string    `json:"id"`
	Transport   string    `json:"transport"`
	Address     string    `json:"address"`
	MediumID    string    `json:"medium_id"`
	ContactID   string    `json:"contact_id"`
	ContactName string    `json:"contact_name,omitempty"`
	CheckID     string    `json:"check_id"`
	CheckName   string    `json:"check_name"`
	Type        AlertType `json:"type"`
	Rollup      Rollup    `json:"rollup,omitempty"`

	Condition     Condition `json:"condition,omitempty"`
	Action        Action    `json:"action,omitempty"`
	Summary       string    `json:"summary,omitempty"`
	Details       string    `json:"details,omitempty"`
	Time          time.Time `json:"time"`
	LastCondition Condition `json:"last_condition,omitempty"`
	LastAction    Action    `json:"last_action,omitempty"`
	LastSummary   string    `json:"last_summary,omitempty"`

	ConditionDuration       time.Duration `json:"condition_duration,omitempty"`
	AcknowledgementDuration time.Duration `json:"acknowledgement_duration,omitempty"`
	EventHash               string        `json:"event_hash,omitempty"`
	EventCount              int64         `json:"event_count,omitempty"`

	// RollupStates maps each condition to the sorted names of the checks alerting
	// in it, for rollup alerts.
	RollupStates    map[Condition][]string `json:"rollup_states,omitempty"`
	RollupThreshold int64                  `json:"rollup_threshold,omitempty"`
}

// State returns the action, or the condition when there is no action.
func (a *Alert) State() string {
	if a.Action != NoAction {
		return string(a.Action)
	}
	return string(a.Condition)
}

// LastState returns the previous alert's action, or its condition.
func (a *Alert) LastState() string {
	if a.LastAction != NoAction {
		return string(a.LastAction)
	}
	return string(a.LastCondition)
}

// Statistics are the processor's event counters.
type Statistics struct {
	AllEvents     int64 `json:"all_events"`
	OKEvents      int64 `json:"ok_events"`
	FailureEvents int64 `json:"failure_events"`
	ActionEvents  int64 `json:"action_events"`
	InvalidEvents int64 `json:"invalid_events"`
}

// Add adds d to s.
func (s *Statistics) Add(d Statistics) {
	s.AllEvents += d.AllEvents
	s.OKEvents += d.OKEvents
	s.FailureEvents += d.FailureEvents
	s.ActionEvents += d.ActionEvents
	s.InvalidEvents += d.InvalidEvents
}

// Clone returns a deep copy of c: changing the copy never changes c.
//
// A store copies a check at least twice per event, so the copy is made in few
// allocations: the current state and the latest notifications share one array,
// all their perfdata another, and the delays a third. Every slice of the copy
// is capped at its length, so appending to one never writes into another.
func (c Check) Clone() Check {
	d := c
	d.Tags = cloneSlice(c.Tags)
	if c.InitialFailureDelay != nil || c.RepeatFailureDelay != nil || c.InitialRecoveryDelay != nil {
		delays := new([3]int64)
		d.InitialFailureDelay = copyInto(&delays[0], c.InitialFailureDelay)
		d.RepeatFailureDelay = copyInto(&delays[1], c.RepeatFailureDelay)
		d.InitialRecoveryDelay = copyInto(&delays[2], c.InitialRecoveryDelay)
	}
	nStates, nPerf := len(c.LatestNotifications), 0
	if c.CurrentState != nil {
		nStates++
		nPerf += len(c.CurrentState.Perfdata)
	}
	for i := range c.LatestNotifications {
		nPerf += len(c.LatestNotifications[i].Perfdata)
	}
	states := make([]State, 0, nStates)
	var perf []PerfDatum
	if nPerf > 0 {
		perf = make([]PerfDatum, 0, nPerf)
	}
	if c.CurrentState != nil {
		states = append(states, *c.CurrentState)
		states[0].Perfdata, perf = carvePerfdata(perf, c.CurrentState.Perfdata)
		d.CurrentState = &states[0]
	}
	if c.LatestNotifications != nil {
		start := len(states)
		for _, st := range c.LatestNotifications {
			st.Perfdata, perf = carvePerfdata(perf, st.Perfdata)
			states = append(states, st)
		}
		d.LatestNotifications = states[start:len(states):len(states)]
		if len(d.LatestNotifications) == 0 {
			d.LatestNotifications = []State{} // empty but not nil, as c's
		}
	}
	d.ScheduledMaintenances = cloneSlice(c.ScheduledMaintenances)
	d.UnscheduledMaintenances = cloneSlice(c.UnscheduledMaintenances)
	return d
}

// carvePerfdata appends a copy of p to buf, which has room for it, and returns
// the copy, capped at its length, and buf. Like cloneSlice it keeps nil nil and
// empty empty.
func carvePerfdata(buf, p []PerfDatum) (cp, rest []PerfDatum) {
	switch {
	case p == nil:
		return nil, buf
	case len(p) == 0:
		return []PerfDatum{}, buf
	}
	start := len(buf)
	buf = append(buf, p...)
	return buf[start:len(buf):len(buf)], buf
}

func copyInto(dst, src *int64) *int64 {
	if src == nil {
		return nil
	}
	*dst = *src
	return dst
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	s.Perfdata = cloneSlice(s.Perfdata)
	return s
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}
