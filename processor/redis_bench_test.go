package processor_test

// Throughput of the processor on a real Redis server, started by the benchmark
// on this machine (so the figures include Redis' own work). docs/benchmarks.md
// gives the command and the figures.

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/processor"
	redisstore "github.com/x/flapjack/store/redis"
)

// redisBenchBatch is the batch size of the Redis benchmarks (Options.BatchSize).
const redisBenchBatch = 500

// BenchmarkRedis measures events per second through Redis: the queue holds b.N
// events when the processors start, and the clock stops when the statistics
// have counted them all. One op is one event.
//
//   - SteadyOK: ok heartbeats for checks already ok, round robin over 10,000
//     checks: a check read and written per event, no notification.
//   - Alerting: critical results for failing checks with no delays, so that every
//     event also writes a problem notification onto the notifications queue,
//     and a record to the check's decision log.
//   - AlertingNoDecisionLog: the same with the decision log off.
func BenchmarkRedis(b *testing.B) {
	for _, kind := range []string{"SteadyOK", "Alerting", "AlertingNoDecisionLog"} {
		for _, processors := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/processors=%d", kind, processors), func(b *testing.B) {
				benchRedis(b, kind != "SteadyOK", kind == "AlertingNoDecisionLog", processors)
			})
		}
	}
}

// benchEvent is the event i of a benchmark stream, for check i % benchChecks.
func benchEvent(i int, alerting bool) []byte {
	c := i % benchChecks
	if alerting {
		return []byte(`{"entity":"` + benchEntity(c) + `","check":"HTTP","type":"service","state":"critical","summary":"HTTP CRITICAL: connection refused",` +
			`"initial_failure_delay":0,"repeat_failure_delay":0,"time":1359720000}`)
	}
	return []byte(`{"entity":"` + benchEntity(c) + `","check":"HTTP","type":"service","state":"ok","summary":"` + benchOKSummary(i) + `","time":1359720000}`)
}

func benchRedis(b *testing.B, alerting, noDecisionLog bool, processors int) {
	srv := redistest.Start(b, redistest.Config{})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer raw.Close()
	ctx := context.Background()
	pushAll := func(n int, event func(i int) []byte) {
		const chunk = 1000
		for start := 0; start < n; start += chunk {
			_, err := raw.Pipelined(ctx, func(p redis.Pipeliner) error {
				args := make([]any, 0, chunk)
				for i := start; i < min(start+chunk, n); i++ {
					args = append(args, event(i))
				}
				p.LPush(ctx, "events", args...)
				return nil
			})
			if err != nil {
				b.Fatalf("push: %v", err)
			}
		}
	}
	// Every check exists, in the state the stream keeps it in.
	pushAll(benchChecks, func(i int) []byte { return benchEvent(i, alerting) })
	counted := func() int64 {
		n, _ := raw.HGet(ctx, "statistic:global", "all_events").Int64()
		return n
	}
	run := func(n int64) time.Duration {
		b.Helper()
		before := counted()
		pctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var stores []*redisstore.Store
		for i := range processors {
			s, err := redisstore.New(ctx, redisstore.Options{Addrs: []string{srv.Addr()}, ConsumerID: "bench-" + strconv.Itoa(i)})
			if err != nil {
				b.Fatal(err)
			}
			stores = append(stores, s)
		}
		start := time.Now()
		for i, s := range stores {
			p := processor.New(s, processor.Options{Instance: "bench-" + strconv.Itoa(i), BatchSize: redisBenchBatch,
				NoDecisionLog: noDecisionLog})
			wg.Go(func() { p.Run(pctx) })
		}
		for counted()-before < n {
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		cancel()
		wg.Wait()
		for _, s := range stores {
			s.Close()
		}
		return elapsed
	}
	run(benchChecks)
	if err := raw.Del(ctx, "notifications").Err(); err != nil {
		b.Fatal(err)
	}

	pushAll(b.N, func(i int) []byte { return benchEvent(i, alerting) })
	b.ResetTimer()
	elapsed := run(int64(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	if alerting {
		if n, _ := raw.LLen(ctx, "notifications").Result(); n != int64(b.N) {
			b.Errorf("%d notifications for %d events, want one each", n, b.N)
		}
	}
}
