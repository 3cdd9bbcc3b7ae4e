// Package retry paces the loops that must outlive a store outage: each failure
// doubles the wait, up to a ceiling, with jitter so that many processes do not
// return to a recovering server at the same instant.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
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
