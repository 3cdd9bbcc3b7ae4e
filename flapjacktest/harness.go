// Package flapjacktest runs Flapjack's whole pipeline — processor, notifier and
// gateways — in-process on a fake clock, capturing every alert, so that alerting
// rules can be unit-tested: "after 30 s of critical, does the on-call get a page?".
//
// Use a Harness from Go tests, or write rule-test files (YAML) and run them with
// RunFile or the `flapjack test` command.
package flapjacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/setup"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// Clock is a fake clock that moves only when told to. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now implements flapjack.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// DefaultStart is the clock at the start of a harness when none is given: Friday
// 2013-02-01 12:00 UTC.
var DefaultStart = time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)

// Settings are the processor and notifier settings of a harness, with the keys and
// defaults of the [processor] and [notifier] configuration.
type Settings struct {
	// Delays in seconds; nil means the defaults 30, 60 and 0.
	InitialFailureDelay  *int64 `yaml:"initial_failure_delay"`
	RepeatFailureDelay   *int64 `yaml:"repeat_failure_delay"`
	InitialRecoveryDelay *int64 `yaml:"initial_recovery_delay"`
	// NewCheckScheduledMaintenanceDuration in seconds; 0 (the default) is off.
	NewCheckScheduledMaintenanceDuration int64 `yaml:"new_check_scheduled_maintenance_duration"`
	// NewCheckScheduledMaintenanceIgnoreRegex exempts matching check names.
	NewCheckScheduledMaintenanceIgnoreRegex string `yaml:"new_check_scheduled_maintenance_ignore_regex"`
	// DefaultContactTimezone is the zone of contacts without one; default UTC.
	DefaultContactTimezone string `yaml:"default_contact_timezone"`
}

// Config describes a harness.
type Config struct {
	Settings Settings
	// Start is the clock's first reading; zero means DefaultStart.
	Start time.Time
	// Setup is loaded into the store before anything happens.
	Setup *setup.Data
}

// Harness is an in-process Flapjack on a fake clock.
type Harness struct {
	Clock     *Clock
	Store     *memory.Store
	Processor *processor.Processor
	Notifier  *notifier.Notifier

	alerts []flapjack.Alert
}

// New builds a harness and loads its set-up data.
func New(ctx context.Context, cfg Config) (*Harness, error) {
	start := cfg.Start
	if start.IsZero() {
		start = DefaultStart
	}
	s := cfg.Settings
	ps := processor.Settings{
		InitialFailureDelay:          s.InitialFailureDelay,
		RepeatFailureDelay:           s.RepeatFailureDelay,
		InitialRecoveryDelay:         s.InitialRecoveryDelay,
		NewCheckScheduledMaintenance: time.Duration(s.NewCheckScheduledMaintenanceDuration) * time.Second,
	}
	if s.NewCheckScheduledMaintenanceIgnoreRegex != "" {
		re, err := regexp.Compile(s.NewCheckScheduledMaintenanceIgnoreRegex)
		if err != nil {
			return nil, fmt.Errorf("new_check_scheduled_maintenance_ignore_regex: %w", err)
		}
		ps.NewCheckScheduledMaintenanceIgnore = re
	}
	loc := time.UTC
	if s.DefaultContactTimezone != "" {
		l, err := time.LoadLocation(s.DefaultContactTimezone)
		if err != nil {
			return nil, fmt.Errorf("default_contact_timezone: %w", err)
		}
		loc = l
	}
	h := &Harness{Clock: NewClock(start), Store: memory.New()}
	h.Processor = processor.New(h.Store, processor.Options{Settings: ps, Clock: h.Clock, Instance: "flapjacktest"})
	h.Notifier = notifier.New(h.Store, notifier.Options{Clock: h.Clock, DefaultContactTimezone: loc})
	if cfg.Setup != nil {
		if err := cfg.Setup.Apply(ctx, h.Store); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Step is what one action produced.
type Step struct {
	// Processed is the processor's result for an event (zero for other actions).
	Processed processor.Result
	// Notifications the processor generated.
	Notifications []flapjack.Notification
	// Alerts delivered to the gateways, in the order they were delivered.
	Alerts []flapjack.Alert
	// Trace explains the processor's and the notifier's decisions.
	Trace flapjack.Trace
}

// Event processes one event through the processor, the notifier and the gateways.
func (h *Harness) Event(ctx context.Context, ev flapjack.Event) (Step, error) {
	res, err := h.Processor.Process(ctx, ev)
	if err != nil {
		return Step{}, err
	}
	st := Step{Processed: res}
	st.Trace.Steps = append(st.Trace.Steps, res.Trace.Steps...)
	return st, h.drain(ctx, &st)
}

// RawEvent parses an event as a producer sends it and processes it like Event.
func (h *Harness) RawEvent(ctx context.Context, raw []byte) (Step, error) {
	ev, err := flapjack.ParseEvent(raw)
	if err != nil {
		return Step{}, err
	}
	return h.Event(ctx, ev)
}

// Settle hands every queued notification to the notifier and every queued alert to
// the gateways. Actions other than events (ending maintenance, disabling a check)
// queue nothing, so this is needed only after changing the store directly.
func (h *Harness) Settle(ctx context.Context) (Step, error) {
	var st Step
	return st, h.drain(ctx, &st)
}

func (h *Harness) drain(ctx context.Context, st *Step) error {
	nq := h.Store.Queue("notifications")
	for {
		items, err := nq.Reserve(ctx, 100, false)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			var n flapjack.Notification
			if err := json.Unmarshal(it.Payload, &n); err != nil {
				return fmt.Errorf("notification: %w", err)
			}
			st.Notifications = append(st.Notifications, n)
			res, err := h.Notifier.Notify(ctx, n)
			if err != nil {
				return err
			}
			st.Trace.Steps = append(st.Trace.Steps, res.Trace.Steps...)
		}
	}
	rt, err := h.Store.Routing(ctx)
	if err != nil {
		return err
	}
	transports := map[string]bool{}
	for _, m := range rt.Media {
		transports[m.Transport] = true
	}
	names := make([]string, 0, len(transports))
	for t := range transports {
		names = append(names, t)
	}
	slices.Sort(names)
	for _, t := range names {
		q := h.Store.Queue(notifier.TransportQueue(t))
		for {
			items, err := q.Reserve(ctx, 100, false)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				break
			}
			for _, it := range items {
				var a flapjack.Alert
				if err := json.Unmarshal(it.Payload, &a); err != nil {
					return fmt.Errorf("alert: %w", err)
				}
				st.Alerts = append(st.Alerts, a)
				h.alerts = append(h.alerts, a)
			}
		}
	}
	return nil
}

