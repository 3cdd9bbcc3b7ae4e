// Package retry paces the loops that must outlive a store outage: each failure
// doubles the wait, up to a ceiling, with jitter so that many processes do not
// return to a recovering server at the same instant.
package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/x/flapjack/store"
)

// Backoff is an exponential back-off. The zero value waits 100 ms, then doubles
// up to 30 s.
type Backoff struct {
	// Min is the first wait. Default 100 ms.
	Min time.Duration
	// Max is the longest wait. Default 30 s.
	Max  time.Duration
	next time.Duration
}

// Next returns the wait before the next attempt: between half and all of the
// current step, which then doubles.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	if b.next < lo {
		b.next = lo
	}
	d := b.next
	b.next = min(b.next*2, hi)
	return d/2 + rand.N(d/2+1)
}

// Reset starts again from Min after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Sleep waits d, or until ctx ends; it reports whether the whole wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Reserve takes up to max items from q for a consumer that must outlive store
// outages: a failing store is logged and tried again after w's next wait. It
// returns stop when the consumer should end: with a nil error when ctx ended,
// with the store's error when the store is closed.
func Reserve(ctx context.Context, q store.Queue, max int, w *Backoff, log *slog.Logger, what string) (items []store.Item, stop bool, err error) {
	for {
		items, err := q.Reserve(ctx, max, true)
		switch {
		case ctx.Err() != nil:
			return nil, true, nil
		case errors.Is(err, store.ErrClosed):
			return nil, true, fmt.Errorf("take %s: %w", what, err)
		case err != nil:
			d := w.Next()
			log.Error("cannot take "+what+"; will retry", "err", err, "retry_in", d)
			if !Sleep(ctx, d) {
				return nil, true, nil
			}
			continue
		}
		w.Reset()
		return items, false, nil
	}
}
