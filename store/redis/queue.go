package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack/store"
)

// Queue implements store.Queues.
func (s *Store) Queue(name string) store.Queue {
	return &queue{s: s, name: name, key: s.k.queue(name), actions: s.k.actions(name), cq: s.consumerQueue(name)}
}

// queue is a handle on one queue; handles of the same name share their
// in-flight bookkeeping.
type queue struct {
	s       *Store
	name    string
	key     string
	actions string
	cq      *consumerQueue
}

var _ store.Queue = (*queue)(nil)

// pushCmds queues on p the commands pushing payloads onto queue, in order, with
// their wake tokens when Options.WakeTokens asks for them.
func (s *Store) pushCmds(ctx context.Context, p redis.Cmdable, queue string, payloads ...[]byte) {
	args := make([]any, len(payloads))
	for i, pl := range payloads {
		args[i] = pl
	}
	p.LPush(ctx, s.k.queue(queue), args...)
	if s.opts.WakeTokens {
		tokens := make([]any, len(payloads))
		for i := range tokens {
			tokens[i] = "+"
		}
		p.LPush(ctx, s.k.actions(queue), tokens...)
	}
}

// Push implements store.Queue.
func (q *queue) Push(ctx context.Context, payloads ...[]byte) error {
	if len(payloads) == 0 {
		return nil
	}
	_, err := q.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		q.s.pushCmds(ctx, p, q.name, payloads...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis store: push to %q: %w", q.name, err)
	}
	return nil
}

// Len implements store.Queue.
func (q *queue) Len(ctx context.Context) (int64, error) {
	n, err := q.s.rdb.LLen(ctx, q.key).Result()
	if err != nil {
		return 0, fmt.Errorf("redis store: length of %q: %w", q.name, err)
	}
	return n, nil
}

// Reserve implements store.Queue. Items are taken in batches by one script; when
// there are none and block is set, it waits with BLMOVE, which wakes as soon as
// any producer pushes onto the queue itself.
func (q *queue) Reserve(ctx context.Context, n int, block bool) ([]store.Item, error) {
	n = max(n, 1)
	for {
		if err := q.s.stopped(ctx); err != nil {
			return nil, err
		}
		items, l, err := q.take(ctx, n)
		if err != nil || len(items) > 0 || !block {
			return items, err
		}
		items, err = q.wait(ctx, n, l)
		if err != nil || len(items) > 0 {
			return items, err
		}
	}
}

// stopped returns ErrClosed once the store is closing, else ctx's error.
func (s *Store) stopped(ctx context.Context) error {
	if s.closing.Err() != nil {
		return ErrClosed
	}
	return ctx.Err()
}

// take reserves up to n items without waiting. It returns the in-flight list
// used, for a wait that follows.
func (q *queue) take(ctx context.Context, n int) ([]store.Item, *inflightList, error) {
	l := q.cq.begin(nil)
	res, err := reserveScript.Run(ctx, q.s.qdb,
		[]string{q.key, l.key, q.actions, q.s.k.consumerInflight(q.s.opts.ConsumerID), q.s.k.consumers()},
		n, q.s.opts.ConsumerID).StringSlice()
	q.cq.end(l, len(res), err)
	q.s.pushBackRetired(ctx, q.cq)
	if err != nil {
		return nil, l, fmt.Errorf("redis store: reserve from %q: %w", q.name, err)
	}
	return items(res, l.key), l, nil
}

func items(payloads []string, receipt string) []store.Item {
	out := make([]store.Item, len(payloads))
	for i, p := range payloads {
		out[i] = store.Item{Payload: []byte(p), Receipt: receipt}
	}
	return out
}

