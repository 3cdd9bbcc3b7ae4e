// Command flapjack-load measures the processor on Redis: it pushes critical
// events with no delays — each one a problem notification — onto the events
// queue as Flapjack v2 producers do (the event and a "+" wake token in one
// MULTI), and takes the notifications off the notifications queue as they
// appear, timing each from the push of its event.
//
//	flapjack-load -redis redis://127.0.0.1:6379/0 -flush -events 200000 -rate 0 -processors 1
//
// With -rate 0 it pushes as fast as it can and reports the throughput: the
// events processed per second from the first push to the last notification.
// With a rate it pushes that many events per second, evenly, and the latency
// figures are the ones to read: a processor that keeps up shows the time an
// event takes through the queue, the processor and Redis.
//
// -processors N starts N processor processes (this program, re-run as one)
// with BatchSize -batch, each with a store and a consumer id of its own, and
// stops them at the end; -processors 0 measures processors already running
// against the server. Before measuring, it sends one event per check and waits
// for their notifications, so that every check exists and fails.
//
// It writes to the database it is given; -flush empties it first (FLUSHDB),
// which is needed for exact counts. Never point it at a production database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
	redisstore "github.com/x/flapjack/store/redis"
)

type config struct {
	url           string
	events        int
	rate          int
	checks        int
	processors    int
	batch         int
	queue         string
	notifications string
	flush         bool
	timeout       time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.url, "redis", "redis://127.0.0.1:6379/0", "Redis URL (see store/redis ParseURL)")
	flag.IntVar(&c.events, "events", 100_000, "events to send")
	flag.IntVar(&c.rate, "rate", 0, "events per second; 0 sends as fast as possible and measures throughput")
	flag.IntVar(&c.checks, "checks", 10_000, "distinct checks the events go to, round robin")
	flag.IntVar(&c.processors, "processors", 1, "processor processes to start; 0 uses processors already running")
	flag.IntVar(&c.batch, "batch", 500, "batch size of the processors started")
	flag.StringVar(&c.queue, "queue", "events", "events queue")
	flag.StringVar(&c.notifications, "notifications", "notifications", "notifications queue")
	flag.BoolVar(&c.flush, "flush", false, "empty the database first (FLUSHDB)")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "give up after this long")
	child := flag.String("run-processor", "", "internal: run as processor process with this consumer id")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *child != "" {
		err = runProcessor(ctx, c, *child)
	} else {
		err = run(ctx, c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "flapjack-load:", err)
		os.Exit(1)
	}
}

