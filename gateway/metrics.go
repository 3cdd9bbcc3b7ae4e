package gateway

import (
	"sync/atomic"
	"time"
)

// latencyBounds are the upper bounds of the latency histogram's buckets: those
// of a Prometheus histogram by default, which suit calls to remote services.
var latencyBounds = [...]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// Metrics counts the deliveries of one transport. Every counter is updated
// atomically, so a program may call Snapshot at any time, from any goroutine,
// while alerts are delivered, for example to export the counts to Prometheus
// (each counter as a counter, Latency as a histogram). The zero value is ready to
// use.
type Metrics struct {
	sent, failed, retried, deadLettered atomic.Uint64
	// latency counts attempts per bucket (not cumulative); the last bucket
	// holds those slower than every bound.
	latency    [len(latencyBounds) + 1]atomic.Uint64
	latencySum atomic.Int64 // nanoseconds
}

// MetricsSnapshot is the state of a [Metrics] at one moment.
type MetricsSnapshot struct {
	// Sent counts alerts delivered.
	Sent uint64
	// Failed counts failed attempts: an alert retried twice and then delivered
	// adds 2.
	Failed uint64
	// Retried counts retries: attempts made after a failed one.
	Retried uint64
	// DeadLettered counts alerts moved to the dead-letter queue, unreadable
	// payloads included.
	DeadLettered uint64
	// Latency is the time each attempt's Send took, failed ones included.
	Latency Histogram
}

// Histogram is a latency distribution in the form of a Prometheus histogram.
type Histogram struct {
	// Buckets are cumulative and ascending: each counts the observations at
	// most its upper bound. Count is the implicit +Inf bucket.
	Buckets []Bucket
	// Count is the number of observations and Sum their total.
	Count uint64
	Sum   time.Duration
}

// Bucket is one cumulative bucket of a [Histogram].
type Bucket struct {
	UpperBound time.Duration
	Count      uint64
}

// Snapshot returns the current counts. Counters are read one by one, so a
// snapshot taken while alerts are delivered may be off by the attempts in flight.
func (m *Metrics) Snapshot() MetricsSnapshot {
	s := MetricsSnapshot{
		Sent:         m.sent.Load(),
		Failed:       m.failed.Load(),
		Retried:      m.retried.Load(),
		DeadLettered: m.deadLettered.Load(),
	}
	s.Latency.Buckets = make([]Bucket, len(latencyBounds))
	var total uint64
	for i, bound := range latencyBounds {
		total += m.latency[i].Load()
		s.Latency.Buckets[i] = Bucket{UpperBound: bound, Count: total}
	}
	s.Latency.Count = total + m.latency[len(latencyBounds)].Load()
	s.Latency.Sum = time.Duration(m.latencySum.Load())
	return s
}

// observe records the duration of one attempt.
func (m *Metrics) observe(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	m.latency[i].Add(1)
	m.latencySum.Add(int64(d))
}
