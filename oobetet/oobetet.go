// Package oobetet is Flapjack's out-of-band end-to-end test: it sits in the
// chat rooms that receive the alerts of a watched check and raises the alarm
// when those alerts stop arriving.
//
// The watched check is normally the flapper's (see package
// github.com/x/flapjack/flapper): a service that goes up and down on a
// schedule, so that a working monitoring chain sends a problem and a recovery
// for it every cycle. When the last problem or the last recovery is older than
// the maximum latency, some part of the chain — the monitoring system, the
// processor, the notifier, a gateway — is broken, and the oobetet says so in
// every room and triggers a PagerDuty incident, both of which go around
// Flapjack rather than through it.
//
// The oobetet works against any Flapjack. It needs a [Room] (a chat transport:
// messages in, announcements out) and optionally a [Pager] ([PagerDuty] is
// the Events API v2 one):
//
//	o, err := oobetet.New(oobetet.Options{
//		WatchedCheck: "flapper.example.org:Flapper",
//		Room:         room, // an XMPP multi-user chat, say
//		Pager:        &oobetet.PagerDuty{RoutingKey: key},
//	})
//	if err != nil { … }
//	err = o.Run(ctx)
//
// [Config] is Flapjack v2's [gateways.oobetet] section; its Options method
// turns it into Options.
//
// # Behaviour
//
// Run greets every room with "flapjack oobetet gateway started at <time>,
// hello!". It then records, for every room message not from itself whose text
// starts with "problem", "recovery" or "acknowledgement" (in any case) and
// contains the watched check's name in double quotes — the jabber alert
// format, as in
//
//	Problem: flapjack: ACKID a1b2c3d4, "flapper.example.org:Flapper" is Critical
//
// the time it received it. At the start (of New, and again of Run) all three
// times are the start time.
//
// Every tick (10 s by default; check_interval in [Config]) it looks for a
// breach: "haven't seen a test problem notification in the last <N> seconds"
// when the last problem is more than the maximum latency (300 s by default)
// old, otherwise the same for recoveries. Acknowledgements are recorded but
// never checked.
//
// On a breach it logs an error and, unless it announced one less than the
// throttle (55 s by default) ago, says
//
//	Flapjack Self Monitoring is Critical: <breach> for "<check>", from <hostname> at <time>
//
// in every room and triggers an incident with the key "Flapjack Self
// Monitoring from <hostname>" and that text. If neither worked it logs a
// notice that it is unable to tell anyone. With the defaults the alarm thus
// repeats about every minute while the breach lasts.
//
// When a breach clears it says "Flapjack Self Monitoring is OK" in every room
// and resolves the incident. The throttle then starts afresh, so that a new
// breach is announced at once.
package oobetet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/x/flapjack"
)

// The defaults of Options.
const (
	DefaultMaxLatency = 300 * time.Second
	DefaultTick       = 10 * time.Second
	DefaultThrottle   = 55 * time.Second
)

// TimeLayout is the layout of the times in the greeting and the alarm.
const TimeLayout = "2006-01-02 15:04:05 -0700"

// OKText is what the oobetet says when a breach clears.
const OKText = "Flapjack Self Monitoring is OK"

// Kind is the kind of alert a room message carries.
type Kind string

// The kinds of alert the oobetet records.
const (
	Problem         Kind = "problem"
	Recovery        Kind = "recovery"
	Acknowledgement Kind = "acknowledgement"
)

var kinds = []Kind{Problem, Recovery, Acknowledgement}

// Message is a message said in one of the rooms.
type Message struct {
	// Room names the room it was said in; the oobetet does not read it.
	Room string
	// From is the sender's nickname or address.
	From string
	// Body is the text.
	Body string
	// Self is set when the oobetet itself sent it (its own nickname in the
	// room): such messages are ignored.
	Self bool
}

// Room is what the oobetet needs of a chat transport: the messages said in
// its rooms, and a way to say something in all of them.
type Room interface {
	// Messages returns the channel on which the transport delivers the
	// messages said in its rooms. The oobetet reads it until its Run ends; a
	// closed channel means no more messages will come.
	Messages() <-chan Message
	// Say says text in every room. It returns an error when it could not.
	Say(ctx context.Context, text string) error
}

// Incident is what the oobetet pages about.
type Incident struct {
	// Key identifies the incident: "Flapjack Self Monitoring from <hostname>".
	Key string
	// Summary is the announcement's text.
	Summary string
	// Host is the host the oobetet runs on.
	Host string
}

// Pager opens and closes incidents out of band, on PagerDuty say.
type Pager interface {
	// Trigger opens the incident, or adds to it when it is open.
	Trigger(ctx context.Context, in Incident) error
	// Resolve closes the incident.
	Resolve(ctx context.Context, in Incident) error
}

