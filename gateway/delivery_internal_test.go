package gateway

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store/memory"
)

// TestBackoffJitter checks the spread of the back-off: full jitter draws
// uniformly from zero to the ceiling, so many draws come near both ends and
// average half the ceiling.
func TestBackoffJitter(t *testing.T) {
	st := memory.New()
	defer st.Close()
	d := NewDelivery(st, "t", "q", nopGateway{}, DeliveryOptions{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	for _, tc := range []struct {
		attempt int
		ceiling time.Duration
	}{{1, 100 * time.Millisecond}, {3, 400 * time.Millisecond}, {5, time.Second}, {60, time.Second}} {
		const n = 4000
		lo, hi, sum := tc.ceiling, time.Duration(0), time.Duration(0)
		for range n {
			w := d.backoff(tc.attempt, nil)
			if w < 0 || w > tc.ceiling {
				t.Fatalf("attempt %d: wait %s outside [0, %s]", tc.attempt, w, tc.ceiling)
			}
			lo, hi, sum = min(lo, w), max(hi, w), sum+w
		}
		mean := sum / n
		if lo > tc.ceiling/10 || hi < tc.ceiling*9/10 || mean < tc.ceiling*4/10 || mean > tc.ceiling*6/10 {
			t.Errorf("attempt %d: waits from %s to %s, mean %s; want full jitter under %s", tc.attempt, lo, hi, mean, tc.ceiling)
		}
	}
}

type nopGateway struct{}

func (nopGateway) Send(ctx context.Context, a *flapjack.Alert) error { return nil }

func TestLimiterPrunesFullBuckets(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	l := newLimiter(1, 1, RatePerAddress)
	for i := range minPrune {
		if d, _ := l.reserve(fmt.Sprint("early-", i), t0); d != 0 {
			t.Fatalf("first attempt to a new address waits %s", d)
		}
	}
	if n := l.buckets(); n != minPrune {
		t.Fatalf("%d buckets, want %d", n, minPrune)
	}
	// Still empty a moment later: nothing may be forgotten.
	l.reserve("new-1", t0.Add(time.Millisecond))
	if n := l.buckets(); n != minPrune+1 {
		t.Errorf("%d buckets after a prune that could drop none, want %d", n, minPrune+1)
	}
	// A second on, every old bucket is full again: forgetting them loses
	// nothing, and the next prune (once the map has doubled) drops them.
	for i := range minPrune {
		l.reserve(fmt.Sprint("later-", i), t0.Add(time.Second))
	}
	if n := l.buckets(); n > minPrune+1 {
		t.Errorf("%d buckets after pruning full ones, want at most %d", n, minPrune+1)
	}
	// A bucket still in use keeps its state.
	if d, _ := l.reserve("later-0", t0.Add(time.Second)); d != time.Second {
		t.Errorf("second attempt to the same address within its second waits %s, want 1s", d)
	}
}

func TestMetricsObserve(t *testing.T) {
	var m Metrics
	for _, d := range []time.Duration{0, 5 * time.Millisecond, 6 * time.Millisecond, time.Minute, -time.Second} {
		m.observe(d)
	}
	h := m.Snapshot().Latency
	if h.Count != 5 || h.Sum != time.Minute+11*time.Millisecond {
		t.Errorf("count %d sum %s", h.Count, h.Sum)
	}
	want := map[time.Duration]uint64{5 * time.Millisecond: 3, 10 * time.Millisecond: 4, 10 * time.Second: 4}
	for _, b := range h.Buckets {
		if w, ok := want[b.UpperBound]; ok && b.Count != w {
			t.Errorf("bucket ≤%s = %d, want %d", b.UpperBound, b.Count, w)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{}, 0},
		{http.Header{"Retry-After": {"30"}}, 30 * time.Second},
		{http.Header{"Retry-After": {" 2 "}}, 2 * time.Second},
		{http.Header{"Retry-After": {"0"}}, 0},
		{http.Header{"Retry-After": {"-5"}}, 0},
		{http.Header{"Retry-After": {"99999999999"}}, 24 * time.Hour},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"Fri, 01 Mar 2024 12:01:00 GMT"}}, time.Minute},
		{http.Header{"Retry-After": {"Fri, 01 Mar 2024 12:01:00 GMT"}, "Date": {"Fri, 01 Mar 2024 12:00:50 GMT"}}, 10 * time.Second},
		{http.Header{"Retry-After": {"Fri, 01 Mar 2024 11:00:00 GMT"}}, 0},
	} {
		if got := retryAfter(tc.header, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %s, want %s", tc.header, got, tc.want)
		}
	}
}