// wait blocks for up to BlockTimeout on the in-flight list l that the take
// before it registered, then takes whatever else is waiting, up to n in all. It
// returns no items and no error when the time ran out.
func (q *queue) wait(ctx context.Context, n int, l *inflightList) ([]store.Item, error) {
	s := q.s
	if !s.startTask() {
		return nil, ErrClosed
	}
	defer s.tasks.Done()
	w, reused, err := s.getWaiter(ctx, q.key)
	if err != nil {
		return nil, fmt.Errorf("redis store: wait on %q: %w", q.name, err)
	}

	// The wait ends early when ctx ends or the store closes: CLIENT UNBLOCK makes
	// BLMOVE return as if its time had run out. Unblocking is repeated until it
	// hits, since the wait may not have reached the server yet.
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopOnClose := context.AfterFunc(s.closing, cancel)
	defer stopOnClose()
	finished := make(chan struct{})
	interrupted := make(chan struct{})
	stopInterrupt := context.AfterFunc(waitCtx, func() {
		defer close(interrupted)
		for {
			uctx, ucancel := context.WithTimeout(context.Background(), time.Second)
			n, err := w.unblock.ClientUnblock(uctx, w.id).Result()
			ucancel()
			if n == 1 || err != nil {
				return // done, or not allowed (the wait then ends by its timeout)
			}
			select {
			case <-finished:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})

	l = q.cq.begin(l)
	v, err := w.conn.BLMove(context.WithoutCancel(ctx), q.key, l.key, "RIGHT", "LEFT", s.opts.BlockTimeout).Result()
	close(finished)
	if !stopInterrupt() {
		<-interrupted
	}
	if err == redis.Nil {
		q.cq.end(l, 0, nil)
		s.putWaiter(w)
		return nil, s.stopped(ctx)
	}
	if err != nil {
		q.cq.end(l, 0, err)
		w.conn.Close()
		if serr := s.stopped(ctx); serr != nil {
			return nil, serr
		}
		if reused && outcomeUnknown(err) {
			// Connections kept idle do not survive a server restart: drop them
			// all and let Reserve go round again on a fresh one.
			s.dropWaiters()
			return nil, nil
		}
		return nil, fmt.Errorf("redis store: wait on %q: %w", q.name, err)
	}
	s.putWaiter(w)
	if serr := s.stopped(ctx); serr != nil {
		// Nobody will handle the item: put it back where it was.
		pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		perr := putBackScript.Run(pctx, s.qdb, []string{l.key, q.key}, v).Err()
		pcancel()
		q.cq.end(l, 1, perr) // an error leaves it in flight: retire the list
		q.cq.acked(l.key, 1, perr)
		s.pushBackRetired(context.WithoutCancel(ctx), q.cq)
		return nil, serr
	}
	q.cq.end(l, 1, nil)
	out := items([]string{v}, l.key)
	if n > 1 {
		more, _, err := q.take(ctx, n-1)
		if err == nil {
			out = append(out, more...)
		} // else the next Reserve meets the error again
	}
	return out, nil
}

// Ack implements store.Queue: it removes the items from the in-flight lists
// their receipts name, in one round trip.
func (q *queue) Ack(ctx context.Context, items ...store.Item) error {
	if len(items) == 0 {
		return nil
	}
	counts := map[string]int{}
	_, err := q.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, it := range items {
			counts[it.Receipt]++
			p.LRem(ctx, it.Receipt, -1, it.Payload)
		}
		return nil
	})
	for key, n := range counts {
		q.cq.acked(key, n, err)
	}
	q.s.pushBackRetired(ctx, q.cq)
	if err != nil {
		return fmt.Errorf("redis store: acknowledge on %q: %w", q.name, err)
	}
	return nil
}

// consumerQueue keeps this store's in-flight lists of one queue.
//
// A reply that never arrived leaves the items it moved in the in-flight list
// with nobody to handle or acknowledge them. So after an error whose outcome is
// unknown the list is retired: later reservations go to a new one (the next
// generation), and once everything handed out from the retired list has been
// acknowledged and no call still uses it, whatever remains in it was lost in
// transit and is pushed back onto the queue.
type consumerQueue struct {
	name string
	s    *Store

	mu      sync.Mutex
	next    int
	current *inflightList
	lists   map[string]*inflightList // by key: the current one and retired ones
}

type inflightList struct {
	key         string
	active      int // calls using it
	outstanding int // items handed out and not acknowledged
	retired     bool
	pushing     bool // being pushed back
}

func (s *Store) consumerQueue(name string) *consumerQueue {
	s.queuesMu.Lock()
	defer s.queuesMu.Unlock()
	cq, ok := s.queues[name]
	if !ok {
		cq = &consumerQueue{name: name, s: s, lists: map[string]*inflightList{}}
		cq.newList()
		s.queues[name] = cq
	}
	return cq
}

// newList starts the next generation. The caller holds mu, or owns cq.
func (cq *consumerQueue) newList() {
	l := &inflightList{key: cq.s.k.inflight(cq.name, cq.s.opts.ConsumerID, cq.next)}
	cq.next++
	cq.current = l
	cq.lists[l.key] = l
}

// begin counts a call on l, or on the current list when l is nil.
func (cq *consumerQueue) begin(l *inflightList) *inflightList {
	cq.mu.Lock()
	defer cq.mu.Unlock()
	if l == nil {
		l = cq.current
	}
	l.active++
	return l
}

// end counts the end of a call on l that handed out n items.
func (cq *consumerQueue) end(l *inflightList, n int, err error) {
	cq.mu.Lock()
	defer cq.mu.Unlock()
	l.active--
	l.outstanding += n
	if outcomeUnknown(err) {
		cq.retire(l)
	}
}

