// Package pipeline runs Flapjack's stages together over one store: the processor
// reading the events queue, the notifier reading the notifications queue, and one
// delivery loop per gateway reading its transport's queue. On the memory store this
// is the whole of Flapjack in one process; on a shared store each process may run
// any subset.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
)

// Options configure a Pipeline.
type Options struct {
	// Processor and Notifier, when set, are run; nil leaves that stage to
	// another process.
	Processor *processor.Processor
	Notifier  *notifier.Notifier
	// Gateways maps a transport to the gateway delivering its alerts.
	Gateways map[string]gateway.Gateway
	// TransportQueues maps a transport to its queue; missing ones use
	// notifier.TransportQueue.
	TransportQueues map[string]string
	// MaxAttempts bounds delivery attempts of one alert when the gateway reports
	// a retryable failure. Default 5.
	MaxAttempts int
	// RetryBackoff is the wait before the second attempt; it doubles each time,
	// with jitter, up to one minute. Default 1 s.
	RetryBackoff time.Duration
	Logger       *slog.Logger
}

// Pipeline runs the configured stages until its context ends.
type Pipeline struct {
	store store.Queues
	opts  Options
	log   *slog.Logger
}

// New returns a pipeline over the queues of s.
func New(s store.Queues, opts Options) *Pipeline {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Gateways = maps.Clone(opts.Gateways)
	return &Pipeline{store: s, opts: opts, log: opts.Logger}
}

// Run runs every stage and returns when ctx ends and all have stopped, or as soon
// as one fails, stopping the others.
func (p *Pipeline) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		}()
	}
	if p.opts.Processor != nil {
		start("processor", p.opts.Processor.Run)
	}
	if p.opts.Notifier != nil {
		start("notifier", p.opts.Notifier.Run)
	}
	for _, t := range slices.Sorted(maps.Keys(p.opts.Gateways)) {
		g := p.opts.Gateways[t]
		start("gateway "+t, func(ctx context.Context) error { return p.deliver(ctx, t, g) })
	}
	<-ctx.Done()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (p *Pipeline) queueFor(transport string) string {
	if q, ok := p.opts.TransportQueues[transport]; ok {
		return q
	}
	return notifier.TransportQueue(transport)
}

// deliver hands each alert of a transport's queue to its gateway.
func (p *Pipeline) deliver(ctx context.Context, transport string, g gateway.Gateway) error {
	q := p.store.Queue(p.queueFor(transport))
	for {
		items, err := q.Reserve(ctx, 10, true)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("take alerts: %w", err)
		}
		// Only alerts that were dealt with are acknowledged: those left when
		// shutting down stay with a store that hands them out again.
		handled := make([]store.Item, 0, len(items))
		for _, it := range items {
			var a flapjack.Alert
			if err := json.Unmarshal(it.Payload, &a); err != nil {
				p.log.Error("unreadable alert dropped", "transport", transport, "err", err)
				handled = append(handled, it)
				continue
			}
			if !p.send(ctx, g, &a) {
				break
			}
			handled = append(handled, it)
		}
		if len(handled) > 0 {
			if err := q.Ack(context.WithoutCancel(ctx), handled...); err != nil {
				p.log.Error("alerts not acknowledged", "transport", transport, "err", err)
			}
		}
	}
}

// send delivers one alert, retrying retryable failures with exponential back-off.
// It reports false when it gave up because ctx ended, true when the alert was
// delivered or will never be.
func (p *Pipeline) send(ctx context.Context, g gateway.Gateway, a *flapjack.Alert) bool {
	wait := p.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			p.log.Error("alert not delivered: shutting down", "transport", a.Transport, "alert", a.ID, "check", a.CheckName)
			return false
		}
		err := g.Send(ctx, a)
		if err == nil {
			return true
		}
		attrs := []any{"transport", a.Transport, "alert", a.ID, "check", a.CheckName, "attempt", attempt, "err", err}
		if ctx.Err() != nil {
			p.log.Error("alert not delivered: shutting down", attrs...)
			return false
		}
		if gateway.IsPermanent(err) || attempt >= p.opts.MaxAttempts {
			p.log.Error("alert not delivered", attrs...)
			return true
		}
		p.log.Warn("alert delivery failed; will retry", attrs...)
		jittered := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			p.log.Error("alert not delivered: shutting down", attrs...)
			return false
		case <-time.After(jittered):
		}
		wait = min(wait*2, time.Minute)
	}
}
