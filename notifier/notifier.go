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
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/bufpool"
	"github.com/x/flapjack/internal/retry"
	"github.com/x/flapjack/internal/uuid"
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
	// Observer, when set, is told of each notification Run handles. Default:
	// none.
	Observer Observer
	// NoDecisionLog turns off the decision log. By default a notifier over a
	// store that is a store.DecisionLog records there, for every notification,
	// whom it alerted and why the other media were not.
	NoDecisionLog bool
}

// Notifier turns notifications into alerts. It is safe for concurrent use.
type Notifier struct {
	store  Store
	opts   Options
	log    *slog.Logger
	router *Router
	texts  atomic.Pointer[traceTexts] // of the last routing snapshot seen
	// decisions is the store's decision log, nil when none is kept.
	decisions store.DecisionLog
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
	n := &Notifier{store: s, opts: opts, log: opts.Logger, router: &Router{DefaultTimezone: opts.DefaultContactTimezone}}
	if l, ok := s.(store.DecisionLog); ok && !opts.NoDecisionLog {
		n.decisions = l
	}
	return n
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

// Notify computes and enqueues the alerts for one notification, and records
// whom it alerted in the store's decision log when it keeps one.
func (n *Notifier) Notify(ctx context.Context, note flapjack.Notification) (Result, error) {
	res, err := n.route(ctx, note)
	if err == nil && n.decisions != nil && !res.gone {
		n.recordDecisions(ctx, []flapjack.DecisionRecord{decisionOf(&note, &res.Result, n.opts.Clock.Now())})
	}
	return res.Result, err
}

// routeResult is the outcome of route.
type routeResult struct {
	Result
	gone bool // the check no longer exists
}

// route computes and enqueues the alerts for one notification.
func (n *Notifier) route(ctx context.Context, note flapjack.Notification) (routeResult, error) {
	var res routeResult
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
		// includes or excludes this check. A check already so (every repeated
		// problem) is only read: a read and a write are both atomic, so that is
		// as if the update had been made at the read, and it costs one copy of
		// the check rather than two.
		check, err = n.store.Check(ctx, note.CheckName)
		if err == nil && check.Alertable != !isOK {
			check, err = n.store.UpdateCheck(ctx, note.CheckName, false, func(u *store.CheckUpdate) error {
				u.Check.Alertable = !isOK
				return nil
			})
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		res.Trace.Add("check", "skip", "the check no longer exists")
		res.gone = true
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
	// A step per rule that applied and per medium, at most one more.
	res.Trace.Steps = slices.Grow(res.Trace.Steps, len(routed.Accepted)+len(routed.Rejected)+len(routed.Problems)+len(routed.Media)+1)
	texts := n.traceTexts(rt)
	for _, m := range routed.Accepted {
		stage, detail := texts.rule(m)
		res.Trace.Add(stage, "accept", detail)
	}
	for _, m := range routed.Rejected {
		stage, detail := texts.rule(m)
		res.Trace.Add(stage, "blackhole", detail)
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
	var mu *mediumUpdate // made for the first medium not tested, reused for the others
	var update func(*store.MediumUpdate) error
	defer func() {
		if mu != nil {
			bufpool.Put(mu.buf)
		}
	}()
	for _, m := range routed.Media {
		stage := texts.medium(m)
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
			payload, err := base.MarshalJSON()
			if err != nil {
				return res, err
			}
			if err := n.store.Queue(queue).Push(ctx, payload); err != nil {
				return res, fmt.Errorf("notify %q: enqueue alert: %w", check.Name, err)
			}
			res.Trace.Add(stage, "send", "test notification")
			res.Alerts = appendAlert(res.Alerts, &base, len(routed.Media))
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
		if mu == nil {
			// state is what each medium remembers of this notification. It
			// shares its perfdata with note, which nothing changes, and the
			// store keeps a deep copy of what the callback leaves it.
			mu = &mediumUpdate{state: st, isOK: isOK}
			update = mu.apply
		}
		mu.medium, mu.queue, mu.alert, mu.count, mu.states = m, queue, base, count, states
		if err := n.store.UpdateMediumState(ctx, m.ID, update); err != nil {
			return res, fmt.Errorf("notify %q: medium %s: %w", check.Name, m.ID, err)
		}
		if !mu.sent {
			res.Trace.Add(stage, "skip", mu.why)
			continue
		}
		detail := mu.why
		if mu.alert.Rollup != flapjack.NoRollup {
			detail += fmt.Sprintf("; rollup %s (%d alerting checks, threshold %d)", mu.alert.Rollup, count, m.RollupThreshold)
		}
		res.Trace.Add(stage, "send", detail)
		res.Alerts = appendAlert(res.Alerts, &mu.alert, len(routed.Media))
	}
	if n.log.Enabled(ctx, slog.LevelDebug) {
		n.log.LogAttrs(ctx, slog.LevelDebug, "notification processed",
			slog.String("check", check.Name), slog.String("type", string(note.Type())),
			slog.Int("alerts", len(res.Alerts)), slog.String("trace", res.Trace.String()))
	}
	return res, nil
}

// mediumUpdate is Notify's read-modify-write of one medium's alert memory:
// whether to send, and if so the alert, enqueued in the same store operation.
// One value serves every medium of a notification, so that routing to several
// media does not allocate a closure and the variables it captures per medium.
type mediumUpdate struct {
	// Set before each UpdateMediumState.
	medium *flapjack.Medium
	queue  string
	alert  flapjack.Alert // as newAlert makes it; apply completes it
	count  int
	states map[flapjack.Condition][]string
	// The same for every medium.
	state flapjack.State
	isOK  bool
	// Results of the last call of apply.
	sent bool
	why  string
	msg  [1]store.Message
	buf  *[]byte // from bufpool; Notify gives it back
}

// apply is the UpdateMediumState callback. It may run more than once, so it
// sets every field of the alert it sets at all, every time.
func (mu *mediumUpdate) apply(u *store.MediumUpdate) error {
	mu.sent, u.Enqueue = false, nil
	rollup := RollupFor(mu.medium, mu.count, u.State.LastRollupType)
	send, reason := ShouldSend(u.State, mu.state, mu.isOK, rollup, mu.medium.Interval)
	mu.why = reason
	if !send {
		return nil
	}
	a := &mu.alert
	a.Rollup, a.RollupStates = rollup, nil
	if rollup != flapjack.NoRollup && len(mu.states) > 0 {
		a.RollupStates = mu.states
	}
	a.LastCondition, a.LastAction, a.LastSummary = "", "", ""
	setLast(a, u.State.LastState)
	// Encoded by hand (json.Marshal would only re-check the output) into a
	// borrowed buffer, reused for every medium: the store copies what it
	// enqueues.
	if mu.buf == nil {
		mu.buf = bufpool.Get()
	}
	payload, err := a.AppendJSON((*mu.buf)[:0])
	if err != nil {
		return err
	}
	*mu.buf = payload
	u.State.LastState = &mu.state
	u.State.LastRollupType = rollup
	mu.msg[0] = store.Message{Queue: mu.queue, Payload: payload}
	u.Enqueue = mu.msg[:]
	mu.sent = true
	return nil
}

// appendAlert appends *a to alerts, making room for one alert per medium at
// the first.
func appendAlert(alerts []flapjack.Alert, a *flapjack.Alert, media int) []flapjack.Alert {
	if alerts == nil {
		alerts = make([]flapjack.Alert, 0, media)
	}
	return append(alerts, *a)
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
		return true, "condition changed from " + string(last.Condition)
	}
	interval := time.Duration(max(intervalSeconds, 0)) * time.Second
	if !last.CreatedAt.Add(interval).Before(st.CreatedAt) {
		return false, fmt.Sprintf("alike alert sent %s ago, within the interval of %s",
			st.CreatedAt.Sub(last.CreatedAt), interval)
	}
	return true, "interval of " + interval.String() + " passed"
}

// newAlert fills an alert's fields from the notification, check and medium. It
// leaves Rollup, RollupStates and the Last fields zero: mediumUpdate.apply sets
// them from the medium's memory.
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

// traceTexts are the trace texts of the rules and media of one routing
// snapshot: a notification's trace names every rule that routed it and every
// medium it reached, and a store hands out the same snapshot until the routing
// data changes, so they are made once per snapshot rather than per notification.
type traceTexts struct {
	rt    *store.Routing
	rules map[*flapjack.Rule]ruleText
	media map[*flapjack.Medium]string // "medium:<id>"
}

type ruleText struct {
	stage  string // "rule:<label>"
	detail string // "media [a b]", or "removes media [a b]" for a blackhole
}

// traceTexts returns the texts of rt, making them when rt is new.
func (n *Notifier) traceTexts(rt *store.Routing) *traceTexts {
	if t := n.texts.Load(); t != nil && t.rt == rt {
		return t
	}
	t := &traceTexts{
		rt:    rt,
		rules: make(map[*flapjack.Rule]ruleText, len(rt.Rules)),
		media: make(map[*flapjack.Medium]string, len(rt.Media)),
	}
	for _, r := range rt.Rules {
		t.rules[r] = newRuleText(r, r.MediaIDs)
	}
	for _, m := range rt.Media {
		t.media[m] = "medium:" + m.ID
	}
	n.texts.Store(t)
	return t
}

func newRuleText(r *flapjack.Rule, media []string) ruleText {
	prefix := "media "
	if r.Blackhole {
		prefix = "removes media "
	}
	return ruleText{stage: "rule:" + ruleLabel(r), detail: mediaDetail(prefix, media)}
}

// rule returns the stage and detail of the step of a rule that applied.
func (t *traceTexts) rule(m Match) (stage, detail string) {
	rt, ok := t.rules[m.Rule]
	if !ok { // not of t's snapshot
		rt = newRuleText(m.Rule, m.Media)
	}
	return rt.stage, rt.detail
}

// medium returns the stage of a medium's step.
func (t *traceTexts) medium(m *flapjack.Medium) string {
	if s, ok := t.media[m]; ok {
		return s
	}
	return "medium:" + m.ID
}

// mediaDetail returns prefix and the medium ids as fmt's %v writes them, such as
// "media [a b]", in one allocation.
func mediaDetail(prefix string, ids []string) string {
	n := len(prefix) + len("[]") + max(len(ids)-1, 0)
	for _, id := range ids {
		n += len(id)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(prefix)
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id)
	}
	b.WriteByte(']')
	return b.String()
}

func ruleLabel(r *flapjack.Rule) string {
	if r.Name != "" && r.Name != r.ID {
		return r.ID + " (" + r.Name + ")"
	}
	return r.ID
}

// Run takes notifications off the queue and notifies until ctx ends or the store is
// closed. An unreadable notification is kept on "<queue>_rejected" for an
// operator. When the store fails, Run logs it and tries the same notification
// again after growing waits, so that none is skipped: a medium that already got
// its alert before the failure holds back the repeat, as an alike alert within
// its interval.
func (n *Notifier) Run(ctx context.Context) error {
	q := n.store.Queue(n.opts.Queue)
	var wait retry.Backoff
	for {
		items, stop, err := retry.Reserve(ctx, q, n.opts.BatchSize, &wait, n.log, "notifications")
		if stop {
			if err != nil {
				return fmt.Errorf("notifier: %w", err)
			}
			return nil
		}
		done := 0
		var recs []flapjack.DecisionRecord
		for _, it := range items {
			if !n.notifyPatiently(ctx, it.Payload, &wait, &recs) {
				break
			}
			done++
		}
		n.recordDecisions(context.WithoutCancel(ctx), recs)
		if done > 0 {
			if err := q.Ack(context.WithoutCancel(ctx), items[:done]...); err != nil {
				n.log.Error("notifications not acknowledged", "err", err)
			}
		}
		if done < len(items) {
			return nil
		}
	}
}

// notifyPatiently handles one queued notification, retrying while the store
// fails, and appends its decision log record to recs. It returns false when ctx
// ended or the store closed first.
func (n *Notifier) notifyPatiently(ctx context.Context, payload []byte, wait *retry.Backoff, recs *[]flapjack.DecisionRecord) bool {
	var note flapjack.Notification
	// As json.Unmarshal, less its scan of the whole payload first.
	if err := note.UnmarshalJSON(payload); err != nil {
		n.log.Error("unreadable notification set aside", "queue", n.opts.Queue+"_rejected", "err", err)
		if err := n.store.Queue(n.opts.Queue+"_rejected").Push(ctx, payload); err != nil {
			n.log.Error("unreadable notification lost", "err", err)
		}
		return true
	}
	for {
		start := n.opts.Clock.Now()
		res, err := n.route(ctx, note)
		if err == nil {
			if n.decisions != nil && !res.gone {
				*recs = append(*recs, decisionOf(&note, &res.Result, n.opts.Clock.Now()))
			}
			if o := n.opts.Observer; o != nil {
				o.Notified(&note, res.Alerts, n.opts.Clock.Now().Sub(start))
			}
			wait.Reset()
			return true
		}
		if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
			return false
		}
		d := wait.Next()
		n.log.Error("notification not handled; will retry", "check", note.CheckName, "err", err, "retry_in", d)
		if !retry.Sleep(ctx, d) {
			return false
		}
	}
}
