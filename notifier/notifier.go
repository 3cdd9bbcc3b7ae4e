// Package notifier turns notifications into alerts: it finds the media a
// notification is routed to by the contacts' rules (tags, severities, time
// restrictions in the contact's zone, blackholes), decides per medium whether to
// send — its interval, the recovery and acknowledgement exceptions, and summary
// (rollup) mode — and enqueues one self-contained Alert per medium on the queue of
// the medium's transport.
//
// The medium's memory of its last alert and the alert it enqueues are written in one
// atomic store operation, so a crash never sends an alert the medium does not
// remember, nor remembers one it did not send.
package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// Store is what the notifier needs from storage.
type Store interface {
	UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error)
	Check(ctx context.Context, name string) (flapjack.Check, error)
	QueryChecks(ctx context.Context, q store.CheckQuery) ([]flapjack.Check, error)
	Routing(ctx context.Context) (*store.Routing, error)
	UpdateMediumState(ctx context.Context, id string, fn func(*store.MediumUpdate) error) error
	MediumState(ctx context.Context, id string) (flapjack.MediumState, error)
	store.Queues
}

// Options configure a Notifier. The zero value is usable.
type Options struct {
	// Queue is the notifications queue Run reads. Default "notifications".
	Queue string
	// TransportQueues maps a transport to the queue its gateway reads. Nil means
	// every transport has the queue "<transport>_notifications". When set, alerts
	// for a transport missing from it are logged and skipped.
	TransportQueues map[string]string
	// DefaultContactTimezone is the zone of contacts without one. Default: the zone
	// named by $TZ, else UTC.
	DefaultContactTimezone *time.Location
	// Clock is the time source. Default the system clock.
	Clock flapjack.Clock
	// Logger receives one debug line per notification and errors. Default: discard.
	Logger *slog.Logger
	// BatchSize is how many notifications Run takes at a time. Default 100.
	BatchSize int
}

// Notifier turns notifications into alerts. It is safe for concurrent use.
type Notifier struct {
	store  Store
	opts   Options
	log    *slog.Logger
	router *Router
}

// TransportQueue is the default queue name of a transport's alerts.
func TransportQueue(transport string) string { return transport + "_notifications" }

