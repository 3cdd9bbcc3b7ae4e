package processor

import (
	"slices"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/filter"
)

// Settings are the processor's tunable defaults.
type Settings struct {
	// InitialFailureDelay, RepeatFailureDelay and InitialRecoveryDelay are the
	// configured delays in seconds, used when neither the event nor the check gives
	// one. Nil or negative means the built-in default: 30, 60 and 0.
	InitialFailureDelay  *int64
	RepeatFailureDelay   *int64
	InitialRecoveryDelay *int64
	// NewCheckScheduledMaintenance, when positive, puts every check first seen by
	// the processor into scheduled maintenance for this long, so that new checks do
	// not alert until someone ends it. Default 0: off.
	NewCheckScheduledMaintenance time.Duration
	// NewCheckScheduledMaintenanceIgnore exempts checks whose name matches it.
	NewCheckScheduledMaintenanceIgnore interface{ MatchString(string) bool }
}

// The built-in delays, in seconds.
const (
	DefaultInitialFailureDelay  int64 = 30
	DefaultRepeatFailureDelay   int64 = 60
	DefaultInitialRecoveryDelay int64 = 0
)

// NewCheckMaintenanceSummary is the summary of a new check's scheduled maintenance.
const NewCheckMaintenanceSummary = "Automatically created for new check"

// Input is everything one decision depends on.
type Input struct {
	// Check is the check's record; Decide changes it in place.
	Check *flapjack.Check
	// Created is true when the check did not exist before this event.
	Created bool
	// Event must be valid (see flapjack.Event.Validate).
	Event    *flapjack.Event
	Now      time.Time
	Settings Settings
	// Filters is the chain to run; nil means filter.Default().
	Filters filter.Chain
	// NewID makes ids for notifications and maintenance windows.
	NewID func() string
}

// Decision is what the processor decided for one event.
type Decision struct {
	// History holds the states to append to the check's history.
	History []flapjack.State
	// Notification is the notification to send, or nil.
	Notification *flapjack.Notification
	// BlockedBy names the filter that blocked, if one did.
	BlockedBy string
	// Stats are the counters this event adds.
	Stats flapjack.Statistics
	Trace flapjack.Trace
}

// Decide applies Flapjack's per-event algorithm to a check record: it classifies the
// event, updates the check and its history, runs the filters and builds the
// notification. It does no I/O and reads no clock, so the same decision is made
// in-process, on Redis and in rule tests.
func Decide(in Input) Decision {
	var d Decision
	check, ev, now := in.Check, in.Event, in.Now
	cond, action := ev.Condition(), ev.Action()
	service := action == flapjack.NoAction

	// The old state, the new one and the filters' input reach the filters by
	// pointer, so they live on the heap: in one allocation, as this is done for
	// every event.
	w := new(struct {
		old, new flapjack.State
		fin      filter.Input
	})
	var old *flapjack.State
	if check.CurrentState != nil {
		w.old = *check.CurrentState
		old = &w.old
	}
	newState := &w.new
	*newState = flapjack.State{CreatedAt: now, UpdatedAt: now, Summary: ev.Summary, Details: ev.Details}

	d.Stats.AllEvents = 1
	if service {
		check.Failing = cond.Unhealthy()
		check.Condition = cond
		if check.Failing {
			d.Stats.FailureEvents = 1
		} else {
			d.Stats.OKEvents = 1
		}
		newState.Condition = cond
		newState.Perfdata = flapjack.ParsePerfdata(ev.Perfdata)
		if !check.Enabled {
			check.Enabled = true
			d.Trace.Add("check", "enabled", "a check result re-enables a disabled check")
		}
	} else {
		newState.Action = action
		if old != nil {
			newState.Condition = old.Condition
		}
		if action == flapjack.Acknowledgement {
			d.Stats.ActionEvents = 1
		}
	}

	if in.Created && in.Settings.NewCheckScheduledMaintenance > 0 &&
		(in.Settings.NewCheckScheduledMaintenanceIgnore == nil || !in.Settings.NewCheckScheduledMaintenanceIgnore.MatchString(check.Name)) {
		m := flapjack.Maintenance{
			ID:      newID(in),
			Start:   now,
			End:     now.Add(in.Settings.NewCheckScheduledMaintenance),
			Summary: NewCheckMaintenanceSummary,
		}
		check.ScheduledMaintenances = append(check.ScheduledMaintenances, m)
		d.Trace.Add("check", "maintenance", "new check: scheduled maintenance until "+m.End.UTC().Format(time.RFC3339))
	}

	if (old == nil || old.Condition == flapjack.NoCondition) && service && cond == flapjack.OK {
		st := *newState
		check.CurrentState = &st
		d.History = append(d.History, st)
		d.Trace.Add("check", "stored", "first ok result of the check: recorded without notification")
		return d
	}

	delays := effectiveDelays(in.Settings, check, ev, service)

	if service {
		if old == nil || cond != old.Condition {
			st := *newState
			check.CurrentState = &st
			d.History = append(d.History, st)
		} else {
			cur := check.CurrentState
			cur.UpdatedAt = now
			cur.Summary, cur.Details, cur.Perfdata = newState.Summary, newState.Details, newState.Perfdata
		}
	}

	chain := in.Filters
	if chain == nil {
		chain = filter.Default()
	}
	fin := &w.fin
	*fin = filter.Input{
		Now: now, Event: ev, Condition: cond, Action: action,
		Check: check, OldState: old, NewState: newState,
		Delays: delays, NewID: in.NewID,
	}
	res := chain.Apply(fin)
	// One step per filter, plus the notification's and perhaps one or two before.
	d.Trace.Steps = slices.Grow(d.Trace.Steps, len(res.Steps)+1)
	for _, s := range res.Steps {
		outcome := "pass"
		if s.Block {
			outcome = "block"
		}
		d.Trace.Add(filterStage(s.Filter), outcome, s.Reason)
	}
	if !res.Passed() {
		d.BlockedBy = res.BlockedBy
		return d
	}
	d.Notification = notification(in, old, *newState)
	n := d.Notification
	d.Trace.Add("notification", string(n.Type()), "severity "+string(n.Severity))
	return d
}

