package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/metrics"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/pipeline"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

const wait = 10 * time.Second

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", wait, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// flakyGateway fails its first attempt, then delivers.
type flakyGateway struct {
	mu        sync.Mutex
	attempts  int
	delivered int
}

func (g *flakyGateway) Send(ctx context.Context, a *flapjack.Alert) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.attempts++
	if g.attempts == 1 {
		return errors.New("busy")
	}
	g.delivered++
	return nil
}

func (g *flakyGateway) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.delivered
}

// series lists a gathered family's label sets and values, as
// `name{k="v",…} value`, sorted.
func series(fams []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsAfterEvents(t *testing.T) {
	st := memory.New()
	defer st.Close()
	ctx := context.Background()
	if err := st.PutContact(ctx, flapjack.Contact{ID: "ops", Name: "Ops"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutMedium(ctx, flapjack.Medium{ID: "ops_rec", ContactID: "ops", Transport: "record", Address: "ops"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutRule(ctx, flapjack.Rule{ID: "all", ContactID: "ops", Enabled: true, Strategy: flapjack.Strategy("global"), MediaIDs: []string{"ops_rec"}}); err != nil {
		t.Fatal(err)
	}

	p := pipeline.New(st, pipeline.Options{})
	var queues []metrics.Queue
	m := metrics.New(metrics.Options{
		Pipeline: p, Queues: st, Version: "1.2.3",
		QueueList: func() []metrics.Queue { return queues },
	})
	gw := &flakyGateway{}
	p.SetProcessor(processor.New(st, processor.Options{Instance: "test", Observer: m.Observer()}))
	p.SetNotifier(notifier.New(st, notifier.Options{TransportQueues: map[string]string{"record": "record_notifications"}, Observer: m.Observer()}))
	p.SetGateway("record", gw, "record_notifications", gateway.DeliveryOptions{
		Backoff: time.Millisecond, MaxBackoff: time.Millisecond,
	})
	queues = []metrics.Queue{
		{Name: "events", Kind: metrics.KindEvents},
		{Name: "notifications", Kind: metrics.KindNotifications},
		{Name: "record_notifications", Kind: metrics.KindAlerts, Transport: "record"},
		{Name: gateway.DeadLetterQueue("record_notifications"), Kind: metrics.KindDeadLetters, Transport: "record"},
		{Name: "waiting", Kind: metrics.KindEvents}, // a queue no stage reads
	}
	if err := st.Queue("waiting").Push(ctx, []byte("a"), []byte("b")); err != nil {
		t.Fatal(err)
	}

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(rctx) }()
	defer func() { cancel(); <-done }()

	for _, ev := range []string{
		`{"entity":"web","check":"http","state":"critical","initial_failure_delay":0}`,
		`{"entity":"web","check":"disk","state":"ok"}`,
		`{"entity":"web","check":"http","type":"action","state":"acknowledgement","duration":600}`,
		`{"check":"x"}`,
	} {
		if err := st.Queue("events").Push(ctx, []byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the alerts delivered", func() bool { return gw.count() == 2 })

	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := series(fams)
	for key, want := range map[string]float64{
		`flapjack_events_total{kind="all"}`:                                                               4,
		`flapjack_events_total{kind="ok"}`:                                                                1,
		`flapjack_events_total{kind="failure"}`:                                                           1,
		`flapjack_events_total{kind="action"}`:                                                            1,
		`flapjack_events_total{kind="invalid"}`:                                                           1,
		`flapjack_processor_event_duration_seconds{}`:                                                     4,
		`flapjack_notifications_total{type="problem"}`:                                                    1,
		`flapjack_notifications_total{type="acknowledgement"}`:                                            1,
		`flapjack_notifications_total{type="recovery"}`:                                                   0,
		`flapjack_notifications_total{type="test"}`:                                                       0,
		`flapjack_alerts_total{transport="record"}`:                                                       2,
		`flapjack_notifier_notification_duration_seconds{}`:                                               2,
		`flapjack_delivery_sent_total{transport="record"}`:                                                2,
		`flapjack_delivery_failed_total{transport="record"}`:                                              1,
		`flapjack_delivery_retried_total{transport="record"}`:                                             1,
		`flapjack_delivery_dead_lettered_total{transport="record"}`:                                       0,
		`flapjack_delivery_duration_seconds{transport="record"}`:                                          3,
		`flapjack_queue_length{kind="events",queue="events",transport=""}`:                                0,
		`flapjack_queue_length{kind="events",queue="waiting",transport=""}`:                               2,
		`flapjack_queue_length{kind="notifications",queue="notifications",transport=""}`:                  0,
		`flapjack_queue_length{kind="alerts",queue="record_notifications",transport="record"}`:            0,
		`flapjack_queue_length{kind="dead_letters",queue="record_notifications_dead",transport="record"}`: 0,
		`flapjack_store_up{}`:                                                                             1,
		`flapjack_stage_up{stage="processor"}`:                                                            1,
		`flapjack_stage_up{stage="notifier"}`:                                                             1,
		`flapjack_stage_up{stage="gateway record"}`:                                                       1,
		`flapjack_stage_restarts_total{stage="processor"}`:                                                0,
		`flapjack_build_info{version="1.2.3"}`:                                                            1,
	} {
		v, ok := got[key]
		if !ok {
			t.Errorf("%s missing", key)
		} else if v != want {
			t.Errorf("%s = %v, want %v", key, v, want)
		}
	}
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	for _, n := range []string{"go_goroutines", "process_start_time_seconds"} {
		if !names[n] {
			t.Errorf("standard metric %s missing", n)
		}
	}

	// The handler writes the text format.
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"# TYPE flapjack_events_total counter",
		`flapjack_events_total{kind="all"} 4`,
		"# TYPE flapjack_delivery_duration_seconds histogram",
		`flapjack_delivery_duration_seconds_bucket{transport="record",le="0.005"}`,
		`flapjack_queue_length{kind="events",queue="waiting",transport=""} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
}

// failingQueues fails every Len.
type failingQueues struct{ store.Queues }

func (f failingQueues) Queue(name string) store.Queue { return failingQueue{f.Queues.Queue(name)} }

type failingQueue struct{ store.Queue }

func (failingQueue) Len(ctx context.Context) (int64, error) {
	return 0, errors.New("connection refused")
}

func TestStoreDownAtScrape(t *testing.T) {
	st := memory.New()
	defer st.Close()
	m := metrics.New(metrics.Options{
		Queues:    failingQueues{st},
		QueueList: func() []metrics.Queue { return []metrics.Queue{{Name: "events", Kind: metrics.KindEvents}} },
	})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := series(fams)
	if got[`flapjack_store_up{}`] != 0 {
		t.Errorf("store_up = %v, want 0", got[`flapjack_store_up{}`])
	}
	for k := range got {
		if strings.HasPrefix(k, "flapjack_queue_length") {
			t.Errorf("%s exported though unreadable", k)
		}
	}
}

// fakePipeline is a pipeline whose readiness the test sets.
type fakePipeline struct {
	ready  error
	stages []pipeline.StageStatus
}

func (f *fakePipeline) Ready() error                   { return f.ready }
func (f *fakePipeline) Stages() []pipeline.StageStatus { return f.stages }

func TestReadiness(t *testing.T) {
	st := memory.New()
	defer st.Close()
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	running := []pipeline.StageStatus{{Name: "processor", State: pipeline.StageRunning, Since: since}}
	failed := []pipeline.StageStatus{
		{Name: "notifier", State: pipeline.StageRestarting, Since: since, Restarts: 3, LastError: errors.New("boom")},
		{Name: "processor", State: pipeline.StageRunning, Since: since},
	}
	for _, tc := range []struct {
		name    string
		queues  store.Queues
		pipe    *fakePipeline
		code    int
		reasons []string
		stages  int
	}{
		{"ready", st, &fakePipeline{stages: running}, 200, nil, 1},
		{"store unreachable", failingQueues{st}, &fakePipeline{stages: running}, 503, []string{"store unreachable: connection refused"}, 1},
		{"stage restarting", st, &fakePipeline{ready: errors.New("notifier restarting after 3 restarts: boom"), stages: failed}, 503,
			[]string{"notifier restarting after 3 restarts: boom"}, 2},
		{"both", failingQueues{st}, &fakePipeline{ready: pipeline.ErrNotRunning}, 503,
			[]string{"store unreachable: connection refused", "pipeline not running"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &metrics.Readiness{Pipeline: tc.pipe, Queues: tc.queues, Probe: "events", Timeout: time.Second}
			rec := httptest.NewRecorder()
			r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tc.code || rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("status %d (%s), want %d", rec.Code, rec.Header().Get("Content-Type"), tc.code)
			}
			var rep metrics.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			wantStatus := "ready"
			if tc.code != 200 {
				wantStatus = "not ready"
			}
			if rep.Status != wantStatus || !slices.Equal(rep.Reasons, tc.reasons) || len(rep.Stages) != tc.stages {
				t.Errorf("report %s, want status %q, reasons %q and %d stages", rec.Body, wantStatus, tc.reasons, tc.stages)
			}
		})
	}
	// The failed stage is described.
	r := &metrics.Readiness{Pipeline: &fakePipeline{ready: errors.New("x"), stages: failed}}
	rep := r.Check(context.Background())
	want := metrics.StageReport{Name: "notifier", State: "restarting", Since: "2026-01-02T03:04:05Z", Restarts: 3, Error: "boom"}
	if rep.Stages[0] != want {
		t.Errorf("stage report %+v, want %+v", rep.Stages[0], want)
	}
}

func TestAlive(t *testing.T) {
	rec := httptest.NewRecorder()
	metrics.Alive().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("GET /healthz: %d %q", rec.Code, rec.Body)
	}
}

func TestReadinessOfARealPipeline(t *testing.T) {
	st := memory.New()
	defer st.Close()
	p := pipeline.New(st, pipeline.Options{Processor: processor.New(st, processor.Options{Instance: "test"})})
	r := &metrics.Readiness{Pipeline: p, Queues: st, Probe: "events"}
	if rep := r.Check(context.Background()); rep.Status != "not ready" || !slices.Equal(rep.Reasons, []string{"pipeline not running"}) {
		t.Errorf("before Run: %+v", rep)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	eventually(t, "readiness", func() bool { return r.Check(ctx).Status == "ready" })
	cancel()
	<-done
}
