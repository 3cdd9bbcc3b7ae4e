package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/retry"
	"github.com/x/flapjack/store"
)

// The delivery defaults, as documented on [DeliveryOptions].
const (
	DefaultWorkers     = 1
	DefaultMaxAttempts = 8
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = 30 * time.Second
)

// finishTimeout bounds the store writes that end an alert's delivery
// (acknowledging it, dead-lettering it), which go on when the delivery's context
// ends so that a delivered alert is not delivered again.
const finishTimeout = 10 * time.Second

// DeliveryOptions tune the delivery of one transport's alerts. The zero value is
// usable; a zero or negative field takes the default its comment gives.
type DeliveryOptions struct {
	// Workers is how many alerts are delivered at once. A worker retrying an
	// alert holds it until it is delivered or dead-lettered, so more workers
	// keep one unreachable address from delaying every other; but with more
	// than one, alerts may arrive out of order (a recovery before the problem
	// that is still being retried). Default: 1.
	Workers int
	// MaxAttempts bounds the attempts to deliver one alert. An alert whose last
	// attempt failed, or whose gateway reported a [Permanent] failure, is moved
	// to the dead-letter queue. Default: 8.
	MaxAttempts int
	// Backoff is the ceiling of the wait before the first retry. Each retry
	// doubles the ceiling, up to MaxBackoff, and waits a random time between
	// zero and the ceiling ("full jitter"), so that alerts failing together do
	// not retry together. Default: 1 s.
	Backoff time.Duration
	// MaxBackoff caps the ceiling, and the wait a server asks for with
	// Retry-After. With the defaults an alert is given up on after about 45 s
	// of failures on average, 91 s at most. Default: 30 s.
	MaxBackoff time.Duration
	// Rate limits attempts to this many per second; a worker waits for its
	// turn before each attempt, retries included. Default: 0, no limit.
	Rate float64
	// Burst is how many attempts may go at once after the limiter was idle.
	// Default: 1.
	Burst int
	// RateKey chooses what one limiter covers: [RatePerTransport] or
	// [RatePerAddress]. Default: RatePerTransport.
	RateKey RateKey
	// Logger receives a line for every failed attempt, dead letter and
	// abandoned alert. Lines name the transport, the alert id, the check and
	// the error, never the address, which may be a credential. Default:
	// discards them.
	Logger *slog.Logger
	// Clock dates dead letters and times attempts. Default:
	// flapjack.SystemClock.
	Clock flapjack.Clock
	// Sleep waits for d, or until ctx ends, in which case it returns ctx's
	// error. Back-off and rate limiting wait only through it, so that tests can
	// run them without waiting. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o DeliveryOptions) withDefaults() DeliveryOptions {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
	if o.Rate < 0 {
		o.Rate = 0
	}
	if o.Burst <= 0 {
		o.Burst = 1
	}
	if o.RateKey == "" {
		o.RateKey = RatePerTransport
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = flapjack.SystemClock{}
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Delivery hands the alerts of one transport's queue to its gateway. It is the
// one place where deliveries are retried, rate limited, dead-lettered and
// counted, so that a gateway only knows its wire format.
//
// An alert is acknowledged on its queue only once it was delivered,
// dead-lettered, or found unreadable (and dead-lettered too). When the context
// of Run ends, retries stop and the alerts in hand are left unacknowledged, so a
// store that survives a restart hands them out again: delivery is at least
// once, and a receiver may see an alert twice.
type Delivery struct {
	queues    store.Queues
	queue     store.Queue
	queueName string
	transport string
	gw        Gateway
	opts      DeliveryOptions
	log       *slog.Logger
	metrics   Metrics
	limiter   *limiter // nil: no limit
	running   atomic.Bool

	// For gateways implementing Starter: whether Start succeeded since the last
	// ErrNotConnected, and a generation that tells a stale disconnection apart.
	connMu    sync.Mutex
	connected bool
	connGen   uint64
}

// NewDelivery returns the delivery of transport's alerts from the queue named
// queue of queues to g. It panics on an empty transport or queue name or a nil
// gateway or store, which are programming errors.
func NewDelivery(queues store.Queues, transport, queue string, g Gateway, opts DeliveryOptions) *Delivery {
	if queues == nil || g == nil || transport == "" || queue == "" {
		panic("gateway: NewDelivery needs a store, a transport, a queue and a gateway")
	}
	opts = opts.withDefaults()
	d := &Delivery{
		queues: queues, queue: queues.Queue(queue), queueName: queue, transport: transport,
		gw: g, opts: opts, log: opts.Logger,
	}
	if opts.Rate > 0 {
		d.limiter = newLimiter(opts.Rate, opts.Burst, opts.RateKey)
	}
	return d
}

// Transport is the transport whose alerts d delivers.
func (d *Delivery) Transport() string { return d.transport }

// Queue is the name of the queue d reads.
func (d *Delivery) Queue() string { return d.queueName }

// Metrics returns d's counters.
func (d *Delivery) Metrics() *Metrics { return &d.metrics }

// DeadLetters returns up to max of d's dead letters, oldest first, leaving them
// in place; see the package function [DeadLetters].
func (d *Delivery) DeadLetters(ctx context.Context, max int) ([]DeadLetter, error) {
	return DeadLetters(ctx, d.queues, d.queueName, max)
}

// Redrive moves up to n of d's dead letters back onto its queue; see the package
// function [Redrive].
func (d *Delivery) Redrive(ctx context.Context, n int) (int, error) {
	return Redrive(ctx, d.queues, d.queueName, n)
}

// ErrRunning is returned by Run when the same Delivery is already running.
var ErrRunning = errors.New("delivery already running")

// Run delivers alerts until ctx ends, then waits for its workers, calls the
// gateway's Close if it has one, and returns nil. It returns an error early only
// when the queue fails or the gateway's Start fails permanently.
func (d *Delivery) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return fmt.Errorf("gateway %s: %w", d.transport, ErrRunning)
	}
	defer d.running.Store(false)
	if c, ok := d.gw.(Closer); ok {
		defer func() {
			if cerr := c.Close(); cerr != nil {
				d.log.Error("gateway not closed cleanly", "transport", d.transport, "err", cerr)
			}
		}()
	}
	if err := d.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	// busy holds one token per worker at work, so that no more alerts are
	// reserved than there are workers free to take them.
	busy := make(chan struct{}, d.opts.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	// Returning for any reason stops the workers first (defers run last in,
	// first out), so that a failing queue does not wait on a long back-off.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var reserveWait retry.Backoff
	for {
		select {
		case busy <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1
	more:
		for free < cap(busy) {
			select {
			case busy <- struct{}{}:
				free++
			default:
				break more
			}
		}
		items, err := d.queue.Reserve(ctx, free, true)
		for range free - len(items) {
			<-busy
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, store.ErrClosed) {
				return fmt.Errorf("gateway %s: take alerts from %q: %w", d.transport, d.queueName, err)
			}
			// A store outage: wait it out and carry on, as the processor does.
			wait := reserveWait.Next()
			d.log.Error("cannot take alerts; will retry", "transport", d.transport, "queue", d.queueName, "err", err, "retry_in", wait)
			if err := d.opts.Sleep(ctx, wait); err != nil {
				return nil
			}
			continue
		}
		reserveWait.Reset()
		for _, it := range items {
			wg.Go(func() {
				defer func() { <-busy }()
				d.deliver(ctx, it)
			})
		}
	}
}

// start calls the gateway's Start, if it has one, until it succeeds.
func (d *Delivery) start(ctx context.Context) error {
	if _, ok := d.gw.(Starter); !ok {
		return nil
	}
	d.connMu.Lock()
	d.connected = false // a previous Run closed the gateway
	d.connMu.Unlock()
	for attempt := 1; ; attempt++ {
		err := d.connect(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if IsPermanent(err) {
			return fmt.Errorf("gateway %s: start: %w", d.transport, err)
		}
		d.log.Warn("gateway not started; will retry", "transport", d.transport, "attempt", attempt, "err", err)
		if err := d.opts.Sleep(ctx, d.backoff(attempt, nil)); err != nil {
			return err
		}
	}
}

// connect starts a Starter gateway that is not connected.
func (d *Delivery) connect(ctx context.Context) error {
	s, ok := d.gw.(Starter)
	if !ok {
		return nil
	}
	d.connMu.Lock()
	defer d.connMu.Unlock()
	if d.connected {
		return nil
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	d.connected = true
	d.connGen++
	return nil
}

func (d *Delivery) generation() uint64 {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	return d.connGen
}

// disconnected records that the connection of generation gen was lost, unless
// another worker has already replaced it.
func (d *Delivery) disconnected(gen uint64) {
	d.connMu.Lock()
	defer d.connMu.Unlock()
	if d.connGen == gen {
		d.connected = false
	}
}

// deliver takes one queued alert to its end: delivered, dead-lettered, or left
// unacknowledged because ctx ended.
func (d *Delivery) deliver(ctx context.Context, it store.Item) {
	var a flapjack.Alert
	if err := json.Unmarshal(it.Payload, &a); err != nil {
		now := d.opts.Clock.Now()
		err = Permanent(fmt.Errorf("unreadable alert: %w", err))
		d.deadLetter(ctx, it, newDeadLetter(it.Payload, d.transport, err, 0, now, now))
		return
	}
	var first time.Time
	for attempt := 1; ; attempt++ {
		if err := d.waitTurn(ctx, a.Address); err != nil {
			d.abandon(&a, attempt-1, err)
			return
		}
		gen := d.generation()
		start := d.opts.Clock.Now()
		if attempt == 1 {
			first = start
		} else {
			d.metrics.retried.Add(1)
		}
		err := d.connect(ctx)
		if err != nil {
			err = fmt.Errorf("start: %w", err)
		} else {
			err = d.gw.Send(ctx, &a)
			d.metrics.observe(d.opts.Clock.Now().Sub(start))
		}
		if err == nil {
			d.metrics.sent.Add(1)
			d.ack(ctx, it, &a)
			return
		}
		d.metrics.failed.Add(1)
		if ctx.Err() != nil {
			d.abandon(&a, attempt, err)
			return
		}
		if errors.Is(err, ErrNotConnected) {
			d.disconnected(gen)
		}
		if IsPermanent(err) || attempt >= d.opts.MaxAttempts {
			d.deadLetter(ctx, it, newDeadLetter(it.Payload, d.transport, err, attempt, first, start))
			return
		}
		wait := d.backoff(attempt, err)
		d.log.Warn("alert delivery failed; will retry", d.attrs(&a, attempt, err, slog.Duration("wait", wait))...)
		if err := d.opts.Sleep(ctx, wait); err != nil {
			d.abandon(&a, attempt, err)
			return
		}
	}
}

// waitTurn waits for the rate limiter, if any, to allow one attempt to address.
func (d *Delivery) waitTurn(ctx context.Context, address string) error {
	if d.limiter == nil {
		return ctx.Err()
	}
	now := d.opts.Clock.Now()
	delay, cancel := d.limiter.reserve(address, now)
	if delay <= 0 {
		return ctx.Err()
	}
	if err := d.opts.Sleep(ctx, delay); err != nil {
		cancel(d.opts.Clock.Now())
		return err
	}
	return nil
}

// backoff is the wait after the given failed attempt: a random time up to a
// ceiling that doubles with each attempt, and at least what the server asked
// for with Retry-After, both capped by MaxBackoff.
func (d *Delivery) backoff(attempt int, err error) time.Duration {
	ceiling := d.opts.Backoff
	for i := 1; i < attempt && ceiling < d.opts.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, d.opts.MaxBackoff)
	wait := rand.N(ceiling + 1)
	if se := (*StatusError)(nil); errors.As(err, &se) && se.RetryAfter > 0 {
		wait = max(wait, min(se.RetryAfter, d.opts.MaxBackoff))
	}
	return wait
}

func (d *Delivery) attrs(a *flapjack.Alert, attempt int, err error, more ...slog.Attr) []any {
	out := []any{"transport", d.transport, "alert", a.ID, "check", a.CheckName, "attempt", attempt, "err", err}
	for _, m := range more {
		out = append(out, m)
	}
	return out
}

// finishing is the context of the store writes that end a delivery: they go on
// when ctx ends, for a short while.
func finishing(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
}

func (d *Delivery) ack(ctx context.Context, it store.Item, a *flapjack.Alert) {
	fctx, cancel := finishing(ctx)
	defer cancel()
	if err := d.queue.Ack(fctx, it); err != nil {
		// The store may hand the alert out again: it would be sent twice.
		d.log.Error("alert not acknowledged", "transport", d.transport, "alert", a.ID, "check", a.CheckName, "err", err)
	}
}

// abandon logs an alert left unacknowledged because ctx ended.
func (d *Delivery) abandon(a *flapjack.Alert, attempts int, err error) {
	d.log.Error("alert not delivered: shutting down", d.attrs(a, attempts, err)...)
}

// deadLetter pushes the record of an alert given up on onto the dead-letter
// queue, then acknowledges the alert. When the push fails the alert is left
// unacknowledged, for a store that hands it out again.
func (d *Delivery) deadLetter(ctx context.Context, it store.Item, dl DeadLetter) {
	rec, err := json.Marshal(dl)
	if err == nil {
		fctx, cancel := finishing(ctx)
		err = d.queues.Queue(DeadLetterQueue(d.queueName)).Push(fctx, rec)
		cancel()
	}
	var a flapjack.Alert
	_ = json.Unmarshal(dl.Alert, &a) // for the log line; zero when unreadable
	if err != nil {
		d.log.Error("alert not delivered and not dead-lettered", "transport", d.transport, "alert", a.ID, "check", a.CheckName,
			"attempts", dl.Attempts, "failure", dl.Error, "err", err)
		return
	}
	d.metrics.deadLettered.Add(1)
	msg := "alert not delivered; dead-lettered"
	if dl.Attempts == 0 {
		msg = "unreadable alert dead-lettered"
	}
	d.log.Error(msg, "transport", d.transport, "alert", a.ID, "check", a.CheckName,
		"attempts", dl.Attempts, "permanent", dl.Permanent, "err", dl.Error, "dead_letter_queue", DeadLetterQueue(d.queueName))
	d.ack(ctx, it, &a)
}