// Options configure an Oobetet.
type Options struct {
	// WatchedCheck is the full name of the watched check, as in
	// "flapper.example.org:Flapper". Required.
	WatchedCheck string
	// MaxLatency is how old the last problem and the last recovery may be
	// before that is a breach. Default DefaultMaxLatency (300 s).
	MaxLatency time.Duration
	// Hostname is the host named in the alarm and the incident key. Default:
	// os.Hostname().
	Hostname string
	// Clock reads the time. Default flapjack.SystemClock.
	Clock flapjack.Clock
	// Logger receives breaches, failures to announce and other news.
	// Default: discard.
	Logger *slog.Logger
	// Room is the chat transport. Without one Run receives nothing and
	// pages only, so that breaches come after MaxLatency; a host may feed
	// Record itself.
	Room Room
	// Pager opens incidents; optional.
	Pager Pager
	// Tick is the time between two evaluations. Default DefaultTick (10 s).
	Tick time.Duration
	// Throttle is the least time between two announcements of a breach.
	// Default DefaultThrottle (55 s).
	Throttle time.Duration
	// Ticks, when set, drives the evaluations instead of a ticker of period
	// Tick: Run evaluates at Clock's time on every value received. For tests
	// and hosts with their own timing.
	Ticks <-chan time.Time
}

// Oobetet watches the rooms for the watched check's alerts. Its methods are
// safe for concurrent use.
type Oobetet struct {
	check      string
	quoted     string
	maxLatency time.Duration
	hostname   string
	clock      flapjack.Clock
	log        *slog.Logger
	room       Room
	pager      Pager
	tick       time.Duration
	throttle   time.Duration
	ticks      <-chan time.Time

	mu       sync.Mutex
	last     map[Kind]time.Time
	breached bool      // the last evaluation found a breach
	alerted  time.Time // the last announcement of a breach; zero: none since the last clear
}

// New returns an oobetet, or an error listing every problem of opts. All
// the last-seen times start at the clock's time.
func New(opts Options) (*Oobetet, error) {
	var errs []error
	check := strings.TrimSpace(opts.WatchedCheck)
	if check == "" {
		errs = append(errs, errors.New("watched_check is required"))
	}
	duration := func(name string, v, def time.Duration) time.Duration {
		switch {
		case v < 0:
			errs = append(errs, fmt.Errorf("%s: %s is negative", name, v))
		case v == 0:
			return def
		}
		return v
	}
	o := &Oobetet{
		check:      check,
		quoted:     `"` + check + `"`,
		maxLatency: duration("max_latency", opts.MaxLatency, DefaultMaxLatency),
		hostname:   opts.Hostname,
		clock:      opts.Clock,
		log:        opts.Logger,
		room:       opts.Room,
		pager:      opts.Pager,
		tick:       duration("tick", opts.Tick, DefaultTick),
		throttle:   duration("throttle", opts.Throttle, DefaultThrottle),
		ticks:      opts.Ticks,
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("oobetet: %w", err)
	}
	if o.hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		o.hostname = h
	}
	if o.clock == nil {
		o.clock = flapjack.SystemClock{}
	}
	if o.log == nil {
		o.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := o.clock.Now()
	o.last = map[Kind]time.Time{Problem: now, Recovery: now, Acknowledgement: now}
	return o, nil
}

// IncidentKey is the key of the oobetet's incident.
func (o *Oobetet) IncidentKey() string { return "Flapjack Self Monitoring from " + o.hostname }

// Match reports the kind of alert about check that body carries: it starts
// with "problem", "recovery" or "acknowledgement", in any case, and contains
// check in double quotes.
func Match(body, check string) (Kind, bool) {
	if check == "" || !strings.Contains(body, `"`+check+`"`) {
		return "", false
	}
	for _, k := range kinds {
		if len(body) >= len(k) && strings.EqualFold(body[:len(k)], string(k)) {
			return k, true
		}
	}
	return "", false
}

// Receive records m's receipt at the clock's time when it is an alert about
// the watched check not sent by the oobetet itself, and reports whether it
// was.
func (o *Oobetet) Receive(m Message) (Kind, bool) {
	if m.Self {
		return "", false
	}
	k, ok := Match(m.Body, o.check)
	if !ok {
		return "", false
	}
	o.Record(k, o.clock.Now())
	o.log.Debug("oobetet: alert received", "kind", string(k), "from", m.From)
	return k, true
}

// Record sets the last time an alert of kind k was seen to at. Other kinds
// are ignored.
func (o *Oobetet) Record(k Kind, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.last[k]; ok {
		o.last[k] = at
	}
}

// Last returns the last time an alert of kind k was seen (the start time when
// none was).
func (o *Oobetet) Last(k Kind) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last[k]
}