// acked counts n items of the list key acknowledged. When the acknowledgement
// failed they may still be there, so the list is retired: they will be pushed
// back, and handled again, rather than lost.
func (cq *consumerQueue) acked(key string, n int, err error) {
	cq.mu.Lock()
	defer cq.mu.Unlock()
	l, ok := cq.lists[key]
	if !ok {
		return // another store's, or pushed back already
	}
	l.outstanding = max(l.outstanding-n, 0)
	if err != nil {
		cq.retire(l)
	}
}

func (cq *consumerQueue) retire(l *inflightList) {
	l.retired = true
	if l == cq.current {
		cq.newList()
	}
}

// idleRetired marks and returns the retired lists nobody uses any more.
func (cq *consumerQueue) idleRetired() []*inflightList {
	cq.mu.Lock()
	defer cq.mu.Unlock()
	var out []*inflightList
	for _, l := range cq.lists {
		if l.retired && !l.pushing && l.active == 0 && l.outstanding == 0 {
			l.pushing = true
			out = append(out, l)
		}
	}
	return out
}

// pushedBack ends the push-back of l: done, or to be tried again later.
func (cq *consumerQueue) pushedBack(l *inflightList, err error) {
	cq.mu.Lock()
	defer cq.mu.Unlock()
	l.pushing = false
	if err == nil {
		delete(cq.lists, l.key)
	}
}

// known reports whether key is one of this store's in-flight lists in use.
func (cq *consumerQueue) known(key string) bool {
	cq.mu.Lock()
	defer cq.mu.Unlock()
	_, ok := cq.lists[key]
	return ok
}

// pushBackRetired pushes back what is left in cq's idle retired lists.
func (s *Store) pushBackRetired(ctx context.Context, cq *consumerQueue) {
	for _, l := range cq.idleRetired() {
		_, err := s.requeue(ctx, l.key, s.k.queue(cq.name), s.opts.ConsumerID, -1)
		if err != nil {
			s.opts.Logger.Warn("redis store: reserved items not pushed back yet", "list", l.key, "err", err)
		}
		cq.pushedBack(l, err)
	}
}

// outcomeUnknown reports whether err leaves open whether the command ran: any
// failure other than the server's refusal.
func outcomeUnknown(err error) bool {
	if err == nil || err == redis.Nil {
		return false
	}
	var re redis.Error
	return !errors.As(err, &re)
}

// waiter is a connection of its own for blocking waits, with the id under which
// the server knows it, for CLIENT UNBLOCK.
type waiter struct {
	conn    *redis.Conn
	id      int64
	unblock *redis.Client // another connection to the same server
}

// maxIdleWaiters bounds the blocking connections kept between waits.
const maxIdleWaiters = 16

// getWaiter returns an idle blocking connection (reused), or opens one on the
// server that holds key.
func (s *Store) getWaiter(ctx context.Context, key string) (w *waiter, reused bool, err error) {
	s.waitersMu.Lock()
	if n := len(s.waiters); n > 0 {
		w := s.waiters[n-1]
		s.waiters = s.waiters[:n-1]
		s.waitersMu.Unlock()
		return w, true, nil
	}
	s.waitersMu.Unlock()
	node, err := nodeFor(ctx, s.wdb, key)
	if err != nil {
		return nil, false, err
	}
	unblock, err := nodeFor(ctx, s.rdb, key)
	if err != nil {
		return nil, false, err
	}
	conn := node.Conn()
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		conn.Close()
		return nil, false, err
	}
	return &waiter{conn: conn, id: id, unblock: unblock}, false, nil
}

// dropWaiters closes every idle blocking connection.
func (s *Store) dropWaiters() {
	s.waitersMu.Lock()
	defer s.waitersMu.Unlock()
	for _, w := range s.waiters {
		w.conn.Close()
	}
	s.waiters = nil
}

func (s *Store) putWaiter(w *waiter) {
	s.waitersMu.Lock()
	defer s.waitersMu.Unlock()
	if len(s.waiters) >= maxIdleWaiters || s.closing.Err() != nil {
		w.conn.Close()
		return
	}
	s.waiters = append(s.waiters, w)
}

// nodeFor returns the client of the server holding key: c itself for a single
// server or a Sentinel-managed master, the master of key's slot in a cluster.
func nodeFor(ctx context.Context, c redis.UniversalClient, key string) (*redis.Client, error) {
	switch c := c.(type) {
	case *redis.Client:
		return c, nil
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	}
	return nil, fmt.Errorf("unsupported client %T", c)
}

