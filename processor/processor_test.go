package processor_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/x/flapjack/flapjacktest"
	"reflect"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

func newProcessor(t *testing.T, s processor.Store, clock flapjack.Clock, opts processor.Options) *processor.Processor {
	t.Helper()
	opts.Clock = clock
	if opts.Instance == "" {
		opts.Instance = "test-instance"
	}
	return processor.New(s, opts)
}

func newStore(t *testing.T) *memory.Store {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return s
}

// queued takes every payload waiting on a queue.
func queued(t *testing.T, s store.Queues, name string) [][]byte {
	t.Helper()
	items, err := s.Queue(name).Reserve(t.Context(), 1000, false)
	if err != nil {
		t.Fatalf("reserve %s: %v", name, err)
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		out[i] = it.Payload
	}
	return out
}

func statistics(t *testing.T, s *memory.Store) map[string]flapjack.Statistics {
	t.Helper()
	all, err := s.Statistics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]flapjack.Statistics{}
	for _, st := range all {
		out[st.Instance] = st.Statistics
	}
	return out
}

func TestProcessEnqueuesNotification(t *testing.T) {
	for _, queue := range []string{"", "custom_notifications"} {
		t.Run("queue="+queue, func(t *testing.T) {
			s := newStore(t)
			clock := flapjacktest.NewClock(t0)
			p := newProcessor(t, s, clock, processor.Options{NotifierQueue: queue})
			want := queue
			if want == "" {
				want = "notifications"
			}

			steps := []struct {
				sec    float64
				state  string
				notify bool
			}{
				{0, "ok", false},
				{0, "critical", false},
				{29, "critical", false},
				{30, "critical", true},
				{31, "critical", false},
				{40, "ok", true},
			}
			for _, st := range steps {
				clock.Set(at(st.sec))
				res, err := p.Process(t.Context(), flapjack.Event{Entity: "app", Check: "http", State: st.state, Summary: st.state})
				if err != nil {
					t.Fatalf("%s at +%gs: %v", st.state, st.sec, err)
				}
				payloads := queued(t, s, want)
				if (res.Notification != nil) != st.notify || len(payloads) != btoi(st.notify) {
					t.Fatalf("%s at +%gs: notification %v, %d queued on %q (blocked by %q); want notification %v",
						st.state, st.sec, res.Notification != nil, len(payloads), want, res.BlockedBy, st.notify)
				}
				if !st.notify {
					continue
				}
				var got flapjack.Notification
				if err := json.Unmarshal(payloads[0], &got); err != nil {
					t.Fatalf("queued notification is not JSON: %v", err)
				}
				if !reflect.DeepEqual(normalise(got), normalise(*res.Notification)) {
					t.Errorf("queued notification\n %+v\ndiffers from the returned one\n %+v", got, *res.Notification)
				}
				if got.CheckName != "app:http" || got.CheckID != res.Check.ID || got.EventCount == 0 {
					t.Errorf("queued notification check %q id %q event count %d; want app:http, %q, > 0", got.CheckName, got.CheckID, got.EventCount, res.Check.ID)
				}
			}
			c, err := s.Check(t.Context(), "app:http")
			if err != nil {
				t.Fatal(err)
			}
			if c.NotificationCount != 2 || c.Condition != flapjack.OK {
				t.Errorf("stored check: %d notifications, condition %s; want 2, ok", c.NotificationCount, c.Condition)
			}
			h, err := s.History(t.Context(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 3 {
				t.Errorf("stored history has %d states, want 3 (ok, critical, ok)", len(h))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// normalise makes two notifications comparable after a JSON round trip.
func normalise(n flapjack.Notification) flapjack.Notification {
	n.State.CreatedAt = n.State.CreatedAt.UTC()
	n.State.UpdatedAt = n.State.UpdatedAt.UTC()
	if len(n.State.Perfdata) == 0 {
		n.State.Perfdata = nil
	}
	return n
}

// failingWrite is a store whose check writes fail after the processor's callback
// has run, as when a transaction cannot be committed.
type failingWrite struct {
	*memory.Store
	err error
}

func (f failingWrite) UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error) {
	return f.Store.UpdateCheck(ctx, name, create, func(u *store.CheckUpdate) error {
		if err := fn(u); err != nil {
			return err
		}
		return f.err
	})
}

// TestProcessNotificationIsPartOfTheWrite checks that the notification is queued in
// the same write as the check: when the write fails, nothing is queued.
func TestProcessNotificationIsPartOfTheWrite(t *testing.T) {
	s := newStore(t)
	clock := flapjacktest.NewClock(t0)
	p := newProcessor(t, s, clock, processor.Options{})
	for _, st := range []string{"ok", "critical"} {
		if _, err := p.Process(t.Context(), flapjack.Event{Check: "app:http", State: st}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(at(30))

	errCommit := errors.New("commit failed")
	fp := newProcessor(t, failingWrite{s, errCommit}, clock, processor.Options{})
	res, err := fp.Process(t.Context(), flapjack.Event{Check: "app:http", State: "critical"})
	if !errors.Is(err, errCommit) {
		t.Fatalf("Process with a failing write = %+v, %v; want an error wrapping %v", res, err, errCommit)
	}
	if q := queued(t, s, "notifications"); len(q) != 0 {
		t.Errorf("%d notifications queued although the check was not written", len(q))
	}
	c, _ := s.Check(t.Context(), "app:http")
	if c.NotificationCount != 0 || len(c.LatestNotifications) != 0 {
		t.Errorf("check changed by a failed write: %+v", c)
	}

	// The same event through a working store does notify: the failure above is
	// what stopped it.
	if res, err := p.Process(t.Context(), flapjack.Event{Check: "app:http", State: "critical"}); err != nil || res.Notification == nil {
		t.Fatalf("Process = %+v, %v; want a notification", res, err)
	}
	if q := queued(t, s, "notifications"); len(q) != 1 {
		t.Errorf("%d notifications queued, want 1", len(q))
	}
}

func TestProcessInvalidEvent(t *testing.T) {
	tests := []struct {
		name string
		ev   flapjack.Event
	}{
		{"no check", flapjack.Event{State: "ok"}},
		{"no state", flapjack.Event{Check: "app:http"}},
		{"unknown state", flapjack.Event{Check: "app:http", State: "broken"}},
		{"test with a healthy severity", flapjack.Event{Check: "app:http", State: "test_notifications ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			p := newProcessor(t, s, flapjacktest.NewClock(t0), processor.Options{})
			_, err := p.Process(t.Context(), tt.ev)
			if !errors.Is(err, flapjack.ErrInvalidEvent) || !errors.Is(err, processor.ErrInvalidEvent) {
				t.Fatalf("Process(%+v) error = %v, want one wrapping ErrInvalidEvent", tt.ev, err)
			}
			want := flapjack.Statistics{AllEvents: 1, InvalidEvents: 1}
			stats := statistics(t, s)
			if stats[store.GlobalStatistic] != want || stats["test-instance"] != want {
				t.Errorf("statistics = %+v, want global and instance %+v", stats, want)
			}
			if checks, _ := s.QueryChecks(t.Context(), store.CheckQuery{}); len(checks) != 0 {
				t.Errorf("an invalid event created checks: %+v", checks)
			}
			if q := queued(t, s, "notifications"); len(q) != 0 {
				t.Errorf("an invalid event queued %d notifications", len(q))
			}
		})
	}
}

func TestProcessStatistics(t *testing.T) {
	s := newStore(t)
	p := newProcessor(t, s, flapjacktest.NewClock(t0), processor.Options{})
	for _, st := range []string{"ok", "critical", "warning", "acknowledgement", "test_notifications", "ok"} {
		if _, err := p.Process(t.Context(), flapjack.Event{Check: "app:http", State: st}); err != nil {
			t.Fatal(err)
		}
	}
	p.Process(t.Context(), flapjack.Event{Check: "app:http", State: "nonsense"})
	want := flapjack.Statistics{AllEvents: 7, OKEvents: 2, FailureEvents: 2, ActionEvents: 1, InvalidEvents: 1}
	stats := statistics(t, s)
	if stats[store.GlobalStatistic] != want || stats["test-instance"] != want {
		t.Errorf("statistics = %+v, want global and instance %+v", stats, want)
	}
}

func TestProcessRawRejectsInvalidEvents(t *testing.T) {
	// 23:30 UTC is already the next day in Sydney: the queue is named by the UTC hour.
	sydney, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Skipf("time zone data not available: %v", err)
	}
	now := time.Date(2013, 2, 1, 23, 30, 0, 0, time.UTC).In(sydney)
	tests := []struct {
		name, queue, rejected string
	}{
		{"default queue", "", "events_rejected:2013020123"},
		{"named queue", "intake", "intake_rejected:2013020123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			p := newProcessor(t, s, flapjacktest.NewClock(now), processor.Options{Queue: tt.queue})
			if got := processor.RejectedQueue(orDefault(tt.queue, "events"), now); got != tt.rejected {
				t.Errorf("RejectedQueue = %q, want %q", got, tt.rejected)
			}
			bad := [][]byte{
				[]byte(`{"check": "app:http", "state": "broken"}`),
				[]byte(`not json`),
				[]byte(`["an", "array"]`),
			}
			for _, raw := range bad {
				if _, err := p.ProcessRaw(t.Context(), raw); !errors.Is(err, flapjack.ErrInvalidEvent) {
					t.Errorf("ProcessRaw(%s) error = %v, want one wrapping ErrInvalidEvent", raw, err)
				}
			}
			if _, err := p.ProcessRaw(t.Context(), []byte(`{"check": "app:http", "state": "ok"}`)); err != nil {
				t.Errorf("ProcessRaw(valid event): %v", err)
			}
			got := queued(t, s, tt.rejected)
			if len(got) != len(bad) {
				t.Fatalf("%d events on %s, want the %d invalid ones", len(got), tt.rejected, len(bad))
			}
			for i := range bad {
				if string(got[i]) != string(bad[i]) {
					t.Errorf("rejected event %d = %q, want it as received: %q", i, got[i], bad[i])
				}
			}
			want := flapjack.Statistics{AllEvents: 4, OKEvents: 1, InvalidEvents: 3}
			if st := statistics(t, s)[store.GlobalStatistic]; st != want {
				t.Errorf("statistics = %+v, want %+v", st, want)
			}
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestRun(t *testing.T) {
	s := newStore(t)
	clock := flapjacktest.NewClock(t0)
	p := newProcessor(t, s, clock, processor.Options{BatchSize: 2})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	err := s.Queue("events").Push(t.Context(),
		[]byte(`{"check": "app:http", "state": "ok"}`),
		[]byte(`{"check": "app:http", "state": "invalid"}`),
		[]byte(`{"check": "app:http", "state": "critical", "initial_failure_delay": 0}`),
	)
	if err != nil {
		t.Fatal(err)
	}
	wait, stop := context.WithTimeout(t.Context(), 10*time.Second)
	defer stop()
	items, err := s.Queue("notifications").Reserve(wait, 1, true)
	if err != nil {
		t.Fatalf("no notification from the events pushed: %v", err)
	}
	var n flapjack.Notification
	if err := json.Unmarshal(items[0].Payload, &n); err != nil || n.CheckName != "app:http" || n.Severity != flapjack.Critical {
		t.Errorf("notification %s (%v), want a critical one about app:http", items[0].Payload, err)
	}
	if got := queued(t, s, processor.RejectedQueue("events", t0)); len(got) != 1 {
		t.Errorf("%d rejected events kept, want 1", len(got))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop within 5 s of its context ending")
	}
}
