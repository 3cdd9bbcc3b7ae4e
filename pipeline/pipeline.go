// Package pipeline runs Flapjack's stages together over one store: the processor
// reading the events queue, the notifier reading the notifications queue, and one
// [gateway.Delivery] per gateway reading its transport's queue (with its retries,
// rate limit, dead letters and metrics). On the memory store this is the whole of
// Flapjack in one process; on a shared store each process may run any subset.
//
// The pipeline supervises its stages: a stage that fails (returns an error, stops
// by itself, or panics in the goroutine that runs it) is logged and restarted
// after a back-off that doubles up to a ceiling, while the others run on. Only
// the end of Run's context, or a stage reporting that the store is closed, stops
// them all. Stopping a stage cancels its context, as at shutdown: what it had
// taken off a queue and not handled is handed out again by a durable store. Stages may be added,
// replaced or removed while the pipeline runs (SetProcessor, SetNotifier,
// SetGateway, SetComponent), which is how a daemon reloads its configuration
// restarting only what changed.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/internal/retry"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
)

// The restart back-off defaults, as documented on [Options].
const (
	DefaultRestartBackoff    = time.Second
	DefaultMaxRestartBackoff = time.Minute
)

// Options configure a Pipeline.
type Options struct {
	// Processor and Notifier, when set, are run; nil leaves that stage to
	// another process.
	Processor *processor.Processor
	Notifier  *notifier.Notifier
	// Components are further loops run and supervised with the stages, keyed by
	// a name used in logs, errors and [StageStatus] (for example a gateway's
	// acknowledgement poller). The names "processor", "notifier" and
	// "gateway <transport>" are the stages'.
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
	// Logger receives the stages' failures and restarts. Default: discards
	// them.
	Logger *slog.Logger
	// RestartBackoff is about the wait before a failed stage is restarted (a
	// random time between half of it and all of it); each further failure
	// doubles it, up to MaxRestartBackoff. A stage that ran for longer than
	// MaxRestartBackoff before failing waits RestartBackoff again. Default 1 s.
	RestartBackoff time.Duration
	// MaxRestartBackoff caps the wait before a restart. Default 1 min.
	MaxRestartBackoff time.Duration
}

// Pipeline runs and supervises the configured stages until its context ends.
// Its methods are safe for concurrent use.
type Pipeline struct {
	queues store.Queues
	log    *slog.Logger
	// backoff is the restart back-off's first wait and ceiling.
	backoff, maxBackoff time.Duration
	// delivery is the default delivery options of SetGateway's callers.
	delivery gateway.DeliveryOptions

	mu         sync.Mutex
	stages     map[string]*stage
	deliveries map[string]*gateway.Delivery
	// retired adds up the metrics of the deliveries replaced or removed, per
	// transport, so that a transport's counters never go back.
	retired map[string]gateway.MetricsSnapshot
	// stopping holds replaced deliveries still counting until they stop.
	stopping map[*gateway.Delivery]bool
	running  *runState // nil unless Run is running
}

// runState is one call of Run.
type runState struct {
	ctx  context.Context
	stop context.CancelCauseFunc
	// wg counts the stages' supervisors; Add is called only while this is the
	// pipeline's running state, so before Run's Wait.
	wg sync.WaitGroup
}

// New returns a pipeline over the queues of s.
func New(s store.Queues, opts Options) *Pipeline {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RestartBackoff <= 0 {
		opts.RestartBackoff = DefaultRestartBackoff
	}
	if opts.MaxRestartBackoff <= 0 {
		opts.MaxRestartBackoff = DefaultMaxRestartBackoff
	}
	p := &Pipeline{
		queues:     s,
		log:        opts.Logger,
		backoff:    opts.RestartBackoff,
		maxBackoff: max(opts.MaxRestartBackoff, opts.RestartBackoff),
		delivery:   opts.Delivery,
		stages:     map[string]*stage{},
		deliveries: make(map[string]*gateway.Delivery, len(opts.Gateways)),
		retired:    map[string]gateway.MetricsSnapshot{},
		stopping:   map[*gateway.Delivery]bool{},
	}
	p.SetProcessor(opts.Processor)
	p.SetNotifier(opts.Notifier)
	for t, g := range opts.Gateways {
		queue, ok := opts.TransportQueues[t]
		if !ok {
			queue = notifier.TransportQueue(t)
		}
		dopts, ok := opts.TransportDelivery[t]
		if !ok {
			dopts = opts.Delivery
		}
		p.SetGateway(t, g, queue, dopts)
	}
	for name, run := range opts.Components {
		p.SetComponent(name, run)
	}
	return p
}

// SetProcessor runs pr as the processor stage, in place of the one running, if
// any, which is stopped first; nil removes the stage.
func (p *Pipeline) SetProcessor(pr *processor.Processor) {
	var run func(context.Context) error
	if pr != nil {
		run = pr.Run
	}
	p.set("processor", run)
}

