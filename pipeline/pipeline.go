// Package pipeline runs Flapjack's stages together over one store: the processor
// reading the events queue, the notifier reading the notifications queue, and one
// [gateway.Delivery] per gateway reading its transport's queue (with its retries,
// rate limit, dead letters and metrics). On the memory store this is the whole of
// Flapjack in one process; on a shared store each process may run any subset.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

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
	// Components are further loops run and stopped with the stages, keyed by a
	// name used in errors (for example a gateway's acknowledgement poller).
	Components map[string]func(context.Context) error
	// Gateways maps a transport to the gateway delivering its alerts.
	Gateways map[string]gateway.Gateway
	// TransportQueues maps a transport to its queue; missing ones use
	// notifier.TransportQueue.
	TransportQueues map[string]string
	// Delivery tunes the delivery of every transport's alerts: workers,
	// retries, back-off, rate limit (see gateway.DeliveryOptions for each
	// default). Its Logger defaults to Logger.
	Delivery gateway.DeliveryOptions
	// TransportDelivery replaces Delivery for the transports it names.
	TransportDelivery map[string]gateway.DeliveryOptions
	// Logger receives the stages' failures. Default: discards them.
	Logger *slog.Logger
}

// Pipeline runs the configured stages until its context ends.
type Pipeline struct {
	opts       Options
	deliveries map[string]*gateway.Delivery
}

// New returns a pipeline over the queues of s.
func New(s store.Queues, opts Options) *Pipeline {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{opts: opts, deliveries: make(map[string]*gateway.Delivery, len(opts.Gateways))}
	for t, g := range opts.Gateways {
		queue, ok := opts.TransportQueues[t]
		if !ok {
			queue = notifier.TransportQueue(t)
		}
		dopts, ok := opts.TransportDelivery[t]
		if !ok {
			dopts = opts.Delivery
		}
		if dopts.Logger == nil {
			dopts.Logger = opts.Logger
		}
		p.deliveries[t] = gateway.NewDelivery(s, t, queue, g, dopts)
	}
	return p
}

// Delivery returns the delivery of a transport's alerts, through which a program
// reads its metrics and inspects or re-drives its dead letters; nil when the
// pipeline has no gateway for the transport.
func (p *Pipeline) Delivery(transport string) *gateway.Delivery { return p.deliveries[transport] }

// Transports lists the transports the pipeline delivers, sorted.
func (p *Pipeline) Transports() []string { return slices.Sorted(maps.Keys(p.deliveries)) }

// Run runs every stage and returns when ctx ends and all have stopped, or as soon
// as one fails, stopping the others.
func (p *Pipeline) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := func(name string, run func(context.Context) error) {
		wg.Go(func() {
			if err := run(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		})
	}
	if p.opts.Processor != nil {
		start("processor", p.opts.Processor.Run)
	}
	if p.opts.Notifier != nil {
		start("notifier", p.opts.Notifier.Run)
	}
	for _, t := range p.Transports() {
		start("gateway "+t, p.deliveries[t].Run)
	}
	for _, name := range slices.Sorted(maps.Keys(p.opts.Components)) {
		start(name, p.opts.Components[name])
	}
	<-ctx.Done()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
