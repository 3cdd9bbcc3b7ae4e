package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
)

// ProcessBatch processes events as producers send them, taken off the queue
// together, as Run does: it parses them all, sets the invalid ones aside as
// ProcessRaw does, and updates the checks of the valid ones in one
// store.CheckBatcher call when the store has it (one UpdateCheck per check
// otherwise). The events of one check are applied in their order, one after the
// other, in that check's single atomic update; a check whose update fails does
// not fail the others. The statistics of the batch are added in one call.
//
// It returns one error per event: nil for an event processed, one wrapping
// ErrInvalidEvent for an invalid event (counted and set aside), and otherwise
// the error that kept the event from being recorded. Such an event may be given
// again: the events of one check fail together, so giving them again in their
// order keeps it.
func (p *Processor) ProcessBatch(ctx context.Context, raws [][]byte) []error {
	if p.err != nil {
		errs := make([]error, len(raws))
		for i := range errs {
			errs[i] = p.err
		}
		return errs
	}
	b := p.newBatch(raws)
	b.attempt(ctx)
	b.finish(ctx)
	return b.errs
}

// loopBatcher updates the checks of a batch one after the other, for stores
// without a store.CheckBatcher of their own.
type loopBatcher struct{ s Store }

func (l loopBatcher) UpdateChecks(ctx context.Context, names []string, create bool, fn func(int, *store.CheckUpdate) error) []error {
	var errs []error
	for i, name := range names {
		_, err := l.s.UpdateCheck(ctx, name, create, func(u *store.CheckUpdate) error { return fn(i, u) })
		if err != nil {
			if errs == nil {
				errs = make([]error, len(names))
			}
			errs[i] = err
		}
	}
	return errs
}

// batch is the processing of events taken off the queue together. Run makes
// attempts until every event is handled, so that a store outage delays the batch
// without losing or repeating what was already done.
type batch struct {
	p   *Processor
	now time.Time // when the batch was taken: names the hourly lists, dates statistics
	// Per event, indexed like raws.
	raws   [][]byte
	events []flapjack.Event
	counts []int64 // the processor's event count, for the notification
	errs   []error
	done   []bool // processed, or set aside

	invalid  []int // indices of the invalid events
	valid    [][]byte
	archived bool
	rejected bool // the invalid events were set aside

	pending []*group // checks not written yet
	current []*group // the checks of the UpdateChecks call in progress
	names   []string
	stats   flapjack.Statistics // of the events handled, not yet added
	arena   []byte              // notification payloads
	debug   bool
	// decisions are the decision log's records of the checks written, not yet
	// added to the log.
	decisions []flapjack.DecisionRecord
}

// group is one check's events in a batch.
type group struct {
	name   string
	events []int // indices in the batch, in order
	// What the last callback decided.
	stats  flapjack.Statistics
	msgs   []store.Message
	traces []eventTrace // when debugging
	// decisions are the decision log's records of the last callback.
	decisions []flapjack.DecisionRecord
}

type eventTrace struct {
	state, blockedBy string
	notified         bool
	trace            flapjack.Trace
}

// callbackError marks an error of the processor's own callback: the check is
// skipped, not retried.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }
func (e *callbackError) Unwrap() error { return e.err }

func (p *Processor) newBatch(raws [][]byte) *batch {
	n := len(raws)
	b := &batch{
		p:      p,
		now:    p.opts.Clock.Now(),
		raws:   raws,
		events: make([]flapjack.Event, n),
		counts: make([]int64, n),
		errs:   make([]error, n),
		done:   make([]bool, n),
		debug:  p.log.Enabled(context.Background(), slog.LevelDebug),
	}
	byName := make(map[string]*group, n)
	valid := 0
	for i, raw := range raws {
		ev, err := flapjack.ParseEvent(raw)
		if err != nil {
			b.errs[i] = err
			b.invalid = append(b.invalid, i)
			continue
		}
		valid++
		b.events[i] = ev
		name := ev.CheckName()
		g, ok := byName[name]
		if !ok {
			g = &group{name: name}
			byName[name] = g
			b.pending = append(b.pending, g)
		}
		g.events = append(g.events, i)
	}
	if p.opts.ArchiveEvents {
		b.valid = make([][]byte, 0, valid)
		for i, raw := range raws {
			if b.errs[i] == nil {
				b.valid = append(b.valid, raw)
			}
		}
	}
	first := p.count.Add(int64(valid)) - int64(valid)
	for i := range raws {
		if b.errs[i] == nil {
			first++
			b.counts[i] = first
		}
	}
	return b
}

// finished reports whether every event is handled.
func (b *batch) finished() bool { return b.rejected && len(b.pending) == 0 }

