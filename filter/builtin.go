package filter

import (
	"strconv"
	"time"

	"github.com/x/flapjack"
)

// The built-in filters' names, as used in traces and rule tests.
const (
	NameOk                     = "ok"
	NameScheduledMaintenance   = "scheduled_maintenance"
	NameUnscheduledMaintenance = "unscheduled_maintenance"
	NameDelays                 = "delays"
	NameAcknowledgement        = "acknowledgement"
)

// Ok handles ok results: it ends any acknowledgement (a recovery clears it) and lets
// a recovery through only when the check's last notification was a problem.
type Ok struct{}

// Name implements Filter.
func (Ok) Name() string { return NameOk }

// Apply implements Filter.
func (Ok) Apply(in *Input) Verdict {
	if !in.IsService() || in.Condition != flapjack.OK {
		return Pass("not an ok result")
	}
	ended := in.Check.EndUnscheduledMaintenance(in.Now, in.Now)
	if in.OldState == nil {
		return Block("ok result for a check with no previous state")
	}
	last := lastNotification(in.Check, nil)
	if last == nil {
		return Block("ok result for a check that was never notified")
	}
	if last.Condition.Healthy() {
		return Block("ok result after a recovery was already notified")
	}
	if ended {
		return Pass("recovery after a problem notification; acknowledgement ended")
	}
	return Pass("recovery after a problem notification")
}

// ScheduledMaintenance blocks every event while the check is in a scheduled
// maintenance window (both ends inclusive).
type ScheduledMaintenance struct{}

// Name implements Filter.
func (ScheduledMaintenance) Name() string { return NameScheduledMaintenance }

// Apply implements Filter.
func (ScheduledMaintenance) Apply(in *Input) Verdict {
	if m, ok := in.Check.InScheduledMaintenance(in.Now); ok {
		return Block("in scheduled maintenance until " + m.End.UTC().Format(time.RFC3339))
	}
	return Pass("not in scheduled maintenance")
}

// UnscheduledMaintenance blocks problems and tests while the check is acknowledged;
// acknowledgements and events whose new condition is ok pass.
type UnscheduledMaintenance struct{}

// Name implements Filter.
func (UnscheduledMaintenance) Name() string { return NameUnscheduledMaintenance }

// Apply implements Filter.
func (UnscheduledMaintenance) Apply(in *Input) Verdict {
	m, ok := in.Check.InUnscheduledMaintenance(in.Now)
	if !ok {
		return Pass("not in unscheduled maintenance")
	}
	if in.Action == flapjack.Acknowledgement {
		return Pass("acknowledgement during unscheduled maintenance")
	}
	if in.NewState.Condition.Healthy() {
		return Pass("ok during unscheduled maintenance")
	}
	return Block("acknowledged: in unscheduled maintenance until " + m.End.UTC().Format(time.RFC3339))
}

// DelaysFilter applies the initial failure, repeat failure and initial recovery
// delays to service events; actions pass. Failure duration < initial failure delay
// blocks, time since the last problem notification ≤ repeat failure delay blocks,
// ok duration < initial recovery delay blocks.
type DelaysFilter struct{}

// Name implements Filter.
func (DelaysFilter) Name() string { return NameDelays }

// Apply implements Filter.
func (DelaysFilter) Apply(in *Input) Verdict {
	if !in.IsService() {
		return Pass("actions are not delayed")
	}
	old, d := in.OldState, in.Delays
	wasFailing := old != nil && old.Condition.Unhealthy()
	isFailing := in.Condition.Unhealthy()
	switch {
	case !wasFailing && isFailing:
		if d.InitialFailure > 0 {
			return Block("just failed; initial failure delay is " + secs(d.InitialFailure))
		}
		return Pass("just failed; no initial failure delay")
	case wasFailing && !isFailing:
		if d.InitialRecovery > 0 {
			return Block("just recovered; initial recovery delay is " + secs(d.InitialRecovery))
		}
		return Pass("just recovered; no initial recovery delay")
	case old == nil:
		return Pass("no previous state")
	}
	duration := in.Now.Sub(old.CreatedAt)
	if !isFailing {
		if duration < d.InitialRecovery {
			return Block(secsReason("ok for ", duration, ", less than the initial recovery delay of ", d.InitialRecovery, ""))
		}
		return Pass("ok for " + secs(duration))
	}
	if duration < d.InitialFailure {
		return Block(secsReason("failing for ", duration, ", less than the initial failure delay of ", d.InitialFailure, ""))
	}
	lastProblem := lastNotification(in.Check, func(s *flapjack.State) bool { return s.Condition.Unhealthy() })
	last := lastNotification(in.Check, nil)
	if lastProblem != nil && last != nil && last.Action == flapjack.NoAction && last.Condition.Unhealthy() {
		since := in.Now.Sub(lastProblem.CreatedAt)
		if since <= d.RepeatFailure {
			return Block(secsReason("last problem notification ", since, " ago, within the repeat failure delay of ", d.RepeatFailure, ""))
		}
		return Pass(secsReason("failing for ", duration, "; last problem notification ", since, " ago"))
	}
	return Pass("failing for " + secs(duration))
}

// secs formats a duration as seconds, keeping fractions only when there are any:
// "30s", "1.5s" (at most 3 significant digits, as fmt's %.3g).
func secs(d time.Duration) string {
	var buf [32]byte
	return string(appendSecs(buf[:0], d))
}

func appendSecs(b []byte, d time.Duration) []byte {
	if d%time.Second == 0 {
		b = strconv.AppendInt(b, int64(d/time.Second), 10)
	} else {
		b = strconv.AppendFloat(b, d.Seconds(), 'g', 3, 64)
	}
	return append(b, 's')
}

// secsReason returns a + secs(d1) + b + secs(d2) + c in one allocation. The delays
// filter explains itself so on every failing event, so it is built without fmt.
func secsReason(a string, d1 time.Duration, b string, d2 time.Duration, c string) string {
	var buf [128]byte
	out := append(buf[:0], a...)
	out = appendSecs(out, d1)
	out = append(out, b...)
	out = appendSecs(out, d2)
	return string(append(out, c...))
}

// Acknowledgement turns an acknowledgement of a failing check into unscheduled
// maintenance and lets it through; an acknowledgement of a check that is not
// failing does nothing and is blocked.
type Acknowledgement struct{}

// Name implements Filter.
func (Acknowledgement) Name() string { return NameAcknowledgement }

// Apply implements Filter.
func (Acknowledgement) Apply(in *Input) Verdict {
	if in.Action != flapjack.Acknowledgement {
		return Pass("not an acknowledgement")
	}
	if in.OldState == nil || !in.OldState.Condition.Unhealthy() {
		return Block("acknowledgement of a check that is not failing")
	}
	dur := time.Duration(in.Event.AcknowledgementDuration()) * time.Second
	m := flapjack.Maintenance{Start: in.Now, End: in.Now.Add(dur), Summary: in.Event.Summary}
	if in.NewID != nil {
		m.ID = in.NewID()
	}
	in.Check.SetUnscheduledMaintenance(m, in.Now)
	return Pass("acknowledged: unscheduled maintenance for " + secs(dur))
}

var (
	_ Filter = Ok{}
	_ Filter = ScheduledMaintenance{}
	_ Filter = UnscheduledMaintenance{}
	_ Filter = DelaysFilter{}
	_ Filter = Acknowledgement{}
)
