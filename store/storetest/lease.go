package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack/store"
)

// leaseTTL is the ttl of the leases the suite lets lapse. A store on a server
// lapses them in real time, so it must be long enough that a loaded machine
// does not see a lease lapse early, and short enough to keep the suite quick.
const leaseTTL = time.Second

// RunLeases runs the conformance suite of store.Leaser. newLeaser returns a
// fresh store holding no lease, and advance, which lets d pass for that
// store's leases: it moves a fake clock, or sleeps where the server's clock
// decides. Subtests run one after another.
//
//	func TestLeases(t *testing.T) {
//		storetest.RunLeases(t, func(t *testing.T) (store.Leaser, func(time.Duration)) {
//			s := newEmptyStore(t)
//			return s, time.Sleep
//		})
//	}
func RunLeases(t *testing.T, newLeaser func(t *testing.T) (l store.Leaser, advance func(d time.Duration))) {
	t.Run("Exclusive", func(t *testing.T) {
		l, _ := newLeaser(t)
		wantLease(t, l, "acquire", "poller", "a", true)
		wantLease(t, l, "acquire", "poller", "b", false)
		wantLease(t, l, "acquire", "poller", "a", true) // its holder may take it again
		wantLease(t, l, "acquire", "other", "b", true)  // names are independent
		release(t, l, "poller", "a")
		wantLease(t, l, "acquire", "poller", "b", true)
		wantLease(t, l, "acquire", "poller", "a", false)
	})
	t.Run("RenewByOwnerOnly", func(t *testing.T) {
		l, _ := newLeaser(t)
		wantLease(t, l, "renew", "poller", "a", false)  // nobody holds it: renewing does not take it
		wantLease(t, l, "acquire", "poller", "b", true) // and it is still free
		wantLease(t, l, "renew", "poller", "a", false)
		wantLease(t, l, "renew", "poller", "b", true)
		release(t, l, "poller", "b")
		wantLease(t, l, "renew", "poller", "b", false)
	})
	t.Run("ReleaseByOwnerOnly", func(t *testing.T) {
		l, _ := newLeaser(t)
		release(t, l, "poller", "a") // not held: nothing to do
		wantLease(t, l, "acquire", "poller", "a", true)
		release(t, l, "poller", "b")
		wantLease(t, l, "acquire", "poller", "c", false)
		wantLease(t, l, "renew", "poller", "a", true)
		release(t, l, "poller", "a")
		wantLease(t, l, "acquire", "poller", "c", true)
	})
	t.Run("Expiry", func(t *testing.T) {
		l, advance := newLeaser(t)
		wantLeaseTTL(t, l, "acquire", "poller", "a", leaseTTL, true)
		advance(leaseTTL / 2)
		wantLeaseTTL(t, l, "acquire", "poller", "b", leaseTTL, false)
		advance(leaseTTL)
		// a died holding it: it lapsed, and b takes it.
		wantLeaseTTL(t, l, "acquire", "poller", "b", leaseTTL, true)
		wantLeaseTTL(t, l, "renew", "poller", "a", leaseTTL, false)
		release(t, l, "poller", "a") // a came back: it cannot free b's lease
		wantLeaseTTL(t, l, "acquire", "poller", "c", leaseTTL, false)
	})
	t.Run("RenewExtends", func(t *testing.T) {
		l, advance := newLeaser(t)
		wantLeaseTTL(t, l, "acquire", "poller", "a", leaseTTL, true)
		advance(leaseTTL / 2)
		wantLeaseTTL(t, l, "renew", "poller", "a", leaseTTL, true)
		advance(leaseTTL * 3 / 4) // past the first ttl, within the renewed one
		wantLeaseTTL(t, l, "acquire", "poller", "b", leaseTTL, false)
		wantLeaseTTL(t, l, "acquire", "poller", "a", leaseTTL, true)
	})
	t.Run("Concurrency", func(t *testing.T) {
		l, _ := newLeaser(t)
		const racers = 16
		for round := range 5 {
			won := make([]bool, racers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range racers {
				wg.Go(func() {
					<-start
					ok, err := l.AcquireLease(context.Background(), "poller", fmt.Sprintf("owner-%d", i), time.Hour)
					if err != nil {
						t.Errorf("AcquireLease: %v", err)
					}
					won[i] = ok
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, ok := range won {
				if ok {
					if winner >= 0 {
						t.Fatalf("round %d: owners %d and %d both acquired the lease", round, winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: none of %d owners acquired a free lease", round, racers)
			}
			release(t, l, "poller", fmt.Sprintf("owner-%d", winner))
		}
	})
	t.Run("InvalidArguments", func(t *testing.T) {
		l, _ := newLeaser(t)
		ctx := t.Context()
		if _, err := l.AcquireLease(ctx, "", "a", time.Hour); err == nil {
			t.Error("AcquireLease with an empty name succeeded")
		}
		if _, err := l.AcquireLease(ctx, "poller", "", time.Hour); err == nil {
			t.Error("AcquireLease with an empty owner succeeded")
		}
		if _, err := l.AcquireLease(ctx, "poller", "a", 0); err == nil {
			t.Error("AcquireLease with a zero ttl succeeded")
		}
		if _, err := l.RenewLease(ctx, "poller", "a", -time.Second); err == nil {
			t.Error("RenewLease with a negative ttl succeeded")
		}
		if err := l.ReleaseLease(ctx, "poller", ""); err == nil {
			t.Error("ReleaseLease with an empty owner succeeded")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if ok, err := l.AcquireLease(cancelled, "poller", "a", time.Hour); err == nil || ok {
			t.Errorf("AcquireLease with a cancelled context = %v, %v; want an error", ok, err)
		}
		wantLease(t, l, "acquire", "poller", "b", true)
	})
}

func wantLease(t *testing.T, l store.Leaser, op, name, owner string, want bool) {
	t.Helper()
	wantLeaseTTL(t, l, op, name, owner, time.Hour, want)
}

func wantLeaseTTL(t *testing.T, l store.Leaser, op, name, owner string, ttl time.Duration, want bool) {
	t.Helper()
	var ok bool
	var err error
	switch op {
	case "acquire":
		ok, err = l.AcquireLease(t.Context(), name, owner, ttl)
	case "renew":
		ok, err = l.RenewLease(t.Context(), name, owner, ttl)
	default:
		t.Fatalf("wantLease: unknown op %q", op)
	}
	if err != nil {
		t.Fatalf("%s lease %q for %q: %v", op, name, owner, err)
	}
	if ok != want {
		t.Fatalf("%s lease %q for %q = %v, want %v", op, name, owner, ok, want)
	}
}

func release(t *testing.T, l store.Leaser, name, owner string) {
	t.Helper()
	if err := l.ReleaseLease(t.Context(), name, owner); err != nil {
		t.Fatalf("release lease %q for %q: %v", name, owner, err)
	}
}