// Evaluate returns the breach at now, if any: the last problem, or else the
// last recovery, is more than the maximum latency old.
func (o *Oobetet) Evaluate(now time.Time) (breach string, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.evaluate(now)
}

func (o *Oobetet) evaluate(now time.Time) (string, bool) {
	for _, k := range []Kind{Problem, Recovery} {
		if now.Sub(o.last[k]) > o.maxLatency {
			return fmt.Sprintf("haven't seen a test %s notification in the last %s seconds",
				k, strconv.FormatFloat(o.maxLatency.Seconds(), 'f', -1, 64)), true
		}
	}
	return "", false
}

// CriticalText is the announcement of breach at t.
func (o *Oobetet) CriticalText(breach string, t time.Time) string {
	return fmt.Sprintf("Flapjack Self Monitoring is Critical: %s for %s, from %s at %s",
		breach, o.quoted, o.hostname, t.Format(TimeLayout))
}

// Greeting is what Run says in every room when it starts at t.
func Greeting(t time.Time) string {
	return "flapjack oobetet gateway started at " + t.Format(TimeLayout) + ", hello!"
}

// Run sets the last-seen times to the clock's time, greets the rooms, then
// records the alerts said in them at the time it receives them and evaluates
// every tick, until ctx ends, when it returns nil. Failures to say something
// or to page are logged, never returned: the oobetet keeps watching, and when
// the room transport closes its messages it keeps ticking, so that the
// silence raises the alarm on the pager. Run once at a time.
func (o *Oobetet) Run(ctx context.Context) error {
	ticks := o.ticks
	if ticks == nil {
		t := time.NewTicker(o.tick)
		defer t.Stop()
		ticks = t.C
	}
	now := o.clock.Now()
	o.mu.Lock()
	for k := range o.last {
		o.last[k] = now
	}
	o.mu.Unlock()
	var msgs <-chan Message
	if o.room != nil {
		msgs = o.room.Messages()
		if err := o.room.Say(ctx, Greeting(now)); err != nil && ctx.Err() == nil {
			o.log.Warn("oobetet: cannot greet the rooms", "err", err)
		}
	}
	o.log.Info("oobetet: started", "watched_check", o.check, "max_latency", o.maxLatency, "check_interval", o.tick)
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				o.log.Warn("oobetet: the room transport closed its messages; no more alerts will be received")
				msgs = nil
				continue
			}
			o.Receive(m)
		case <-ticks:
			o.Tick(ctx)
		}
	}
}

// Tick evaluates at the clock's time and announces what changed: a breach
// (throttled), or its clearing. Run calls it every tick.
func (o *Oobetet) Tick(ctx context.Context) {
	now := o.clock.Now()
	o.mu.Lock()
	breach, breached := o.evaluate(now)
	wasBreached := o.breached
	o.breached = breached
	announce := breached && (o.alerted.IsZero() || now.Sub(o.alerted) > o.throttle)
	if announce {
		o.alerted = now
	}
	if !breached {
		o.alerted = time.Time{}
	}
	o.mu.Unlock()

	switch {
	case breached:
		o.log.Error("oobetet: self monitoring has detected a breach", "breach", breach, "watched_check", o.check)
		if !announce {
			return
		}
		text := o.CriticalText(breach, now)
		said := o.say(ctx, text)
		paged := o.page(ctx, true, text)
		if !said && !paged {
			o.log.Error("oobetet: NOTICE: self monitoring has detected a failure and is unable to tell anyone about it. DON'T PANIC.")
		}
	case wasBreached:
		o.log.Info("oobetet: the breach has cleared", "watched_check", o.check)
		said := o.say(ctx, OKText)
		paged := o.page(ctx, false, OKText)
		if !said && !paged {
			o.log.Warn("oobetet: unable to tell anyone that self monitoring is OK again")
		}
	}
}

// say says text in the rooms and reports whether that worked.
func (o *Oobetet) say(ctx context.Context, text string) bool {
	if o.room == nil {
		return false
	}
	if err := o.room.Say(ctx, text); err != nil {
		o.log.Error("oobetet: cannot announce to the rooms", "err", err)
		return false
	}
	return true
}

// page triggers (or resolves) the incident and reports whether that worked.
func (o *Oobetet) page(ctx context.Context, trigger bool, text string) bool {
	if o.pager == nil {
		return false
	}
	in := Incident{Key: o.IncidentKey(), Summary: text, Host: o.hostname}
	var err error
	if trigger {
		err = o.pager.Trigger(ctx, in)
	} else {
		err = o.pager.Resolve(ctx, in)
	}
	if err != nil {
		o.log.Error("oobetet: cannot page", "trigger", trigger, "err", err)
		return false
	}
	return true
}
