package processor_test

// Tests of the processor on a real Redis server: producers as Flapjack's push,
// several processors at once, a processor killed in the middle of a batch, and
// Redis restarted in the middle of a stream. They are skipped where
// redis-server is not installed (and fail then in CI, see internal/redistest).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	redisstore "github.com/x/flapjack/store/redis"
)

// redisOptions are store options for srv that notice an unreachable server
// quickly.
func redisOptions(srv *redistest.Server, db int, consumer string) redisstore.Options {
	return redisstore.Options{
		Addrs:       []string{srv.Addr()},
		DB:          db,
		ConsumerID:  consumer,
		DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second,
	}
}

func newRedisStore(t *testing.T, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(t.Context(), opts)
	if err != nil {
		t.Fatalf("redis store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func redisClient(t *testing.T, srv *redistest.Server, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), DB: db, DialTimeout: time.Second, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// runProcessor runs p.Run until the test ends or the returned stop is called;
// stop reports Run's error.
func runProcessor(t *testing.T, p *processor.Processor) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("processor Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("processor Run did not stop within 20 s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitUntil polls cond until it holds, failing the test after timeout with
// what cond last said.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; %s", what, timeout, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// redisEvent is an event as flapjackfeeder writes it.
func redisEvent(check, state, summary string, initialFailureDelay, repeatFailureDelay int) string {
	entity, name, _ := strings.Cut(check, ":")
	return fmt.Sprintf(`{"entity":%q,"check":%q,"type":"service","state":%q,"summary":%q,"details":"","tags":[],"initial_failure_delay":%d,"repeat_failure_delay":%d,"initial_recovery_delay":0,"time":%d}`,
		entity, name, state, summary, initialFailureDelay, repeatFailureDelay, time.Now().Unix())
}

// pushV2 pushes events as Flapjack v2 producers do: each event with a wake
// token, in one MULTI. Events go in chunks, each one transaction.
func pushV2(ctx context.Context, c *redis.Client, queue string, events []string) error {
	const chunk = 500
	for len(events) > 0 {
		n := min(chunk, len(events))
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, e := range events[:n] {
				p.LPush(ctx, queue, e)
				p.LPush(ctx, queue+"_actions", "+")
			}
			return nil
		})
		if err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

func globalStatistics(t *testing.T, s *redisstore.Store) flapjack.Statistics {
	t.Helper()
	all, err := s.Statistics(t.Context())
	if err != nil {
		t.Fatalf("Statistics: %v", err)
	}
	for _, st := range all {
		if st.Instance == store.GlobalStatistic {
			return st.Statistics
		}
	}
	return flapjack.Statistics{}
}

// notificationsPerCheck reads the notifications queue without taking anything
// and counts them by check.
func notificationsPerCheck(t *testing.T, c *redis.Client) (map[string]int, int) {
	t.Helper()
	all, err := c.LRange(t.Context(), "notifications", 0, -1).Result()
	if err != nil {
		t.Fatalf("LRANGE notifications: %v", err)
	}
	out := map[string]int{}
	for _, raw := range all {
		var n flapjack.Notification
		if err := json.Unmarshal([]byte(raw), &n); err != nil {
			t.Fatalf("notification %s: %v", raw, err)
		}
		out[n.CheckName]++
	}
	return out, len(all)
}

// inflight counts the items reserved and not acknowledged on the events queue.
func inflight(t *testing.T, c *redis.Client) int64 {
	t.Helper()
	keys, err := c.Keys(t.Context(), "events:inflight:*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	var n int64
	for _, k := range keys {
		l, err := c.LLen(t.Context(), k).Result()
		if err != nil {
			t.Fatalf("LLEN %s: %v", k, err)
		}
		n += l
	}
	return n
}

// TestRedisProducers: events pushed as flapjackfeeder, oneoff and the Go client
// library push them (the event and a wake token in one MULTI) and as Flapjack
// v1 producers do (the event alone) reach a processor waiting on the queue at
// once. Its server-side wait is longer than the test's patience, so only the
// push can end it.
func TestRedisProducers(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := redisOptions(srv, 0, "producers-test")
	opts.BlockTimeout = time.Minute
	opts.ConsumerTimeout = 3 * time.Minute
	s := newRedisStore(t, opts)
	raw := redisClient(t, srv, 0)
	runProcessor(t, processor.New(s, processor.Options{Instance: "producers-test"}))
	ctx := t.Context()

	blocked := func() (bool, string) {
		clients, err := raw.ClientList(ctx).Result()
		return err == nil && strings.Contains(clients, "cmd=blmove"), "no client waits in BLMOVE"
	}
	for _, tc := range []struct {
		name string
		push func(event string) error
	}{
		{"Version2", func(e string) error { return pushV2(ctx, raw, "events", []string{e}) }},
		{"Version1", func(e string) error { return raw.LPush(ctx, "events", e).Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			waitUntil(t, 10*time.Second, "processor waiting on the queue", blocked)
			check := "web-1:" + tc.name
			start := time.Now()
			if err := tc.push(redisEvent(check, "CRITICAL", "down", 0, 0)); err != nil {
				t.Fatalf("push: %v", err)
			}
			got, err := raw.BRPop(ctx, 10*time.Second, "notifications").Result()
			if err != nil {
				t.Fatalf("no notification within 10 s of the push: %v", err)
			}
			t.Logf("notification %s after the push", time.Since(start).Round(time.Microsecond))
			if !strings.Contains(got[1], check) {
				t.Errorf("notification %s, want one about %s", got[1], check)
			}

			// oneoff's event: no delays given, so the default initial failure
			// delay holds the notification back; the check is recorded.
			waitUntil(t, 10*time.Second, "processor waiting on the queue", blocked)
			oneoff := fmt.Sprintf(`{"entity":"db-1","check":%q,"type":"service","state":"critical","summary":"oneoff","time":%d}`, tc.name, time.Now().Unix())
			if err := tc.push(oneoff); err != nil {
				t.Fatalf("push: %v", err)
			}
			waitUntil(t, 10*time.Second, "oneoff event recorded", func() (bool, string) {
				c, err := s.Check(ctx, "db-1:"+tc.name)
				return err == nil && c.Condition == flapjack.Critical, fmt.Sprintf("check %+v, %v", c, err)
			})
		})
	}
	waitUntil(t, 10*time.Second, "wake tokens trimmed", func() (bool, string) {
		n, err := raw.LLen(ctx, "events_actions").Result()
		return err == nil && n == 0, fmt.Sprintf("events_actions holds %d tokens (%v)", n, err)
	})
}

// concurrencyStream is the stream of TestRedisConcurrentProcessors: 1,000
// checks with six events each, interleaved in blocks of 20 checks so that
// batches taken at the same time by different processors update the same
// checks, and one hot check with an event in every block. A check's events are
// either all critical or all ok, and critical ones have no delays, so every
// critical event notifies whatever the order the processors apply them in.
func concurrencyStream() (events []string, critical, ok int) {
	const checks, rounds, block = 1000, 6, 20
	for b := 0; b < checks; b += block {
		for range rounds {
			for c := b; c < b+block; c++ {
				name := fmt.Sprintf("host-%03d:check", c)
				state := "critical"
				if c%4 == 3 {
					state = "ok"
				}
				events = append(events, redisEvent(name, state, name+" is "+state, 0, 0))
				if state == "ok" {
					ok++
				} else {
					critical++
				}
			}
			events = append(events, redisEvent("hot:check", "critical", "hot", 0, 0))
			critical++
		}
	}
	return events, critical, ok
}

// checkOutcome is what of a check must not depend on how many processors
// applied its events, nor in which order.
type checkOutcome struct {
	Condition           flapjack.Condition
	Failing, Enabled    bool
	Alertable           bool
	NotificationCount   int64
	MostSevere          flapjack.Condition
	Summary             string
	History, LatestSent []flapjack.Condition
}

func outcomes(t *testing.T, s *redisstore.Store) map[string]checkOutcome {
	t.Helper()
	checks, err := s.QueryChecks(t.Context(), store.CheckQuery{})
	if err != nil {
		t.Fatalf("QueryChecks: %v", err)
	}
	out := make(map[string]checkOutcome, len(checks))
	for _, c := range checks {
		o := checkOutcome{Condition: c.Condition, Failing: c.Failing, Enabled: c.Enabled, Alertable: c.Alertable,
			NotificationCount: c.NotificationCount, MostSevere: c.MostSevere}
		if c.CurrentState != nil {
			o.Summary = c.CurrentState.Summary
		}
		h, err := s.History(t.Context(), c.ID)
		if err != nil {
			t.Fatalf("History(%s): %v", c.Name, err)
		}
		for _, st := range h {
			o.History = append(o.History, st.Condition)
		}
		for _, st := range c.LatestNotifications {
			o.LatestSent = append(o.LatestSent, st.Condition)
		}
		out[c.Name] = o
	}
	return out
}

// TestRedisConcurrentProcessors runs one processor, then four processors with a
// store each, over the same stream on the same server: they must reach the same
// check states, and exactly the notifications and statistics the stream makes.
// No update may be lost, nor applied twice.
func TestRedisConcurrentProcessors(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	events, critical, ok := concurrencyStream()
	total := len(events)

	run := func(t *testing.T, db, processors int) (map[string]checkOutcome, *redisstore.Store) {
		raw := redisClient(t, srv, db)
		var stores []*redisstore.Store
		var stops []func()
		for i := range processors {
			s := newRedisStore(t, redisOptions(srv, db, fmt.Sprintf("processor-%d", i)))
			stores = append(stores, s)
			p := processor.New(s, processor.Options{Instance: fmt.Sprintf("instance-%d", i), BatchSize: 40})
			stops = append(stops, runProcessor(t, p))
		}
		start := time.Now()
		if err := pushV2(t.Context(), raw, "events", events); err != nil {
			t.Fatalf("push: %v", err)
		}
		s := stores[0]
		waitUntil(t, 40*time.Second, "every event processed", func() (bool, string) {
			st := globalStatistics(t, s)
			return st.AllEvents >= int64(total), fmt.Sprintf("%d of %d events counted", st.AllEvents, total)
		})
		t.Logf("%d processors: %d events in %s", processors, total, time.Since(start).Round(time.Millisecond))
		for _, stop := range stops {
			stop()
		}

		want := flapjack.Statistics{AllEvents: int64(total), OKEvents: int64(ok), FailureEvents: int64(critical)}
		if got := globalStatistics(t, s); got != want {
			t.Errorf("global statistics %+v, want %+v", got, want)
		}
		all, err := s.Statistics(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var sum flapjack.Statistics
		for _, st := range all {
			if st.Instance != store.GlobalStatistic {
				sum.Add(st.Statistics)
			}
		}
		if sum != want {
			t.Errorf("statistics of the %d instances add up to %+v, want %+v", processors, sum, want)
		}
		perCheck, n := notificationsPerCheck(t, raw)
		if n != critical {
			t.Errorf("%d notifications queued, want %d: one per critical event", n, critical)
		}
		got := outcomes(t, s)
		if len(got) != 1001 {
			t.Errorf("%d checks, want 1001", len(got))
		}
		for name, o := range got {
			want := int64(6)
			switch {
			case name == "hot:check":
				want = 300
			case o.Condition == flapjack.OK:
				want = 0
			}
			if o.NotificationCount != want || int64(perCheck[name]) != want {
				t.Errorf("%s: notification count %d, %d notifications queued; want %d", name, o.NotificationCount, perCheck[name], want)
			}
		}
		if left, _ := raw.LLen(t.Context(), "events").Result(); left != 0 || inflight(t, raw) != 0 {
			t.Errorf("%d events left on the queue, %d in flight", left, inflight(t, raw))
		}
		return got, s
	}

	var one map[string]checkOutcome
	t.Run("OneProcessor", func(t *testing.T) { one, _ = run(t, 0, 1) })
	t.Run("FourProcessors", func(t *testing.T) {
		four, _ := run(t, 1, 4)
		if one == nil {
			t.Skip("the single processor's run failed")
		}
		for name, want := range one {
			if got, ok := four[name]; !ok || !equalOutcome(got, want) {
				t.Errorf("%s with four processors: %+v; with one: %+v", name, got, want)
			}
		}
	})
}

func equalOutcome(a, b checkOutcome) bool {
	return a.Condition == b.Condition && a.Failing == b.Failing && a.Enabled == b.Enabled && a.Alertable == b.Alertable &&
		a.NotificationCount == b.NotificationCount && a.MostSevere == b.MostSevere && a.Summary == b.Summary &&
		slices.Equal(a.History, b.History) && slices.Equal(a.LatestSent, b.LatestSent)
}

// Crash test set-up: the child process runs a processor with this consumer id,
// and stops dead at its third batch, before or after writing its checks,
// telling the parent so on crashSignal.
const (
	crashChildEnv  = "FLAPJACK_TEST_CRASH_CHILD" // "before-write" or "after-write"
	crashAddrEnv   = "FLAPJACK_TEST_CRASH_REDIS"
	crashConsumer  = "crash-consumer"
	crashSignal    = "crash:signal"
	crashBatchSize = 50
	crashStuckAt   = 3
)

// stallingStore stops the processor dead at its crashStuckAt-th batch.
type stallingStore struct {
	*redisstore.Store
	mode    string
	batches int
	signal  *redis.Client
}

func (s *stallingStore) UpdateChecks(ctx context.Context, names []string, create bool, fn func(int, *store.CheckUpdate) error) []error {
	s.batches++
	if s.batches != crashStuckAt {
		return s.Store.UpdateChecks(ctx, names, create, fn)
	}
	var errs []error
	if s.mode == "after-write" {
		errs = s.Store.UpdateChecks(ctx, names, create, fn)
	}
	s.signal.LPush(ctx, crashSignal, s.mode)
	<-ctx.Done() // the parent kills the process meanwhile
	return errs
}

// TestRedisCrashChild is the processor that TestRedisCrash kills; it does
// nothing unless started by it.
func TestRedisCrashChild(t *testing.T) {
	mode := os.Getenv(crashChildEnv)
	if mode == "" {
		return
	}
	// Should the parent die first, stop anyway.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr := os.Getenv(crashAddrEnv)
	s, err := redisstore.New(ctx, redisstore.Options{Addrs: []string{addr}, ConsumerID: crashConsumer})
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	defer s.Close()
	signal := redis.NewClient(&redis.Options{Addr: addr})
	defer signal.Close()
	p := processor.New(&stallingStore{Store: s, mode: mode, signal: signal},
		processor.Options{Instance: "crash-child", BatchSize: crashBatchSize})
	p.Run(ctx)
}

// TestRedisCrash kills a processor process (SIGKILL) in the middle of a batch,
// twice — once after it wrote the checks of the batch and before it
// acknowledged its events, once before it wrote them — and then runs a
// processor with the same consumer id. Every event must be processed, and the
// events handled twice (written, not acknowledged) must not notify twice: each
// check has a repeat failure delay of an hour, so exactly one problem
// notification per check is right.
func TestRedisCrash(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	raw := redisClient(t, srv, 0)
	ctx := t.Context()
	const checks, rounds = 200, 10
	var events []string
	for r := range rounds {
		for c := range checks {
			events = append(events, redisEvent(fmt.Sprintf("crash-%03d:check", c), "critical", fmt.Sprintf("seq=%d", r), 0, 3600))
		}
	}
	if err := pushV2(ctx, raw, "events", events); err != nil {
		t.Fatalf("push: %v", err)
	}

	crash := func(mode string) {
		t.Helper()
		var out bytes.Buffer
		cmd := exec.Command(os.Args[0], "-test.run=^TestRedisCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+mode, crashAddrEnv+"="+srv.Addr())
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child: %v", err)
		}
		killed := false
		defer func() {
			if !killed {
				cmd.Process.Kill()
				cmd.Wait()
			}
		}()
		got, err := raw.BRPop(ctx, 30*time.Second, crashSignal).Result()
		if err != nil || got[1] != mode {
			t.Fatalf("child did not stop in its batch (%v, %v); its output:\n%s", got, err, out.String())
		}
		before, _ := raw.LLen(ctx, "notifications").Result()
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatalf("kill: %v", err)
		}
		cmd.Wait()
		killed = true
		n := inflight(t, raw)
		t.Logf("%s: killed with %d events in flight, %d notifications queued", mode, n, before)
		if n != crashBatchSize {
			t.Errorf("%s: %d events in flight after the kill, want the batch's %d", mode, n, crashBatchSize)
		}
	}
	crash("after-write")
	crash("before-write")

	s := newRedisStore(t, redisOptions(srv, 0, crashConsumer))
	runProcessor(t, processor.New(s, processor.Options{Instance: "crash-restarted", BatchSize: crashBatchSize}))
	waitUntil(t, 30*time.Second, "every event processed after the restart", func() (bool, string) {
		left, _ := raw.LLen(ctx, "events").Result()
		n := inflight(t, raw)
		return left == 0 && n == 0, fmt.Sprintf("%d events waiting, %d in flight", left, n)
	})

	// The killed batches' statistics were never added, so every event counts
	// exactly once.
	want := flapjack.Statistics{AllEvents: checks * rounds, FailureEvents: checks * rounds}
	if got := globalStatistics(t, s); got != want {
		t.Errorf("statistics %+v, want %+v", got, want)
	}
	perCheck, n := notificationsPerCheck(t, raw)
	if n != checks {
		t.Errorf("%d notifications, want %d: one problem per check", n, checks)
	}
	for name, o := range outcomes(t, s) {
		if o.NotificationCount != 1 || perCheck[name] != 1 {
			t.Errorf("%s: notification count %d, %d queued; want 1", name, o.NotificationCount, perCheck[name])
		}
		if want := fmt.Sprintf("seq=%d", rounds-1); o.Summary != want || o.Condition != flapjack.Critical {
			t.Errorf("%s: %s %q, want critical %q (its last event)", name, o.Condition, o.Summary, want)
		}
	}
}

// TestRedisRestart stops Redis (append-only file on) in the middle of a stream
// and starts it again: the processor carries on by itself, and every event
// pushed before and after — each for a check of its own — is processed. An
// event may be processed twice across the outage, but never notifies twice.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{AppendOnly: true})
	opts := redisOptions(srv, 0, "restart-test")
	opts.MaxRetries = -1
	s := newRedisStore(t, opts)
	raw := redisClient(t, srv, 0)
	ctx := t.Context()
	const total, first = 3000, 2000
	events := make([]string, total)
	for i := range events {
		events[i] = redisEvent(fmt.Sprintf("restart-%04d:check", i), "critical", "down", 0, 3600)
	}
	push := func(events []string) {
		t.Helper()
		// Pushes fail while the server is away; a producer tries again.
		waitUntil(t, 20*time.Second, "events pushed", func() (bool, string) {
			err := pushV2(ctx, raw, "events", events)
			return err == nil, fmt.Sprintf("push: %v", err)
		})
	}
	runProcessor(t, processor.New(s, processor.Options{Instance: "restart-test", BatchSize: 50}))

	push(events[:first])
	var counted int64
	waitUntil(t, 20*time.Second, "processing under way", func() (bool, string) {
		counted = globalStatistics(t, s).AllEvents
		return counted >= 100, fmt.Sprintf("%d events counted", counted)
	})
	srv.Stop()
	t.Logf("server stopped with about %d of the %d events pushed left to process", first-counted, first)
	if err := raw.LPush(ctx, "events", "lost?").Err(); err == nil {
		t.Fatalf("push with the server stopped succeeded")
	}
	srv.Restart()
	push(events[first:])

	waitUntil(t, 30*time.Second, "every event processed after the restart", func() (bool, string) {
		left, err := raw.LLen(ctx, "events").Result()
		if err != nil {
			return false, err.Error()
		}
		n := inflight(t, raw)
		st := globalStatistics(t, s)
		return left == 0 && n == 0 && st.AllEvents >= total, fmt.Sprintf("%d events waiting, %d in flight, %d counted", left, n, st.AllEvents)
	})
	st := globalStatistics(t, s)
	t.Logf("%d events, %d counted (processed twice across the outage: %d)", total, st.AllEvents, st.AllEvents-total)
	got := outcomes(t, s)
	if len(got) != total {
		t.Errorf("%d checks, want %d: one per event", len(got), total)
	}
	perCheck, n := notificationsPerCheck(t, raw)
	if n != total {
		t.Errorf("%d notifications, want %d", n, total)
	}
	for name, o := range got {
		if o.NotificationCount != 1 || perCheck[name] != 1 {
			t.Errorf("%s: notification count %d, %d queued; want 1", name, o.NotificationCount, perCheck[name])
		}
	}
}