// SetNotifier runs n as the notifier stage, in place of the one running, if any,
// which is stopped first; nil removes the stage.
func (p *Pipeline) SetNotifier(n *notifier.Notifier) {
	var run func(context.Context) error
	if n != nil {
		run = n.Run
	}
	p.set("notifier", run)
}

// SetGateway delivers transport's alerts from queue to g with opts (an empty
// queue is notifier.TransportQueue(transport); opts.Logger defaults to the
// pipeline's Logger), in place of the transport's delivery, if any, which is
// stopped first. A nil g removes the transport's delivery. The transport's
// metrics go on from where the replaced delivery left them.
func (p *Pipeline) SetGateway(transport string, g gateway.Gateway, queue string, opts gateway.DeliveryOptions) {
	var d *gateway.Delivery
	var run func(context.Context) error
	if g != nil {
		if queue == "" {
			queue = notifier.TransportQueue(transport)
		}
		if opts.Logger == nil {
			opts.Logger = p.log
		}
		d = gateway.NewDelivery(p.queues, transport, queue, g, opts)
		run = d.Run
	}
	p.mu.Lock()
	old := p.deliveries[transport]
	if d != nil {
		p.deliveries[transport] = d
	} else {
		delete(p.deliveries, transport)
	}
	if old != nil {
		p.stopping[old] = true
	}
	p.mu.Unlock()

	p.set("gateway "+transport, run)

	if old != nil {
		p.mu.Lock()
		delete(p.stopping, old)
		p.retired[transport] = addMetrics(p.retired[transport], old.Metrics().Snapshot())
		p.mu.Unlock()
	}
}

// SetComponent runs a further loop under name, in place of the one of that name,
// if any, which is stopped first; a nil run removes it.
func (p *Pipeline) SetComponent(name string, run func(context.Context) error) {
	p.set(name, run)
}

// set replaces the stage called name by one running run (none when run is
// nil). The old stage is stopped, and has returned, before the new one starts.
func (p *Pipeline) set(name string, run func(context.Context) error) {
	var s *stage
	if run != nil {
		s = &stage{name: name, run: run, status: StageStatus{Name: name, State: StageStopped, Since: time.Now()}}
	}
	p.mu.Lock()
	old := p.stages[name]
	if s != nil {
		p.stages[name] = s
	} else {
		delete(p.stages, name)
	}
	r := p.running
	p.mu.Unlock()
	if old != nil {
		old.remove()
	}
	if s != nil && r != nil {
		p.start(r, s)
	}
}

// Delivery returns the delivery of a transport's alerts, through which a program
// reads its metrics and inspects or re-drives its dead letters; nil when the
// pipeline has no gateway for the transport.
func (p *Pipeline) Delivery(transport string) *gateway.Delivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deliveries[transport]
}

// Transports lists the transports the pipeline delivers, sorted.
func (p *Pipeline) Transports() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.deliveries))
}

// DeliveryMetrics returns the delivery metrics of every transport the pipeline
// delivers or has delivered: those of its current delivery added to those of
// the deliveries it replaced, so that each count only grows.
func (p *Pipeline) DeliveryMetrics() map[string]gateway.MetricsSnapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := maps.Clone(p.retired)
	for t, d := range p.deliveries {
		out[t] = addMetrics(out[t], d.Metrics().Snapshot())
	}
	for d := range p.stopping {
		out[d.Transport()] = addMetrics(out[d.Transport()], d.Metrics().Snapshot())
	}
	return out
}

// addMetrics adds two snapshots of the same transport's metrics.
func addMetrics(a, b gateway.MetricsSnapshot) gateway.MetricsSnapshot {
	if a.Latency.Buckets == nil {
		return b
	}
	s := gateway.MetricsSnapshot{
		Sent: a.Sent + b.Sent, Failed: a.Failed + b.Failed,
		Retried: a.Retried + b.Retried, DeadLettered: a.DeadLettered + b.DeadLettered,
		Latency: gateway.Histogram{Count: a.Latency.Count + b.Latency.Count, Sum: a.Latency.Sum + b.Latency.Sum},
	}
	s.Latency.Buckets = slices.Clone(a.Latency.Buckets)
	for i := range s.Latency.Buckets {
		if i < len(b.Latency.Buckets) {
			s.Latency.Buckets[i].Count += b.Latency.Buckets[i].Count
		}
	}
	return s
}

// StageState is what a stage is doing.
type StageState string

// The states of a stage.
const (
	// StageRunning: the stage's loop is running.
	StageRunning StageState = "running"
	// StageRestarting: the stage failed and waits out its back-off.
	StageRestarting StageState = "restarting"
	// StageStopped: the pipeline is not running, or is stopping.
	StageStopped StageState = "stopped"
)