// Alerts returns every alert delivered so far.
func (h *Harness) Alerts() []flapjack.Alert { return slices.Clone(h.alerts) }

// Check returns the check named name.
func (h *Harness) Check(ctx context.Context, name string) (flapjack.Check, error) {
	return h.Store.Check(ctx, name)
}

// UpdateCheck changes a check directly, as an operator would through the API.
func (h *Harness) UpdateCheck(ctx context.Context, name string, fn func(c *flapjack.Check) error) error {
	_, err := h.Store.UpdateCheck(ctx, name, false, func(u *store.CheckUpdate) error { return fn(&u.Check) })
	return err
}

// ScheduleMaintenance adds scheduled maintenance [start, end] to a check.
func (h *Harness) ScheduleMaintenance(ctx context.Context, check string, start, end time.Time, summary string) error {
	if !end.After(start) {
		return fmt.Errorf("scheduled maintenance of %q: end %s is not after start %s", check, end, start)
	}
	return h.UpdateCheck(ctx, check, func(c *flapjack.Check) error {
		// Ending maintenance deletes windows that had not started, so the count
		// of windows does not make a fresh id: take the first one not in use.
		n := len(c.ScheduledMaintenances) + 1
		for slices.ContainsFunc(c.ScheduledMaintenances, func(m flapjack.Maintenance) bool { return m.ID == fmt.Sprintf("sm-%d", n) }) {
			n++
		}
		c.ScheduledMaintenances = append(c.ScheduledMaintenances, flapjack.Maintenance{
			ID: fmt.Sprintf("sm-%d", n), Start: start, End: end, Summary: summary,
		})
		return nil
	})
}

// Acknowledge puts a check into unscheduled maintenance for d from now, as an
// acknowledgement would, whatever the check's state: it stops counting toward rollups.
func (h *Harness) Acknowledge(ctx context.Context, check string, d time.Duration, summary string) error {
	now := h.Clock.Now()
	return h.UpdateCheck(ctx, check, func(c *flapjack.Check) error {
		c.SetUnscheduledMaintenance(flapjack.Maintenance{
			ID: fmt.Sprintf("um-%d", len(c.UnscheduledMaintenances)+1), Start: now, End: now.Add(d), Summary: summary,
		}, now)
		return nil
	})
}

// EndScheduledMaintenance ends the check's current and future scheduled
// maintenance now: future windows are deleted, the current one cut short.
func (h *Harness) EndScheduledMaintenance(ctx context.Context, check string) error {
	now := h.Clock.Now()
	return h.UpdateCheck(ctx, check, func(c *flapjack.Check) error {
		for _, m := range slices.Clone(c.ScheduledMaintenances) {
			if !m.End.Before(now) {
				if err := c.EndScheduledMaintenance(m.ID, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// EndUnscheduledMaintenance ends the check's current acknowledgement now.
func (h *Harness) EndUnscheduledMaintenance(ctx context.Context, check string) error {
	now := h.Clock.Now()
	return h.UpdateCheck(ctx, check, func(c *flapjack.Check) error {
		c.EndUnscheduledMaintenance(now, now)
		return nil
	})
}

// SetEnabled enables or disables a check.
func (h *Harness) SetEnabled(ctx context.Context, check string, enabled bool) error {
	return h.UpdateCheck(ctx, check, func(c *flapjack.Check) error {
		c.Enabled = enabled
		return nil
	})
}

// DeleteRule removes a rule.
func (h *Harness) DeleteRule(ctx context.Context, id string) error {
	return h.Store.DeleteRule(ctx, id)
}
