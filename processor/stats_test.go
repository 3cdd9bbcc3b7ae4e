package processor_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// flakyStatsStore refuses statistics while down is set.
type flakyStatsStore struct {
	*memory.Store
	down atomic.Bool
}

func (s *flakyStatsStore) AddStatistics(ctx context.Context, instance string, now time.Time, d flapjack.Statistics) error {
	if s.down.Load() {
		return errOutage
	}
	return s.Store.AddStatistics(ctx, instance, now, d)
}

// TestStatisticsSurviveOutage: counts the store could not take are added
// with the next ones, not lost.
func TestStatisticsSurviveOutage(t *testing.T) {
	mem := newStore(t)
	s := &flakyStatsStore{Store: mem}
	p := newProcessor(t, s, &tickClock{now: t0}, processor.Options{})
	s.down.Store(true)
	p.ProcessBatch(t.Context(), raws(`{"check":"a","state":"ok"}`, `{"check":"b","state":"critical"}`, `bad`))
	if _, err := p.ProcessRaw(t.Context(), []byte(`{"check":"a","state":"ok"}`)); err != nil {
		t.Fatal(err)
	}
	if got := statistics(t, mem)[store.GlobalStatistic]; got != (flapjack.Statistics{}) {
		t.Fatalf("statistics during the outage: %+v", got)
	}
	s.down.Store(false)
	if _, err := p.ProcessRaw(t.Context(), []byte(`{"check":"b","state":"critical"}`)); err != nil {
		t.Fatal(err)
	}
	want := flapjack.Statistics{AllEvents: 5, OKEvents: 2, FailureEvents: 2, InvalidEvents: 1}
	if got := statistics(t, mem)[store.GlobalStatistic]; got != want {
		t.Errorf("statistics after the outage %+v, want %+v", got, want)
	}
}
