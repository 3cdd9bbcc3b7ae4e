// Package processor turns events into notifications. For each event it records the
// check's new state, runs the filter chain and, when no filter blocks, hands a
// notification to the notifier — deciding by how long a check has been failing,
// never by how many failing results it saw.
//
// The decision itself is the pure function Decide; Processor wraps it with storage:
// it reads and writes the check atomically and enqueues the notification in the same
// write, so an alert is never half-recorded.
//
// Run takes events off the queue in batches and handles each batch with
// ProcessBatch's method: the events of one check are applied in order in one atomic
// update of that check, and a store that is a store.CheckBatcher (store/redis)
// reads and writes the checks of the whole batch in a few round trips. Several
// processors, in one process or many, may share a queue and a store: each update
// of a check is atomic, so none loses another's, though the events of one check
// taken by two processors may then be applied in either order.
package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/filter"
	"github.com/x/flapjack/internal/bufpool"
	"github.com/x/flapjack/internal/retry"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
)

// Store is what the processor needs from storage.
type Store interface {
	UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error)
	AddStatistics(ctx context.Context, instance string, now time.Time, d flapjack.Statistics) error
	store.Queues
}

// Options configure a Processor. The zero value is usable.
type Options struct {
	Settings
	// Queue is the events queue Run reads. Default "events".
	Queue string
	// NotifierQueue is where notifications go. Default "notifications".
	NotifierQueue string
	// Filters is the filter chain. Default filter.Default().
	Filters filter.Chain
	// Clock is the time source. Default the system clock.
	Clock flapjack.Clock
	// Logger receives one debug line per decision and errors. Default: discard.
	Logger *slog.Logger
	// Instance names this processor's statistics. Default "<hostname>:<pid>".
	Instance string
	// BatchSize is how many events Run takes off the queue at a time. The checks
	// of a batch are read and written together when the store is a
	// store.CheckBatcher (store/redis: three round trips for the whole batch).
	// Default 100.
	BatchSize int

	// ArchiveEvents keeps a copy of every valid event taken off the queue (by
	// Run, ProcessBatch or ProcessRaw) on the list named by ArchiveQueue,
	// "<Queue>_archive:YYYYMMDDHH" for the UTC hour it was taken in, as Flapjack
	// v2's archive_events does; invalid events go to the rejected list only.
	// Each list expires EventsArchiveMaxAge after the last event put on it. It
	// needs a store that is a store.Archiver. Default false.
	ArchiveEvents bool
	// EventsArchiveMaxAge is how long an archive list is kept after its last
	// event. Required when ArchiveEvents is set (Flapjack v2's example
	// configuration uses 3 hours); there is no default.
	EventsArchiveMaxAge time.Duration

	// Observer, when set, is told of the events handled. Default: none.
	Observer Observer

	// NoDecisionLog turns off the decision log. By default a processor over a
	// store that is a store.DecisionLog records there what it made of every
	// event that was not an ok result of a check already ok: which filter kept
	// it from notifying and why, or the notification it made.
	NoDecisionLog bool
}

// Validate reports settings that cannot work together.
func (o *Options) Validate() error {
	if o.ArchiveEvents && o.EventsArchiveMaxAge <= 0 {
		return errors.New("processor: ArchiveEvents needs a positive EventsArchiveMaxAge")
	}
	return nil
}

// Processor processes events. It is safe for concurrent use.
type Processor struct {
	store    Store
	batcher  store.CheckBatcher
	archiver store.Archiver
	// decisions is the store's decision log, nil when none is kept.
	decisions store.DecisionLog
	opts      Options
	log       *slog.Logger
	count     atomic.Int64
	// unsaved are statistics the store failed to take, added with the next.
	unsavedMu sync.Mutex
	unsaved   flapjack.Statistics
	// err is what is wrong with the options; Run, ProcessBatch and ProcessRaw
	// return it.
	err error
}

// ErrInvalidEvent is wrapped by Process for an event that fails validation.
var ErrInvalidEvent = flapjack.ErrInvalidEvent

