package redisstore

import (
	"testing"
	"time"

	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/storetest"
)

// Leases lapse by the server's clock, so the suite waits for them in real time.
func TestLeases(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	storetest.RunLeases(t, func(t *testing.T) (store.Leaser, func(time.Duration)) {
		flushAll(t, srv)
		return newStore(t, testOptions(srv)), time.Sleep
	})
}

func TestLeasesWithPrefix(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	raw := rawClient(t, srv)
	opts := testOptions(srv)
	opts.Prefix = "{fj}:"
	s := newStore(t, opts)
	if ok, err := s.AcquireLease(t.Context(), "pagerduty_ack_poller", "owner-1", time.Hour); !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v; want true", ok, err)
	}
	owner, err := raw.Get(t.Context(), "{fj}:lease:pagerduty_ack_poller").Result()
	if err != nil || owner != "owner-1" {
		t.Fatalf("GET {fj}:lease:pagerduty_ack_poller = %q, %v; want owner-1", owner, err)
	}
	ttl, err := raw.PTTL(t.Context(), "{fj}:lease:pagerduty_ack_poller").Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("PTTL = %v, %v; want about an hour", ttl, err)
	}
	if err := s.ReleaseLease(t.Context(), "pagerduty_ack_poller", "owner-1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := raw.Exists(t.Context(), "{fj}:lease:pagerduty_ack_poller").Result(); n != 0 {
		t.Error("the released lease is still there")
	}
}

func TestLeasesOnCluster(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{Cluster: true})
	opts := testOptions(srv)
	opts.Cluster = true
	opts.Prefix = "{flapjack}:"
	s := newStore(t, opts)
	for _, tc := range []struct {
		owner string
		want  bool
	}{{"a", true}, {"b", false}, {"a", true}} {
		if ok, err := s.AcquireLease(t.Context(), "poller", tc.owner, time.Hour); ok != tc.want || err != nil {
			t.Fatalf("AcquireLease for %s = %v, %v; want %v", tc.owner, ok, err, tc.want)
		}
	}
	if ok, err := s.RenewLease(t.Context(), "poller", "a", time.Hour); !ok || err != nil {
		t.Fatalf("RenewLease = %v, %v; want true", ok, err)
	}
	if err := s.ReleaseLease(t.Context(), "poller", "a"); err != nil {
		t.Fatal(err)
	}
}