// filterStage is the trace stage of the filter named name, "filter:<name>"; the
// built-in filters' stages are constants, so that tracing costs no allocation.
func filterStage(name string) string {
	switch name {
	case filter.NameOk:
		return "filter:" + filter.NameOk
	case filter.NameScheduledMaintenance:
		return "filter:" + filter.NameScheduledMaintenance
	case filter.NameUnscheduledMaintenance:
		return "filter:" + filter.NameUnscheduledMaintenance
	case filter.NameDelays:
		return "filter:" + filter.NameDelays
	case filter.NameAcknowledgement:
		return "filter:" + filter.NameAcknowledgement
	}
	return "filter:" + name
}

// notification builds the notification for an event that passed every filter and
// does the check's notification bookkeeping.
func notification(in Input, old *flapjack.State, st flapjack.State) *flapjack.Notification {
	check, ev := in.Check, in.Event
	cond, action := ev.Condition(), ev.Action()
	n := &flapjack.Notification{
		ID:        newID(in),
		CheckID:   check.ID,
		CheckName: check.Name,
		State:     st,
	}
	if old != nil {
		n.ConditionDuration = st.CreatedAt.Sub(old.CreatedAt)
	}
	if action == flapjack.TestNotifications {
		n.Severity = ev.TestCondition()
		return n
	}
	if action == flapjack.Acknowledgement {
		n.Duration = ev.AcknowledgementDuration()
	}

	// Keep one snapshot per condition and one per action.
	check.LatestNotifications = slices.DeleteFunc(check.LatestNotifications, func(s flapjack.State) bool {
		if action == flapjack.NoAction {
			return s.Condition == cond
		}
		return s.Action == action
	})
	check.LatestNotifications = append(check.LatestNotifications, st)

	// Route by the most severe problem notified since the last recovery, so that
	// the acknowledgement and the recovery of a page reach whoever was paged. An
	// acknowledgement keeps it (Flapjack v2 cleared it there, which routed the
	// later recovery as "ok", past every rule limited to the failing condition);
	// the recovery resets it.
	severity := check.MostSevere
	switch {
	case action == flapjack.NoAction && cond.Unhealthy():
		if cond.MoreSevereThan(check.MostSevere) {
			check.MostSevere = cond
		}
		severity = check.MostSevere
	case action == flapjack.NoAction && cond.Healthy():
		check.MostSevere = flapjack.NoCondition
	}
	if severity == flapjack.NoCondition {
		severity = flapjack.OK
	}
	n.Severity = severity
	if action == flapjack.NoAction && cond.Unhealthy() {
		n.EventHash = check.AckHash
	}
	check.NotificationCount++
	return n
}

// effectiveDelays resolves each delay: the event's (service events only), else the
// check's, else the configured, else the built-in default. An explicit 0 counts.
func effectiveDelays(s Settings, c *flapjack.Check, ev *flapjack.Event, service bool) filter.Delays {
	pick := func(fromEvent, fromCheck, fromConfig *int64, def int64) time.Duration {
		v := def
		switch {
		case service && fromEvent != nil && *fromEvent >= 0:
			v = *fromEvent
		case fromCheck != nil && *fromCheck >= 0:
			v = *fromCheck
		case fromConfig != nil && *fromConfig >= 0:
			v = *fromConfig
		}
		return time.Duration(v) * time.Second
	}
	return filter.Delays{
		InitialFailure:  pick(ev.InitialFailureDelay, c.InitialFailureDelay, s.InitialFailureDelay, DefaultInitialFailureDelay),
		RepeatFailure:   pick(ev.RepeatFailureDelay, c.RepeatFailureDelay, s.RepeatFailureDelay, DefaultRepeatFailureDelay),
		InitialRecovery: pick(ev.InitialRecoveryDelay, c.InitialRecoveryDelay, s.InitialRecoveryDelay, DefaultInitialRecoveryDelay),
	}
}

func newID(in Input) string {
	if in.NewID == nil {
		return ""
	}
	return in.NewID()
}
