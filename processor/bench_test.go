package processor_test

// Throughput and memory benchmarks of the in-memory pipeline. docs/benchmarks.md
// gives the command that runs them and the figures they produce; run them on one
// core (-cpu 1) so that the figures are per core.

import (
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// benchChecks is how many checks the throughput benchmarks cycle through: enough
// that they do not all sit in the CPU caches.
const benchChecks = 10_000

// benchClock is a fake clock the benchmark loop advances by hand; the loop runs on
// one goroutine, so it needs no lock.
type benchClock struct{ t time.Time }

func (c *benchClock) Now() time.Time { return c.t }

// tick moves the clock on by one millisecond: a little per event, so that every
// event is later than the one before, as on a real clock.
func (c *benchClock) tick() { c.t = c.t.Add(time.Millisecond) }

func newBenchClock() *benchClock {
	return &benchClock{t: time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)} // a Friday noon
}

// benchEntity is the entity name of check i, such as "host-00042.example.com".
func benchEntity(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 5 {
		s = "0" + s
	}
	return "host-" + s + ".example.com"
}

// benchOKSummary is a 20-40 byte summary that varies with i, as real check output does.
func benchOKSummary(i int) string {
	return "HTTP OK: 200 in 0.0" + strconv.Itoa(10+i%90) + " s"
}

// benchOKEvents returns one ok heartbeat per check, "host-NNNNN.example.com:HTTP".
func benchOKEvents(n int) []flapjack.Event {
	evs := make([]flapjack.Event, n)
	for i := range evs {
		evs[i] = flapjack.Event{
			Entity:  benchEntity(i),
			Check:   "HTTP",
			State:   "ok",
			Summary: benchOKSummary(i),
			Time:    1359720000,
		}
	}
	return evs
}

func benchReportEventsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchProcess(b *testing.B, p *processor.Processor, ev flapjack.Event) processor.Result {
	res, err := p.Process(context.Background(), ev)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// benchDrain empties queues without blocking, so that a long benchmark does not keep
// every notification and alert it made in memory.
func benchDrain(b *testing.B, s *memory.Store, queues ...string) {
	for _, q := range queues {
		if _, err := s.Queue(q).Reserve(context.Background(), 1<<30, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessSteadyOK measures the common case: ok heartbeats of checks that
// were already ok. Each event goes through Process — validation, the atomic check
// update, the filter chain, statistics — and makes no notification.
func BenchmarkProcessSteadyOK(b *testing.B) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	clk := newBenchClock()
	p := processor.New(st, processor.Options{Clock: clk, Instance: "bench"})
	evs := benchOKEvents(benchChecks)
	for _, ev := range evs { // first sight, then steady
		benchProcess(b, p, ev)
		benchProcess(b, p, ev)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clk.tick()
		if _, err := p.Process(ctx, evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchReportEventsPerSecond(b)
	if n, _ := st.Queue("notifications").Len(ctx); n != 0 {
		b.Fatalf("steady ok events made %d notifications, want none", n)
	}
}

// BenchmarkProcessRaw is BenchmarkProcessSteadyOK from the wire: each event is
// parsed from its JSON form by ProcessRaw, as Run does with what producers send.
func BenchmarkProcessRaw(b *testing.B) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	clk := newBenchClock()
	p := processor.New(st, processor.Options{Clock: clk, Instance: "bench"})
	raws := make([][]byte, benchChecks)
	for i, ev := range benchOKEvents(benchChecks) {
		raw, err := json.Marshal(ev)
		if err != nil {
			b.Fatal(err)
		}
		raws[i] = raw
		benchProcess(b, p, ev)
		benchProcess(b, p, ev)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clk.tick()
		if _, err := p.ProcessRaw(ctx, raws[i%len(raws)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	benchReportEventsPerSecond(b)
}

// benchAlertingEvents returns one critical result per check with no initial or repeat
// failure delay, so that every one of them, repeated, passes the filters (the clock
// moves between two events of a check) and becomes a problem notification.
func benchAlertingEvents(n int) []flapjack.Event {
	zero := int64(0)
	evs := make([]flapjack.Event, n)
	for i := range evs {
		evs[i] = flapjack.Event{
			Entity:              benchEntity(i),
			Check:               "HTTP",
			State:               "critical",
			Summary:             "HTTP CRITICAL: connection refused",
			Details:             "connect to port 443: connection refused",
			Perfdata:            "time=0.001s;1;2;0 size=0B;;;0",
			Time:                1359720000,
			InitialFailureDelay: &zero,
			RepeatFailureDelay:  &zero,
		}
	}
	return evs
}

// benchSetUpAlerting makes a store whose checks are tagged and failing, and a
// processor over it. The first critical event of each check has been processed
// (its notification dropped, the check marked alertable as the notifier would
// have), so what is measured is a check that goes on failing.
func benchSetUpAlerting(b *testing.B, noDecisionLog bool) (*memory.Store, *benchClock, *processor.Processor, []flapjack.Event) {
	ctx := context.Background()
	st := memory.New()
	clk := newBenchClock()
	p := processor.New(st, processor.Options{Clock: clk, Instance: "bench", NoDecisionLog: noDecisionLog})
	evs := benchAlertingEvents(benchChecks)
	for _, ev := range evs {
		_, err := st.UpdateCheck(ctx, ev.CheckName(), true, func(u *store.CheckUpdate) error {
			u.Check.Tags = []string{"http", "production", "web"}
			u.Check.Alertable = true
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		benchProcess(b, p, ev)
	}
	benchDrain(b, st, "notifications")
	return st, clk, p, evs
}

// BenchmarkProcessAlerting measures the processor alone on events that each make a
// notification: the notification is built, encoded and enqueued.
func BenchmarkProcessAlerting(b *testing.B) {
	st, clk, p, evs := benchSetUpAlerting(b, false)
	defer st.Close()
	ctx := context.Background()

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clk.tick()
		res, err := p.Process(ctx, evs[i%len(evs)])
		if err != nil {
			b.Fatal(err)
		}
		if res.Notification == nil {
			b.Fatalf("event %d made no notification: %s", i, res.Trace)
		}
		if i%1024 == 1023 {
			benchDrain(b, st, "notifications")
		}
	}
	b.StopTimer()
	benchReportEventsPerSecond(b)
}

// The transports of benchSetUpRouting, whose queues the notifier fills.
var benchTransports = []string{"email", "sms", "webhook"}

// benchSetUpRouting loads a small, realistic routing set: three contacts, four
// media, six rules with the global, any-tag and all-tags strategies, severity
// filters, two blackholes and a weekday business-hours time restriction. For a
// critical problem of a check tagged http, production, web it routes to three
// media. Intervals are 0, so that every notification makes alerts: the costliest
// case for the notifier.
func benchSetUpRouting(b *testing.B, st *memory.Store) {
	ctx := context.Background()
	contacts := []flapjack.Contact{
		{ID: "ops", Name: "Operations", Timezone: "Europe/London"},
		{ID: "dev", Name: "Web developers", Timezone: "America/New_York"},
		{ID: "boss", Name: "Manager"},
	}
	media := []flapjack.Medium{
		{ID: "ops_email", ContactID: "ops", Transport: "email", Address: "ops@example.com"},
		{ID: "ops_sms", ContactID: "ops", Transport: "sms", Address: "+15550100001"},
		{ID: "dev_hook", ContactID: "dev", Transport: "webhook", Address: "https://hooks.example.com/dev"},
		{ID: "boss_email", ContactID: "boss", Transport: "email", Address: "boss@example.com"},
	}
	rules := []flapjack.Rule{
		{ID: "ops_all", ContactID: "ops", Enabled: true, Strategy: flapjack.Global, MediaIDs: []string{"ops_email"}},
		{ID: "ops_critical_day", ContactID: "ops", Enabled: true, Strategy: flapjack.AllTags,
			Tags: []string{"production"}, Conditions: []flapjack.Condition{flapjack.Critical},
			TimeRestrictionICal: "DTSTART:20130101T080000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
			MediaIDs:            []string{"ops_sms"}},
		{ID: "dev_web", ContactID: "dev", Enabled: true, Strategy: flapjack.AnyTag, Tags: []string{"web", "api"}, MediaIDs: []string{"dev_hook"}},
		{ID: "dev_quiet_unknown", ContactID: "dev", Enabled: true, Blackhole: true, Strategy: flapjack.Global,
			Conditions: []flapjack.Condition{flapjack.Unknown}, MediaIDs: []string{"dev_hook"}},
		{ID: "dev_no_staging", ContactID: "dev", Enabled: true, Blackhole: true, Strategy: flapjack.AnyTag,
			Tags: []string{"staging"}, MediaIDs: []string{"dev_hook"}},
		{ID: "boss_db", ContactID: "boss", Enabled: true, Strategy: flapjack.AllTags, Tags: []string{"database", "production"},
			MediaIDs: []string{"boss_email"}},
	}
	for _, c := range contacts {
		if err := st.PutContact(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range media {
		if err := st.PutMedium(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range rules {
		if err := st.PutRule(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessAlertingNotify measures processor and notifier together on events
// that each make a notification: Process, then the notifier takes the notification
// off its queue, decodes it and routes it with Notify, which enqueues one alert
// per medium (three here).
func BenchmarkProcessAlertingNotify(b *testing.B) { benchAlertingNotify(b, false) }

// BenchmarkProcessAlertingNotifyNoDecisionLog is BenchmarkProcessAlertingNotify
// with the decision log off, to show what the log costs.
func BenchmarkProcessAlertingNotifyNoDecisionLog(b *testing.B) { benchAlertingNotify(b, true) }

func benchAlertingNotify(b *testing.B, noDecisionLog bool) {
	st, clk, p, evs := benchSetUpAlerting(b, noDecisionLog)
	defer st.Close()
	benchSetUpRouting(b, st)
	ctx := context.Background()
	n := notifier.New(st, notifier.Options{Clock: clk, DefaultContactTimezone: time.UTC, NoDecisionLog: noDecisionLog})
	notes := st.Queue("notifications")
	alertQueues := make([]string, len(benchTransports))
	for i, t := range benchTransports {
		alertQueues[i] = notifier.TransportQueue(t)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clk.tick()
		if _, err := p.Process(ctx, evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
		items, err := notes.Reserve(ctx, 1, false)
		if err != nil || len(items) != 1 {
			b.Fatalf("took %d notifications, error %v; want 1", len(items), err)
		}
		var note flapjack.Notification // decoded as notifier.Run does
		if err := note.UnmarshalJSON(items[0].Payload); err != nil {
			b.Fatal(err)
		}
		res, err := n.Notify(ctx, note)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Alerts) != 3 {
			b.Fatalf("notification %d made %d alerts, want 3: %s", i, len(res.Alerts), res.Trace)
		}
		if i%1024 == 1023 {
			benchDrain(b, st, alertQueues...)
		}
	}
	b.StopTimer()
	benchReportEventsPerSecond(b)
}

// memoryChecks is how many checks BenchmarkMemoryPerCheck creates.
const memoryChecks = 100_000

// BenchmarkMemoryPerCheck reports the heap a steady ok check costs in the memory
// store: it creates 100,000 checks from the wire with ProcessRaw, each ok and seen
// twice (so that it holds a current state and a one-entry history, as a steady
// check does), collects garbage, and divides the growth of the live heap by the
// number of checks. It is a benchmark rather than a test because it takes a while;
// its ns/op is the time to build the 100,000 checks.
func BenchmarkMemoryPerCheck(b *testing.B) {
	ctx := context.Background()
	var perCheck float64
	buf := make([]byte, 0, 256)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()

		st := memory.New()
		clk := newBenchClock()
		p := processor.New(st, processor.Options{Clock: clk, Instance: "bench"})
		for round := 0; round < 2; round++ {
			for c := 0; c < memoryChecks; c++ {
				clk.tick()
				// Built in place so that the benchmark holds no copy of the
				// strings the store keeps.
				buf = append(buf[:0], `{"entity":"`...)
				buf = append(buf, benchEntity(c)...)
				buf = append(buf, `","check":"HTTP","state":"ok","time":1359720000,"summary":"`...)
				buf = append(buf, benchOKSummary(c+round)...)
				buf = append(buf, `"}`...)
				if _, err := p.ProcessRaw(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
		}

		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if n, _ := st.Queue("notifications").Len(ctx); n != 0 {
			b.Fatalf("steady ok events made %d notifications, want none", n)
		}
		runtime.KeepAlive(st)
		runtime.KeepAlive(p)
		perCheck = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / memoryChecks
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(perCheck, "bytes/check")
}