// New returns a processor over s. Options that cannot work (see
// Options.Validate, and ArchiveEvents with a store that is not a
// store.Archiver) make Run, ProcessBatch and ProcessRaw fail.
func New(s Store, opts Options) *Processor {
	if opts.Queue == "" {
		opts.Queue = "events"
	}
	if opts.NotifierQueue == "" {
		opts.NotifierQueue = "notifications"
	}
	if opts.Filters == nil {
		opts.Filters = filter.Default()
	}
	if opts.Clock == nil {
		opts.Clock = flapjack.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Instance == "" {
		host, _ := os.Hostname()
		opts.Instance = host + ":" + strconv.Itoa(os.Getpid())
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	p := &Processor{store: s, opts: opts, log: opts.Logger, err: opts.Validate()}
	if b, ok := s.(store.CheckBatcher); ok {
		p.batcher = b
	} else {
		p.batcher = loopBatcher{s}
	}
	if l, ok := s.(store.DecisionLog); ok && !opts.NoDecisionLog {
		p.decisions = l
	}
	if a, ok := s.(store.Archiver); ok {
		p.archiver = a
	} else if opts.ArchiveEvents && p.err == nil {
		p.err = fmt.Errorf("processor: ArchiveEvents needs a store that archives; %T does not", s)
	}
	return p
}

// Result is the outcome of processing one event.
type Result struct {
	// Check is the check as stored after the event.
	Check flapjack.Check
	// Notification is the notification enqueued, or nil.
	Notification *flapjack.Notification
	// BlockedBy names the filter that blocked, if one did.
	BlockedBy string
	Trace     flapjack.Trace
}

// Process handles one event: it validates it, updates the check, runs the filters
// and enqueues the notification, if any, on the notifier queue. An invalid event is
// counted and rejected with an error wrapping ErrInvalidEvent.
func (p *Processor) Process(ctx context.Context, ev flapjack.Event) (Result, error) {
	now := p.opts.Clock.Now()
	if err := ev.Validate(); err != nil {
		p.addStats(ctx, now, flapjack.Statistics{AllEvents: 1, InvalidEvents: 1})
		return Result{}, err
	}
	w := &processWork{p: p, ev: ev, now: now, count: p.count.Add(1)}
	check, err := p.store.UpdateCheck(ctx, ev.CheckName(), true, w.update)
	bufpool.Put(w.buf) // the store has copied the payload
	if err != nil {
		return Result{}, fmt.Errorf("process event for %q: %w", ev.CheckName(), err)
	}
	dec := &w.dec
	p.addStats(ctx, now, dec.Stats)
	p.recordDecisions(ctx, w.records)
	if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.LogAttrs(ctx, slog.LevelDebug, "event processed",
			slog.String("check", check.Name), slog.String("state", ev.State),
			slog.String("blocked_by", dec.BlockedBy), slog.Bool("notified", dec.Notification != nil),
			slog.String("trace", dec.Trace.String()))
	}
	return Result{Check: check, Notification: dec.Notification, BlockedBy: dec.BlockedBy, Trace: dec.Trace}, nil
}

// processWork is what Process's UpdateCheck callback shares with it, gathered in
// one allocation rather than a closure and each variable it would capture.
type processWork struct {
	p     *Processor
	ev    flapjack.Event
	now   time.Time
	count int64
	dec   Decision
	msg   [1]store.Message
	buf   *[]byte // the notification's payload, borrowed from bufpool
	// The decision log's record of the decision, when one is kept: made only
	// for decisions worth recording, so steady ok events pay nothing.
	records []flapjack.DecisionRecord
}

// update decides for the event on the check in u. It may run more than once.
func (w *processWork) update(u *store.CheckUpdate) error {
	p := w.p
	prev := u.Check.Condition
	w.dec = Decide(Input{
		Check: &u.Check, Created: u.Created, Event: &w.ev, Now: w.now,
		Settings: p.opts.Settings, Filters: p.opts.Filters, NewID: uuid.NewString,
	})
	u.History = w.dec.History
	w.records = w.records[:0]
	if p.decisions != nil {
		if r, ok := decisionOf(&u.Check, &w.ev, prev, &w.dec, w.now); ok {
			w.records = append(w.records, r)
		}
	}
	if n := w.dec.Notification; n != nil {
		n.EventCount = w.count
		if w.buf == nil {
			w.buf = bufpool.Get()
		}
		// Encoded by hand: json.Marshal would only re-check what it writes.
		payload, err := n.AppendJSON((*w.buf)[:0])
		if err != nil {
			return fmt.Errorf("encode notification: %w", err)
		}
		*w.buf = payload
		w.msg[0] = store.Message{Queue: p.opts.NotifierQueue, Payload: payload}
		if len(u.Enqueue) == 0 {
			u.Enqueue = w.msg[:] // the store copies what it enqueues
		} else {
			u.Enqueue = append(u.Enqueue, w.msg[0])
		}
	}
	return nil
}

// addStats adds d to the store's statistics. Counts the store failed to take
// are kept and added with the next ones, so that an outage delays them rather
// than losing them.
func (p *Processor) addStats(ctx context.Context, now time.Time, d flapjack.Statistics) {
	p.observe(now, d)
	p.unsavedMu.Lock()
	d.Add(p.unsaved)
	p.unsaved = flapjack.Statistics{}
	p.unsavedMu.Unlock()
	if err := p.store.AddStatistics(ctx, p.opts.Instance, now, d); err != nil {
		p.log.Warn("statistics not recorded yet; will add them with the next", "err", err)
		p.unsavedMu.Lock()
		p.unsaved.Add(d)
		p.unsavedMu.Unlock()
	}
}

// ProcessRaw parses one event as producers send it and processes it. An invalid
// event is counted and pushed to the hourly rejected queue
// ("<queue>_rejected:YYYYMMDDHH", UTC) with the error returned.
//
// With Options.ArchiveEvents a valid event is archived first; when that fails,
// the error is returned and nothing else is done.
func (p *Processor) ProcessRaw(ctx context.Context, raw []byte) (Result, error) {
	if p.err != nil {
		return Result{}, p.err
	}
	ev, err := flapjack.ParseEvent(raw)
	if err == nil && p.opts.ArchiveEvents {
		list := ArchiveQueue(p.opts.Queue, p.opts.Clock.Now())
		if aerr := p.archiver.Archive(ctx, list, p.opts.EventsArchiveMaxAge, raw); aerr != nil {
			return Result{}, fmt.Errorf("archive event: %w", aerr)
		}
	}
	if err != nil {
		now := p.opts.Clock.Now()
		p.addStats(ctx, now, flapjack.Statistics{AllEvents: 1, InvalidEvents: 1})
		q := p.store.Queue(RejectedQueue(p.opts.Queue, now))
		if perr := q.Push(ctx, raw); perr != nil {
			p.log.Error("invalid event could not be kept", "err", perr)
		}
		p.log.Error("invalid event data received", "err", err)
		return Result{}, err
	}
	return p.Process(ctx, ev)
}

// RejectedQueue names the queue keeping invalid events received in now's UTC hour.
func RejectedQueue(queue string, now time.Time) string {
	return queue + "_rejected:" + now.UTC().Format("2006010215")
}

// Run takes events off the events queue, up to BatchSize at a time, and
// processes each batch as ProcessBatch does, until ctx ends or the store is
// closed. Invalid events are counted and set aside. When the store fails (an
// outage), Run logs it and tries what is left of the batch again after growing
// waits, so that no event is skipped or applied twice, and carries on by itself
// once the store is back. Events are acknowledged once handled; those taken but
// not handled when ctx ends are left unacknowledged: a durable store hands them
// out again.
func (p *Processor) Run(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	q := p.store.Queue(p.opts.Queue)
	var wait retry.Backoff
	raws := make([][]byte, 0, p.opts.BatchSize)
	for {
		items, stop, err := retry.Reserve(ctx, q, p.opts.BatchSize, &wait, p.log, "events")
		if stop {
			if err != nil {
				return fmt.Errorf("processor: %w", err)
			}
			return nil
		}
		raws = raws[:0]
		for _, it := range items {
			raws = append(raws, it.Payload)
		}
		b := p.newBatch(raws)
		for {
			err := b.attempt(ctx)
			if err == nil {
				wait.Reset()
				break
			}
			if ctx.Err() != nil || errors.Is(err, store.ErrClosed) {
				break
			}
			d := wait.Next()
			p.log.Error("events not processed; will retry", "err", err, "retry_in", d)
			if !retry.Sleep(ctx, d) {
				break
			}
		}
		b.finish(context.WithoutCancel(ctx))
		handled := items[:0]
		for i, it := range items {
			if b.done[i] {
				handled = append(handled, it)
			}
		}
		if len(handled) > 0 {
			if err := q.Ack(context.WithoutCancel(ctx), handled...); err != nil {
				p.log.Error("events not acknowledged", "err", err)
			}
		}
		if !b.finished() {
			return nil
		}
	}
}
