package memory

import (
	"context"
	"sync"
	"time"

	"github.com/x/flapjack/store"
)

// ErrClosed is returned by a queue of a closed store; it is store.ErrClosed.
var ErrClosed = store.ErrClosed

// Queue implements store.Queues.
func (s *Store) Queue(name string) store.Queue { return s.queue(name) }

func (s *Store) queue(name string) *queue {
	s.queuesMu.Lock()
	defer s.queuesMu.Unlock()
	q, ok := s.queues[name]
	if !ok {
		q = &queue{wake: make(chan struct{}), closed: s.closed}
		s.queues[name] = q
	}
	return q
}

// Archive implements store.Archiver. The list expires maxAge after the last call
// for it by wall-clock time; expired lists are dropped by the next call of Archive,
// for any list.
func (s *Store) Archive(ctx context.Context, list string, maxAge time.Duration, payloads ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	s.queuesMu.Lock()
	if s.closed {
		s.queuesMu.Unlock()
		return ErrClosed
	}
	for name, at := range s.expires {
		if !now.Before(at) {
			delete(s.expires, name)
			delete(s.queues, name)
		}
	}
	s.expires[list] = now.Add(maxAge)
	s.queuesMu.Unlock()
	q := s.queue(list)
	q.push(payloads...)
	return nil
}

// queue is an unbounded FIFO. A consumer waiting in Reserve sleeps on wake, a channel
// closed and replaced when items arrive while someone waits on it.
type queue struct {
	mu    sync.Mutex
	items [][]byte
	head  int
	wake  chan struct{}
	// waited is set when a consumer took wake to sleep on it. Only then does a
	// push close and replace it: a busy queue that nobody waits on then costs
	// no channel per push.
	waited bool
	closed bool
}

var _ store.Queue = (*queue)(nil)

func (q *queue) push(payloads ...[]byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range payloads {
		q.items = append(q.items, append([]byte(nil), p...))
	}
	if q.waited {
		close(q.wake)
		q.wake, q.waited = make(chan struct{}), false
	}
}

func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.wake)
		q.waited = false // no push may close wake again; Reserve no longer sleeps
	}
}

// Push implements store.Queue.
func (q *queue) Push(ctx context.Context, payloads ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return ErrClosed
	}
	q.push(payloads...)
	return nil
}

// Reserve implements store.Queue.
func (q *queue) Reserve(ctx context.Context, max int, block bool) ([]store.Item, error) {
	if max <= 0 {
		max = 1
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		if n := len(q.items) - q.head; n > 0 {
			n = min(n, max)
			out := make([]store.Item, n)
			for i := range out {
				out[i] = store.Item{Payload: q.items[q.head+i]}
				q.items[q.head+i] = nil
			}
			q.head += n
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			} else if q.head > 1024 && q.head*2 > len(q.items) {
				q.items = append(q.items[:0], q.items[q.head:]...)
				q.head = 0
			}
			q.mu.Unlock()
			return out, nil
		}
		if q.closed {
			q.mu.Unlock()
			return nil, ErrClosed
		}
		if !block {
			q.mu.Unlock()
			return nil, nil
		}
		wake := q.wake
		q.waited = true
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		}
	}
}

// Ack implements store.Queue. In memory an item is gone once reserved, so there is
// nothing to do: a crash loses the whole process's state anyway.
func (q *queue) Ack(ctx context.Context, items ...store.Item) error { return nil }

// Len implements store.Queue.
func (q *queue) Len(ctx context.Context) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.items) - q.head), nil
}