// requeue runs requeueScript on one in-flight list; see there.
func (s *Store) requeue(ctx context.Context, inflight, queue, consumer string, timeout time.Duration) (int64, error) {
	ms := int64(-1)
	if timeout >= 0 {
		ms = timeout.Milliseconds()
	}
	return requeueScript.Run(ctx, s.qdb,
		[]string{inflight, queue, s.k.consumerInflight(consumer), s.k.consumers()},
		consumer, ms).Int64()
}

// Recover pushes reserved, unacknowledged items back onto their queues, at the
// head of the line and in the order they were taken: those in this consumer's
// in-flight lists that this store did not hand out (left by an earlier process
// with the same ConsumerID), and those of every consumer whose heartbeat is
// older than ConsumerTimeout (killed, or cut off). New calls it; the heartbeat
// calls it again every third of ConsumerTimeout.
func (s *Store) Recover(ctx context.Context) error {
	var errs []error
	lists, err := s.rdb.HGetAll(ctx, s.k.consumerInflight(s.opts.ConsumerID)).Result()
	if err != nil {
		return fmt.Errorf("recover in-flight items: %w", err)
	}
	for inflight, queue := range lists {
		if s.ownsList(queue, inflight) {
			continue
		}
		n, err := s.requeue(ctx, inflight, queue, s.opts.ConsumerID, -1)
		if err != nil {
			errs = append(errs, fmt.Errorf("recover %s: %w", inflight, err))
		} else if n > 0 {
			s.opts.Logger.Info("redis store: reserved items pushed back", "list", inflight, "queue", queue, "items", n)
		}
	}

	dead, err := deadScript.Run(ctx, s.qdb, []string{s.k.consumers()}, s.opts.ConsumerTimeout.Milliseconds()).StringSlice()
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("find dead consumers: %w", err))...)
	}
	for _, id := range dead {
		if id == s.opts.ConsumerID {
			continue
		}
		if err := s.recoverConsumer(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ownsList reports whether inflight is a list of this store's, in use.
func (s *Store) ownsList(queueKey, inflight string) bool {
	s.queuesMu.Lock()
	cq, ok := s.queues[strings.TrimPrefix(queueKey, s.opts.Prefix)]
	s.queuesMu.Unlock()
	return ok && cq.known(inflight)
}

// recoverConsumer pushes back the in-flight items of a dead consumer and then
// forgets it, unless it turns out to be alive.
func (s *Store) recoverConsumer(ctx context.Context, id string) error {
	lists, err := s.rdb.HGetAll(ctx, s.k.consumerInflight(id)).Result()
	if err != nil {
		return fmt.Errorf("recover consumer %q: %w", id, err)
	}
	for inflight, queue := range lists {
		n, err := s.requeue(ctx, inflight, queue, id, s.opts.ConsumerTimeout)
		if err != nil {
			return fmt.Errorf("recover consumer %q: %s: %w", id, inflight, err)
		}
		if n < 0 {
			return nil // alive after all
		}
		if n > 0 {
			s.opts.Logger.Warn("redis store: items of a dead consumer pushed back", "consumer", id, "queue", queue, "items", n)
		}
	}
	err = forgetScript.Run(ctx, s.qdb, []string{s.k.consumers(), s.k.consumerInflight(id)},
		id, s.opts.ConsumerTimeout.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("forget consumer %q: %w", id, err)
	}
	return nil
}

func (s *Store) heartbeat(ctx context.Context) error {
	if err := heartbeatScript.Run(ctx, s.qdb, []string{s.k.consumers()}, s.opts.ConsumerID).Err(); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// heartbeatLoop keeps this consumer alive in the others' eyes, recovers the
// items of dead ones, and pushes back retired in-flight lists, until Close.
func (s *Store) heartbeatLoop() {
	defer s.tasks.Done()
	every := s.opts.ConsumerTimeout / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.closing.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.closing, every)
		if err := s.heartbeat(ctx); err != nil && s.closing.Err() == nil {
			s.opts.Logger.Warn("redis store: heartbeat failed", "consumer", s.opts.ConsumerID, "err", err)
		}
		if err := s.Recover(ctx); err != nil && s.closing.Err() == nil {
			s.opts.Logger.Warn("redis store: recovery of reserved items failed", "err", err)
		}
		s.queuesMu.Lock()
		cqs := make([]*consumerQueue, 0, len(s.queues))
		for _, cq := range s.queues {
			cqs = append(cqs, cq)
		}
		s.queuesMu.Unlock()
		for _, cq := range cqs {
			s.pushBackRetired(ctx, cq)
		}
		cancel()
	}
}
