package memory

import (
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/storetest"
)

func TestLeases(t *testing.T) {
	storetest.RunLeases(t, func(t *testing.T) (store.Leaser, func(time.Duration)) {
		s := New()
		t.Cleanup(func() { s.Close() })
		var mu sync.Mutex
		now := time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC)
		s.SetLeaseClock(flapjack.ClockFunc(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}))
		return s, func(d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(d)
		}
	})
}

// Each store has its own leases.
func TestLeasesPerStore(t *testing.T) {
	a, b := New(), New()
	defer a.Close()
	defer b.Close()
	for _, s := range []*Store{a, b} {
		if ok, err := s.AcquireLease(t.Context(), "poller", "owner", time.Hour); !ok || err != nil {
			t.Fatalf("AcquireLease = %v, %v; want true", ok, err)
		}
	}
	if ok, _ := a.AcquireLease(t.Context(), "poller", "other", time.Hour); ok {
		t.Error("a second owner acquired a held lease")
	}
}