// New returns a notifier over s.
func New(s Store, opts Options) *Notifier {
	if opts.Queue == "" {
		opts.Queue = "notifications"
	}
	if opts.Clock == nil {
		opts.Clock = flapjack.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.DefaultContactTimezone == nil {
		opts.DefaultContactTimezone = time.UTC
		if tz := os.Getenv("TZ"); tz != "" {
			if loc, err := time.LoadLocation(tz); err == nil {
				opts.DefaultContactTimezone = loc
			}
		}
	}
	opts.TransportQueues = maps.Clone(opts.TransportQueues)
	return &Notifier{store: s, opts: opts, log: opts.Logger, router: &Router{DefaultTimezone: opts.DefaultContactTimezone}}
}

// Router returns the notifier's rule evaluator.
func (n *Notifier) Router() *Router { return n.router }

// Result is the outcome of one notification.
type Result struct {
	// Alerts are the alerts enqueued, in medium id order.
	Alerts []flapjack.Alert
	Trace  flapjack.Trace
}

func (n *Notifier) queueFor(transport string) (string, bool) {
	if n.opts.TransportQueues == nil {
		return TransportQueue(transport), true
	}
	q, ok := n.opts.TransportQueues[transport]
	return q, ok
}

// Notify computes and enqueues the alerts for one notification.
func (n *Notifier) Notify(ctx context.Context, note flapjack.Notification) (Result, error) {
	var res Result
	now := n.opts.Clock.Now()
	st := note.State
	isTest := note.IsTest()
	isOK := note.IsAcknowledgement() || st.Condition.Healthy()
	severity := note.Severity
	if isTest {
		severity = flapjack.Critical
	}

	var check flapjack.Check
	var err error
	if isTest {
		check, err = n.store.Check(ctx, note.CheckName)
	} else {
		// A problem makes the check count toward rollups; a recovery or an
		// acknowledgement stops it counting. Done before counting, so the count
		// includes or excludes this check.
		check, err = n.store.UpdateCheck(ctx, note.CheckName, false, func(u *store.CheckUpdate) error {
			u.Check.Alertable = !isOK
			return nil
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		res.Trace.Add("check", "skip", "the check no longer exists")
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("notify %q: %w", note.CheckName, err)
	}

	rt, err := n.store.Routing(ctx)
	if err != nil {
		return res, fmt.Errorf("notify %q: routing: %w", note.CheckName, err)
	}
	routed := n.router.AlertingMedia(rt, &check, severity, now)
	for _, m := range routed.Accepted {
		res.Trace.Add("rule:"+ruleLabel(m.Rule), "accept", fmt.Sprintf("media %v", m.Media))
	}
	for _, m := range routed.Rejected {
		res.Trace.Add("rule:"+ruleLabel(m.Rule), "blackhole", fmt.Sprintf("removes media %v", m.Media))
	}
	for _, p := range routed.Problems {
		res.Trace.Add("rule", "warning", p)
		n.log.Warn("rule evaluation problem", "problem", p)
	}
	if len(routed.Media) == 0 {
		res.Trace.Add("routing", "none", fmt.Sprintf("no medium accepts %s notifications about %s now", severity, check.Name))
	}

	var alerting []flapjack.Check // computed once, for media in summary mode
	alertingLoaded := false
	for _, m := range routed.Media {
		stage := "medium:" + m.ID
		queue, ok := n.queueFor(m.Transport)
		if !ok {
			res.Trace.Add(stage, "skip", fmt.Sprintf("no queue is configured for transport %q", m.Transport))
			n.log.Error("alert skipped: no queue for transport", "transport", m.Transport, "medium", m.ID, "check", check.Name)
			continue
		}
		base := n.newAlert(&note, &check, m, rt)
		if isTest {
			ms, err := n.store.MediumState(ctx, m.ID)
			if err != nil {
				return res, fmt.Errorf("notify %q: medium %s: %w", check.Name, m.ID, err)
			}
			setLast(&base, ms.LastState)
			payload, err := json.Marshal(&base)
			if err != nil {
				return res, err
			}
			if err := n.store.Queue(queue).Push(ctx, payload); err != nil {
				return res, fmt.Errorf("notify %q: enqueue alert: %w", check.Name, err)
			}
			res.Trace.Add(stage, "send", "test notification")
			res.Alerts = append(res.Alerts, base)
			continue
		}

		var count int
		var states map[flapjack.Condition][]string
		if m.RollupThreshold > 0 {
			if !alertingLoaded {
				alerting, err = n.store.QueryChecks(ctx, store.CheckQuery{Alertable: true})
				if err != nil {
					return res, fmt.Errorf("notify %q: alerting checks: %w", check.Name, err)
				}
				alertingLoaded = true
			}
			count, states = n.alertingChecks(rt, m.ID, alerting, now)
		}
		var sent *flapjack.Alert
		var why string
		err := n.store.UpdateMediumState(ctx, m.ID, func(u *store.MediumUpdate) error {
			sent, u.Enqueue = nil, nil
			rollup := RollupFor(m, count, u.State.LastRollupType)
			send, reason := ShouldSend(u.State, st, isOK, rollup, m.Interval)
			why = reason
			if !send {
				return nil
			}
			a := base
			a.Rollup = rollup
			if rollup != flapjack.NoRollup && len(states) > 0 {
				a.RollupStates = states
			}
			setLast(&a, u.State.LastState)
			payload, err := json.Marshal(&a)
			if err != nil {
				return err
			}
			last := st.Clone()
			u.State.LastState = &last
			u.State.LastRollupType = rollup
			u.Enqueue = []store.Message{{Queue: queue, Payload: payload}}
			sent = &a
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("notify %q: medium %s: %w", check.Name, m.ID, err)
		}
		if sent == nil {
			res.Trace.Add(stage, "skip", why)
			continue
		}
		detail := why
		if sent.Rollup != flapjack.NoRollup {
			detail += fmt.Sprintf("; rollup %s (%d alerting checks, threshold %d)", sent.Rollup, count, m.RollupThreshold)
		}
		res.Trace.Add(stage, "send", detail)
		res.Alerts = append(res.Alerts, *sent)
	}
	if n.log.Enabled(ctx, slog.LevelDebug) {
		n.log.LogAttrs(ctx, slog.LevelDebug, "notification processed",
			slog.String("check", check.Name), slog.String("type", string(note.Type())),
			slog.Int("alerts", len(res.Alerts)), slog.String("trace", res.Trace.String()))
	}
	return res, nil
}

// alertingChecks counts the checks that put medium into summary mode: alertable,
// enabled, routed to the medium now, and in no maintenance. It also groups their
// names by condition.
func (n *Notifier) alertingChecks(rt *store.Routing, mediumID string, candidates []flapjack.Check, now time.Time) (int, map[flapjack.Condition][]string) {
	count := 0
	states := map[flapjack.Condition][]string{}
	for i := range candidates {
		c := &candidates[i]
		if !c.Enabled || !c.Alertable {
			continue
		}
		if _, in := c.InScheduledMaintenance(now); in {
			continue
		}
		if _, in := c.InUnscheduledMaintenance(now); in {
			continue
		}
		if !n.router.RoutesToMedium(rt, mediumID, c, now) {
			continue
		}
		count++
		states[c.Condition] = append(states[c.Condition], c.Name)
	}
	for _, names := range states {
		slices.Sort(names)
	}
	return count, states
}

// RollupFor decides a medium's summary mode given how many checks alert on it:
// problem at or above its threshold; recovery when it was in summary mode and no
// longer is; none otherwise.
func RollupFor(m *flapjack.Medium, alerting int, last flapjack.Rollup) flapjack.Rollup {
	switch {
	case m.RollupThreshold > 0 && int64(alerting) >= m.RollupThreshold:
		return flapjack.RollupProblem
	case last == flapjack.RollupProblem:
		return flapjack.RollupRecovery
	}
	return flapjack.NoRollup
}

// ShouldSend decides whether a medium gets an alert for state st. It is held back
// only when everything matches the medium's last alert — same ok-ness, same rollup
// mode, same condition — and the medium's interval has not yet passed. isOK is true
// for recoveries and acknowledgements.
func ShouldSend(ms flapjack.MediumState, st flapjack.State, isOK bool, rollup flapjack.Rollup, intervalSeconds int64) (bool, string) {
	last := ms.LastState
	switch {
	case last == nil:
		return true, "first alert on this medium"
	case (last.Condition.Healthy() || last.Action == flapjack.Acknowledgement) != isOK:
		if isOK {
			return true, "recovery or acknowledgement after a problem"
		}
		return true, "problem after a recovery or acknowledgement"
	case rollup != ms.LastRollupType:
		return true, "summary mode changed"
	case st.Condition != last.Condition:
		return true, fmt.Sprintf("condition changed from %s", last.Condition)
	}
	interval := time.Duration(max(intervalSeconds, 0)) * time.Second
	if !last.CreatedAt.Add(interval).Before(st.CreatedAt) {
		return false, fmt.Sprintf("alike alert sent %s ago, within the interval of %s",
			st.CreatedAt.Sub(last.CreatedAt), interval)
	}
	return true, fmt.Sprintf("interval of %s passed", interval)
}

// newAlert fills an alert's fields from the notification, check and medium.
func (n *Notifier) newAlert(note *flapjack.Notification, check *flapjack.Check, m *flapjack.Medium, rt *store.Routing) flapjack.Alert {
	st := note.State
	a := flapjack.Alert{
		ID:                      uuid.NewString(),
		Transport:               m.Transport,
		Address:                 m.Address,
		MediumID:                m.ID,
		ContactID:               m.ContactID,
		CheckID:                 check.ID,
		CheckName:               check.Name,
		Type:                    note.Type(),
		Condition:               st.Condition,
		Action:                  st.Action,
		Summary:                 st.Summary,
		Details:                 st.Details,
		Time:                    st.CreatedAt,
		ConditionDuration:       note.ConditionDuration,
		AcknowledgementDuration: time.Duration(note.Duration) * time.Second,
		EventHash:               note.EventHash,
		EventCount:              note.EventCount,
		RollupThreshold:         m.RollupThreshold,
	}
	if c, ok := rt.Contacts[m.ContactID]; ok {
		a.ContactName = c.Name
	}
	return a
}

func setLast(a *flapjack.Alert, last *flapjack.State) {
	if last == nil {
		return
	}
	a.LastCondition, a.LastAction, a.LastSummary = last.Condition, last.Action, last.Summary
}

func ruleLabel(r *flapjack.Rule) string {
	if r.Name != "" && r.Name != r.ID {
		return r.ID + " (" + r.Name + ")"
	}
	return r.ID
}

// Run takes notifications off the queue and notifies until ctx ends. A notification
// that fails is logged and does not stop the others.
func (n *Notifier) Run(ctx context.Context) error {
	q := n.store.Queue(n.opts.Queue)
	for {
		items, err := q.Reserve(ctx, n.opts.BatchSize, true)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("notifier: take notifications: %w", err)
		}
		for _, it := range items {
			var note flapjack.Notification
			if err := json.Unmarshal(it.Payload, &note); err != nil {
				n.log.Error("unreadable notification dropped", "err", err)
				continue
			}
			if _, err := n.Notify(ctx, note); err != nil {
				n.log.Error("notification not handled", "check", note.CheckName, "err", err)
			}
		}
		if err := q.Ack(context.WithoutCancel(ctx), items...); err != nil {
			n.log.Error("notifications not acknowledged", "err", err)
		}
	}
}