// attempt does what is left of the batch: it archives the valid events, sets
// the invalid ones aside and writes the checks not written yet. It returns the
// store's error when some events could not be handled; another attempt then
// takes up the rest.
func (b *batch) attempt(ctx context.Context) error {
	p := b.p
	if p.opts.ArchiveEvents && !b.archived && len(b.valid) > 0 {
		if err := p.archiver.Archive(ctx, ArchiveQueue(p.opts.Queue, b.now), p.opts.EventsArchiveMaxAge, b.valid...); err != nil {
			err = fmt.Errorf("archive events: %w", err)
			for i := range b.errs {
				if !b.done[i] && b.errs[i] == nil {
					b.errs[i] = err
				}
			}
			return err
		}
	}
	b.archived = true
	if !b.rejected {
		b.reject(ctx)
	}
	if len(b.pending) == 0 {
		return nil
	}

	b.current, b.pending = b.pending, nil
	b.names = b.names[:0]
	for _, g := range b.current {
		b.names = append(b.names, g.name)
	}
	errs := p.batcher.UpdateChecks(ctx, b.names, true, b.update)
	var storeErr error
	for j, g := range b.current {
		var err error
		if errs != nil {
			err = errs[j]
		}
		var cbErr *callbackError
		switch {
		case err == nil:
			b.stats.Add(g.stats)
			for _, i := range g.events {
				b.errs[i], b.done[i] = nil, true
			}
			b.decisions = append(b.decisions, g.decisions...)
			if b.debug {
				b.logDecisions(ctx, g)
			}
		case errors.As(err, &cbErr):
			err = fmt.Errorf("process events for %q: %w", g.name, cbErr.err)
			p.log.Error("events not processed", "check", g.name, "events", len(g.events), "err", err)
			for _, i := range g.events {
				b.errs[i], b.done[i] = err, true
			}
		default:
			err = fmt.Errorf("process events for %q: %w", g.name, err)
			for _, i := range g.events {
				b.errs[i] = err
			}
			b.pending = append(b.pending, g)
			if storeErr == nil {
				storeErr = err
			}
		}
	}
	b.current = nil
	return storeErr
}

// reject sets the invalid events aside on the hour's rejected queue and counts
// them. Keeping them is best effort, as in ProcessRaw: they are never retried.
func (b *batch) reject(ctx context.Context) {
	b.rejected = true
	if len(b.invalid) == 0 {
		return
	}
	p := b.p
	payloads := make([][]byte, len(b.invalid))
	for k, i := range b.invalid {
		payloads[k] = b.raws[i]
		b.done[i] = true
		p.log.Error("invalid event data received", "err", b.errs[i])
	}
	b.stats.AllEvents += int64(len(b.invalid))
	b.stats.InvalidEvents += int64(len(b.invalid))
	if err := p.store.Queue(RejectedQueue(p.opts.Queue, b.now)).Push(ctx, payloads...); err != nil {
		p.log.Error("invalid events could not be kept", "events", len(payloads), "err", err)
	}
}

// update is the UpdateChecks callback: it applies, in order, every event of the
// batch for check i to its record. It may run more than once.
func (b *batch) update(i int, u *store.CheckUpdate) error {
	p, g := b.p, b.current[i]
	g.stats = flapjack.Statistics{}
	g.msgs = g.msgs[:0]
	g.decisions = g.decisions[:0]
	if b.debug {
		g.traces = g.traces[:0]
	}
	for k, ei := range g.events {
		ev := &b.events[ei]
		prev := u.Check.Condition
		// The time of each event's decision, read after the check: a decision
		// never predates the one it follows.
		now := p.opts.Clock.Now()
		dec := Decide(Input{
			Check: &u.Check, Created: u.Created && k == 0, Event: ev, Now: now,
			Settings: p.opts.Settings, Filters: p.opts.Filters, NewID: uuid.NewString,
		})
		if len(u.History) == 0 {
			u.History = dec.History
		} else {
			u.History = append(u.History, dec.History...)
		}
		g.stats.Add(dec.Stats)
		if n := dec.Notification; n != nil {
			n.EventCount = b.counts[ei]
			payload, err := b.appendNotification(n)
			if err != nil {
				return &callbackError{fmt.Errorf("encode notification: %w", err)}
			}
			g.msgs = append(g.msgs, store.Message{Queue: p.opts.NotifierQueue, Payload: payload})
		}
		if p.decisions != nil {
			if r, ok := decisionOf(&u.Check, ev, prev, &dec, now); ok {
				g.decisions = append(g.decisions, r)
			}
		}
		if b.debug {
			g.traces = append(g.traces, eventTrace{state: ev.State, blockedBy: dec.BlockedBy, notified: dec.Notification != nil, trace: dec.Trace})
		}
	}
	u.Enqueue = g.msgs // the store copies what it enqueues
	return nil
}

// appendNotification encodes n into the batch's arena, which the payloads of
// the batch share: a few allocations per batch rather than several per event.
func (b *batch) appendNotification(n *flapjack.Notification) ([]byte, error) {
	const chunk = 64 << 10
	if cap(b.arena)-len(b.arena) < 4<<10 {
		b.arena = make([]byte, 0, chunk)
	}
	start := len(b.arena)
	// Should the payload not fit, append moves the arena: the payloads taken
	// from it before keep the old array.
	out, err := n.AppendJSON(b.arena)
	if err != nil {
		return nil, err
	}
	b.arena = out
	return out[start:len(out):len(out)], nil
}

func (b *batch) logDecisions(ctx context.Context, g *group) {
	for _, tr := range g.traces {
		b.p.log.LogAttrs(ctx, slog.LevelDebug, "event processed",
			slog.String("check", g.name), slog.String("state", tr.state),
			slog.String("blocked_by", tr.blockedBy), slog.Bool("notified", tr.notified),
			slog.String("trace", tr.trace.String()))
	}
}

// finish adds the statistics of the events handled, in one call, and their
// decisions to the decision log, in another.
func (b *batch) finish(ctx context.Context) {
	if b.stats != (flapjack.Statistics{}) {
		b.p.addStats(ctx, b.now, b.stats)
		b.stats = flapjack.Statistics{}
	}
	b.p.recordDecisions(ctx, b.decisions)
	b.decisions = nil
}

// ArchiveQueue names the list archiving the events of queue taken in now's UTC
// hour, when Options.ArchiveEvents is set: "<queue>_archive:YYYYMMDDHH".
func ArchiveQueue(queue string, now time.Time) string {
	return queue + "_archive:" + now.UTC().Format("2006010215")
}
