package processor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/x/flapjack/flapjacktest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// tickClock moves on by a second every time it is read.
type tickClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// countingStore counts the batch writes and statistics calls, and fails the
// batch writes of the checks named in fail while failures lasts.
type countingStore struct {
	*memory.Store
	batches, stats atomic.Int32
	fail           string
	failures       atomic.Int32
}

var errOutage = errors.New("connection refused")

func (s *countingStore) UpdateChecks(ctx context.Context, names []string, create bool, fn func(int, *store.CheckUpdate) error) []error {
	s.batches.Add(1)
	failing := -1
	if i := slices.Index(names, s.fail); i >= 0 && s.failures.Add(-1) >= 0 {
		failing = i
	}
	errs := s.Store.UpdateChecks(ctx, names, create, func(i int, u *store.CheckUpdate) error {
		if i == failing {
			return errOutage // as if the write of this check failed
		}
		return fn(i, u)
	})
	if failing >= 0 {
		// It did not come from the processor's callback: a store failure.
		errs[failing] = fmt.Errorf("write: %w", errOutage)
	}
	return errs
}

func (s *countingStore) AddStatistics(ctx context.Context, instance string, now time.Time, d flapjack.Statistics) error {
	s.stats.Add(1)
	return s.Store.AddStatistics(ctx, instance, now, d)
}

func raws(events ...string) [][]byte {
	out := make([][]byte, len(events))
	for i, e := range events {
		out[i] = []byte(e)
	}
	return out
}

const noDelays = `"initial_failure_delay":0,"repeat_failure_delay":0`

func TestProcessBatch(t *testing.T) {
	mem := newStore(t)
	s := &countingStore{Store: mem}
	p := newProcessor(t, s, &tickClock{now: t0}, processor.Options{})
	batch := raws(
		`{"check":"a","state":"ok","summary":"a1",`+noDelays+`}`,
		`{"check":"b","state":"critical","summary":"b1",`+noDelays+`}`,
		`{"check":"a","state":"critical","summary":"a2",`+noDelays+`}`,
		`not json`,
		`{"check":"b","state":"ok","summary":"b2",`+noDelays+`}`,
		`{"check":"a","state":"ok","summary":"a3",`+noDelays+`}`,
		`{"check":"a","state":"broken"}`,
	)
	errs := p.ProcessBatch(t.Context(), batch)
	for i, err := range errs {
		invalid := i == 3 || i == 6
		if invalid && !errors.Is(err, processor.ErrInvalidEvent) || !invalid && err != nil {
			t.Errorf("event %d (%s): error %v", i, batch[i], err)
		}
	}
	if n := s.batches.Load(); n != 1 {
		t.Errorf("%d batch writes, want 1", n)
	}
	if n := s.stats.Load(); n != 1 {
		t.Errorf("%d statistics calls, want 1", n)
	}
	want := flapjack.Statistics{AllEvents: 7, OKEvents: 3, FailureEvents: 2, InvalidEvents: 2}
	if got := statistics(t, mem)[store.GlobalStatistic]; got != want {
		t.Errorf("statistics %+v, want %+v", got, want)
	}
	for name, want := range map[string][]string{"a": {"ok", "critical", "ok"}, "b": {"critical", "ok"}} {
		c, err := mem.Check(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := mem.History(t.Context(), c.ID)
		var got []string
		for _, st := range h {
			got = append(got, string(st.Condition))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: history %v, want %v (its events in order)", name, got, want)
		}
		if c.NotificationCount != 2 {
			t.Errorf("%s: %d notifications, want 2 (problem, recovery)", name, c.NotificationCount)
		}
	}
	// Each check's notifications in its order: problem, then recovery.
	var got []string
	for _, p := range queued(t, mem, "notifications") {
		var n flapjack.Notification
		if err := json.Unmarshal(p, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n.CheckName+":"+string(n.Type())+":"+n.State.Summary)
	}
	for _, pair := range [][2]string{{"a:problem:a2", "a:recovery:a3"}, {"b:problem:b1", "b:recovery:b2"}} {
		i, j := slices.Index(got, pair[0]), slices.Index(got, pair[1])
		if i < 0 || j < i {
			t.Errorf("notifications %q: want %s, then %s", got, pair[0], pair[1])
		}
	}
	if n := len(got); n != 4 {
		t.Errorf("%d notifications, want 4", n)
	}
	rejected := queued(t, mem, processor.RejectedQueue("events", t0.Add(time.Second)))
	if len(rejected) != 2 || string(rejected[0]) != "not json" {
		t.Errorf("rejected %q, want the 2 invalid events in order", rejected)
	}
}

// A check whose write fails does not fail the others; Run tries again that check
// only, so that no event is applied twice.
func TestProcessBatchStoreFailureFailsOnlyItsCheck(t *testing.T) {
	mem := newStore(t)
	s := &countingStore{Store: mem, fail: "b"}
	s.failures.Store(1)
	p := newProcessor(t, s, &tickClock{now: t0}, processor.Options{})
	batch := raws(
		`{"check":"a","state":"critical",`+noDelays+`}`,
		`{"check":"b","state":"critical",`+noDelays+`}`,
		`{"check":"c","state":"critical",`+noDelays+`}`,
	)
	errs := p.ProcessBatch(t.Context(), batch)
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], errOutage) {
		t.Fatalf("errors %v; want the store's for b only", errs)
	}
	if _, err := mem.Check(t.Context(), "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("b written although its write failed: %v", err)
	}
	if want := (flapjack.Statistics{AllEvents: 2, FailureEvents: 2}); statistics(t, mem)[store.GlobalStatistic] != want {
		t.Errorf("statistics %+v, want %+v: the events processed only", statistics(t, mem)[store.GlobalStatistic], want)
	}

	// Through Run: the same batch, b failing twice.
	mem2 := newStore(t)
	s2 := &countingStore{Store: mem2, fail: "b"}
	s2.failures.Store(2)
	p2 := newProcessor(t, s2, &tickClock{now: t0}, processor.Options{})
	if err := mem2.Queue("events").Push(t.Context(), batch...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p2.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for statistics(t, mem2)[store.GlobalStatistic].AllEvents < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("events not processed; statistics %+v", statistics(t, mem2))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := s2.batches.Load(); n != 3 {
		t.Errorf("%d batch writes, want 3 (the batch, then b alone twice)", n)
	}
	if n := s2.stats.Load(); n != 1 {
		t.Errorf("%d statistics calls, want 1 for the batch", n)
	}
	for _, name := range []string{"a", "b", "c"} {
		if c, err := mem2.Check(t.Context(), name); err != nil || c.NotificationCount != 1 {
			t.Errorf("%s: %+v, %v; want 1 notification: its event applied once", name, c, err)
		}
	}
	if n := len(queued(t, mem2, "notifications")); n != 3 {
		t.Errorf("%d notifications, want 3", n)
	}
}