// runProcessor is a processor process: it runs until it is signalled.
func runProcessor(ctx context.Context, c config, consumer string) error {
	opts, err := redisstore.ParseURL(c.url)
	if err != nil {
		return err
	}
	opts.ConsumerID = consumer
	s, err := redisstore.New(ctx, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	p := processor.New(s, processor.Options{
		Queue: c.queue, NotifierQueue: c.notifications, BatchSize: c.batch, Instance: consumer,
	})
	return p.Run(ctx)
}

func run(ctx context.Context, c config) error {
	if c.events <= 0 || c.checks <= 0 || c.processors < 0 || c.batch <= 0 || c.rate < 0 {
		return errors.New("-events, -checks and -batch must be positive, -processors and -rate not negative")
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	opts, err := redis.ParseURL(c.url)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if c.flush {
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			return fmt.Errorf("FLUSHDB: %w", err)
		}
	} else if n, err := rdb.LLen(ctx, c.notifications).Result(); err != nil || n > 0 {
		return fmt.Errorf("%s holds %d notifications (%v): start from an empty one (-flush)", c.notifications, n, err)
	}

	stopProcessors, pids, err := startProcessors(c)
	if err != nil {
		return err
	}
	defer stopProcessors()

	// Warm up: every check exists and fails.
	fmt.Printf("warming up: one event for each of %d checks\n", c.checks)
	if _, err := measure(ctx, rdb, c, c.checks, 0); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	what := "as fast as possible"
	if c.rate > 0 {
		what = fmt.Sprintf("at %d events/s", c.rate)
	}
	fmt.Printf("sending %d events %s to %d checks, %d processor(s) started, batch size %d\n",
		c.events, what, c.checks, c.processors, c.batch)
	redisBefore, procBefore := redisCPU(ctx, rdb), processCPU(pids)
	r, err := measure(ctx, rdb, c, c.events, c.rate)
	if err != nil {
		return err
	}
	r.redisCPU, r.processorCPU = redisCPU(ctx, rdb)-redisBefore, processCPU(pids)-procBefore
	r.print(c)
	return nil
}

// redisCPU is the CPU time the server has used, or 0 if it does not say.
func redisCPU(ctx context.Context, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// processCPU is the CPU time the processes have used, from /proc (Linux), or 0.
func processCPU(pids []int) time.Duration {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// The fields after the command name, which is in parentheses.
		i := strings.LastIndexByte(string(b), ')')
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 13 {
			return 0
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		total += time.Duration(utime+stime) * tick
	}
	return total
}

// startProcessors starts the processor processes and returns what stops them,
// and their process ids.
func startProcessors(c config) (stop func(), pids []int, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	var cmds []*exec.Cmd
	stop = func() {
		for _, cmd := range cmds {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, cmd := range cmds {
			cmd.Wait()
		}
	}
	for i := range c.processors {
		cmd := exec.Command(self, "-redis", c.url, "-queue", c.queue, "-notifications", c.notifications,
			"-batch", strconv.Itoa(c.batch), "-run-processor", fmt.Sprintf("load-processor-%d", i))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			stop()
			return nil, nil, fmt.Errorf("start processor: %w", err)
		}
		cmds = append(cmds, cmd)
		pids = append(pids, cmd.Process.Pid)
	}
	return stop, pids, nil
}

type result struct {
	events    int
	elapsed   time.Duration // first push to last notification
	latencies []time.Duration
	// CPU time used meanwhile by the server and the processors started.
	redisCPU, processorCPU time.Duration
}

func (r *result) print(c config) {
	slices.Sort(r.latencies)
	q := func(p float64) time.Duration {
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	fmt.Printf("%d events in %s: %.0f events/s\n", r.events, r.elapsed.Round(time.Millisecond), float64(r.events)/r.elapsed.Seconds())
	fmt.Printf("latency from LPUSH to notification: p50 %s, p90 %s, p99 %s, max %s\n",
		ms(q(0.50)), ms(q(0.90)), ms(q(0.99)), ms(r.latencies[len(r.latencies)-1]))
	perEvent := func(d time.Duration) string {
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond)/float64(r.events))
	}
	if c.processors > 0 {
		fmt.Printf("CPU time per event: processors %s, Redis %s\n", perEvent(r.processorCPU), perEvent(r.redisCPU))
	} else {
		fmt.Printf("CPU time per event: Redis %s\n", perEvent(r.redisCPU))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// measure sends n events at rate (0: at once) and waits for their n
// notifications.
func measure(ctx context.Context, rdb *redis.Client, c config, n, rate int) (*result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // before Wait: stops the producer when the consumer fails

	start := time.Now()
	sendErr := make(chan error, 1)
	wg.Go(func() { sendErr <- send(ctx, rdb, c, n, rate) })

	r := &result{events: n, latencies: make([]time.Duration, 0, n)}
	for len(r.latencies) < n {
		_, vals, err := rdb.BLMPop(ctx, time.Second, "right", 1000, c.notifications).Result()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("take notifications (%d of %d so far): %w", len(r.latencies), n, err)
		}
		now := time.Now()
		for _, v := range vals {
			var note flapjack.Notification
			if err := note.UnmarshalJSON([]byte(v)); err != nil {
				return nil, fmt.Errorf("notification %q: %w", v, err)
			}
			sent, ok := strings.CutPrefix(note.State.Summary, "load ")
			ns, err := strconv.ParseInt(sent, 10, 64)
			if !ok || err != nil {
				return nil, fmt.Errorf("notification %q is not one of this tool's", v)
			}
			r.latencies = append(r.latencies, now.Sub(time.Unix(0, ns)))
		}
	}
	r.elapsed = time.Since(start)
	if err := <-sendErr; err != nil {
		return nil, err
	}
	return r, nil
}

// send pushes n events, round robin over the checks, in chunks: at rate, one
// chunk per millisecond; without, chunks of 1,000 back to back.
func send(ctx context.Context, rdb *redis.Client, c config, n, rate int) error {
	push := func(from, to int) error {
		stamp := "load " + strconv.FormatInt(time.Now().UnixNano(), 10)
		events := make([]any, 0, to-from)
		tokens := make([]any, 0, to-from)
		for i := from; i < to; i++ {
			events = append(events, fmt.Sprintf(`{"entity":"host-%05d.example.com","check":"HTTP","type":"service","state":"critical","summary":%q,"initial_failure_delay":0,"repeat_failure_delay":0,"time":%d}`,
				i%c.checks, stamp, time.Now().Unix()))
			tokens = append(tokens, "+")
		}
		_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.LPush(ctx, c.queue, events...)
			p.LPush(ctx, c.queue+"_actions", tokens...)
			return nil
		})
		return err
	}
	if rate == 0 {
		for from := 0; from < n; from += 1000 {
			if err := push(from, min(from+1000, n)); err != nil {
				return fmt.Errorf("push: %w", err)
			}
		}
		return nil
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	sent := 0
	for sent < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		due := min(n, int(time.Since(start).Seconds()*float64(rate)))
		if due > sent {
			if err := push(sent, due); err != nil {
				return fmt.Errorf("push: %w", err)
			}
			sent = due
		}
	}
	return nil
}