// StageStatus describes one stage.
type StageStatus struct {
	// Name is "processor", "notifier", "gateway <transport>" or a component's
	// name.
	Name  string
	State StageState
	// Since is when the stage entered State.
	Since time.Time
	// Restarts counts the restarts after failures since the stage was set.
	Restarts int
	// LastError is the stage's last failure; nil when it never failed.
	LastError error
}

// Stages returns the status of every stage, sorted by name.
func (p *Pipeline) Stages() []StageStatus {
	p.mu.Lock()
	stages := slices.Collect(maps.Values(p.stages))
	p.mu.Unlock()
	out := make([]StageStatus, 0, len(stages))
	for _, s := range stages {
		s.mu.Lock()
		out = append(out, s.status)
		s.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b StageStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ErrNotRunning is returned by Ready when Run is not running.
var ErrNotRunning = errors.New("pipeline not running")

// Ready returns nil when Run is running and so is every stage; otherwise an
// error naming each stage that is not, with its last failure.
func (p *Pipeline) Ready() error {
	p.mu.Lock()
	running := p.running != nil && p.running.ctx.Err() == nil
	p.mu.Unlock()
	if !running {
		return ErrNotRunning
	}
	var errs []error
	for _, s := range p.Stages() {
		if s.State == StageRunning {
			continue
		}
		if s.LastError != nil {
			errs = append(errs, fmt.Errorf("%s %s after %d restarts: %w", s.Name, s.State, s.Restarts, s.LastError))
		} else {
			errs = append(errs, fmt.Errorf("%s %s", s.Name, s.State))
		}
	}
	return errors.Join(errs...)
}

// ErrRunning is returned by Run when the pipeline is already running.
var ErrRunning = errors.New("pipeline already running")

// Run runs and supervises every stage until ctx ends, or until a stage finds
// the store closed, and returns once all have stopped: nil when ctx ended, else
// the error of the stage that found the store closed. A stage that fails
// otherwise is logged and restarted after a back-off; see [Options].
func (p *Pipeline) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &runState{ctx: ctx, stop: cancel}
	p.mu.Lock()
	if p.running != nil {
		p.mu.Unlock()
		return ErrRunning
	}
	p.running = r
	stages := slices.Collect(maps.Values(p.stages))
	p.mu.Unlock()
	slices.SortFunc(stages, func(a, b *stage) int { return strings.Compare(a.name, b.name) })
	for _, s := range stages {
		p.start(r, s)
	}
	<-ctx.Done()
	p.mu.Lock()
	p.running = nil
	p.mu.Unlock()
	r.wg.Wait() // every stage's context is a child of ctx
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// stage is one supervised loop.
type stage struct {
	name string
	run  func(context.Context) error

	mu      sync.Mutex
	removed bool               // replaced or removed: never started again
	cancel  context.CancelFunc // nil when not started
	done    chan struct{}      // closed when the supervisor returned
	status  StageStatus
}

// start starts s's supervisor under r, unless r is no longer the running state
// or s was removed or is running already.
func (p *Pipeline) start(r *runState, s *stage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running != r {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed || s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	s.cancel, s.done = cancel, done
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(done)
		p.supervise(ctx, r, s)
		cancel()
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
	}()
}

// remove stops s for good and waits until it has.
func (s *stage) remove() {
	s.mu.Lock()
	s.removed = true
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (s *stage) setState(state StageState, restarted bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.State, s.status.Since = state, time.Now()
	if restarted {
		s.status.Restarts++
	}
	if err != nil {
		s.status.LastError = err
	}
}

// errStoppedEarly is the failure of a stage that returned nil before its
// context ended.
var errStoppedEarly = errors.New("stopped by itself")

// supervise runs s until ctx ends, restarting it after each failure.
func (p *Pipeline) supervise(ctx context.Context, r *runState, s *stage) {
	wait := retry.Backoff{Min: p.backoff, Max: p.maxBackoff}
	restarted := false
	for {
		s.setState(StageRunning, restarted, nil)
		began := time.Now()
		err := runSafely(ctx, s.run)
		switch {
		case ctx.Err() != nil:
			s.setState(StageStopped, false, nil)
			return
		case errors.Is(err, store.ErrClosed):
			// Nothing can run on a closed store: stop every stage.
			s.setState(StageStopped, false, err)
			r.stop(fmt.Errorf("%s: %w", s.name, err))
			return
		case err == nil:
			err = errStoppedEarly
		}
		if time.Since(began) > p.maxBackoff {
			wait.Reset() // it ran well for a while: a fresh failure
		}
		d := wait.Next()
		s.setState(StageRestarting, false, err)
		p.log.Error("stage failed; restarting", "stage", s.name, "err", err, "restart_in", d)
		if !retry.Sleep(ctx, d) {
			s.setState(StageStopped, false, nil)
			return
		}
		restarted = true
		p.log.Info("stage restarted", "stage", s.name)
	}
}

// runSafely runs run, turning a panic into an error that carries its stack.
func runSafely(ctx context.Context, run func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	return run(ctx)
}