func TestArchiveEvents(t *testing.T) {
	mem := newStore(t)
	clock := flapjacktest.NewClock(time.Date(2013, 2, 1, 23, 30, 0, 0, time.FixedZone("AEDT", 11*3600)))
	p := newProcessor(t, mem, clock, processor.Options{ArchiveEvents: true, EventsArchiveMaxAge: time.Hour})
	const list = "events_archive:2013020112"
	if got := processor.ArchiveQueue("events", clock.Now()); got != list {
		t.Errorf("ArchiveQueue = %q, want %q (the UTC hour)", got, list)
	}
	valid := []string{`{"check":"a","state":"ok"}`, `{"check":"b","state":"critical"}`}
	errs := p.ProcessBatch(t.Context(), raws(valid[0], `{"check":"a"}`, valid[1]))
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], processor.ErrInvalidEvent) {
		t.Errorf("ProcessBatch errors %v", errs)
	}
	if _, err := p.ProcessRaw(t.Context(), []byte(`{"check":"c","state":"ok"}`)); err != nil {
		t.Errorf("ProcessRaw: %v", err)
	}
	var got []string
	for _, p := range queued(t, mem, list) {
		got = append(got, string(p))
	}
	if want := append(valid, `{"check":"c","state":"ok"}`); !slices.Equal(got, want) {
		t.Errorf("archive %q, want the valid events in order %q", got, want)
	}
	if rejected := queued(t, mem, processor.RejectedQueue("events", clock.Now())); len(rejected) != 1 {
		t.Errorf("%d rejected events, want 1", len(rejected))
	}

	t.Run("NeedsMaxAge", func(t *testing.T) {
		o := processor.Options{ArchiveEvents: true}
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "EventsArchiveMaxAge") {
			t.Errorf("Validate = %v, want an error naming EventsArchiveMaxAge", err)
		}
		wantRefused(t, newProcessor(t, newStore(t), clock, o), "EventsArchiveMaxAge")
	})
	t.Run("NeedsArchiver", func(t *testing.T) {
		s := plainStore{&flakyStore{Store: newStore(t)}}
		wantRefused(t, newProcessor(t, s, clock, processor.Options{ArchiveEvents: true, EventsArchiveMaxAge: time.Hour}), "archive")
	})
}

// wantRefused checks that p refuses to work, with an error mentioning what.
func wantRefused(t *testing.T, p *processor.Processor, what string) {
	t.Helper()
	if err := p.Run(t.Context()); err == nil || !strings.Contains(err.Error(), what) {
		t.Errorf("Run = %v, want an error about %s", err, what)
	}
	if errs := p.ProcessBatch(t.Context(), raws(`{"check":"a","state":"ok"}`)); errs[0] == nil {
		t.Errorf("ProcessBatch succeeded, want an error about %s", what)
	}
	if _, err := p.ProcessRaw(t.Context(), []byte(`{"check":"a","state":"ok"}`)); err == nil {
		t.Errorf("ProcessRaw succeeded, want an error about %s", what)
	}
}
