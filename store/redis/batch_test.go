package redisstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store"
)

// TestUpdateChecksWakeTokens: with WakeTokens, the messages of a batch come with
// their wake tokens, whether the batch creates checks (written by the script)
// or only updates them (written by MULTI/EXEC).
func TestUpdateChecksWakeTokens(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.WakeTokens = true
	s := newStore(t, opts)
	raw := rawClient(t, srv)
	names := []string{"a:ping", "b:ping"}
	enqueue := func(n int) func(int, *store.CheckUpdate) error {
		return func(i int, u *store.CheckUpdate) error {
			for k := range n {
				u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: fmt.Appendf(nil, "%s/%d", names[i], k)})
			}
			return nil
		}
	}
	for round, tc := range []struct {
		create   bool
		messages int
	}{{true, 1}, {false, 2}} {
		if errs := s.UpdateChecks(t.Context(), names, tc.create, enqueue(tc.messages)); errs != nil {
			t.Fatalf("round %d: UpdateChecks = %v", round, errs)
		}
	}
	if n, err := raw.LLen(t.Context(), "notifications").Result(); err != nil || n != 6 {
		t.Errorf("notifications holds %d messages, %v; want 6", n, err)
	}
	if n, err := raw.LLen(t.Context(), "notifications_actions").Result(); err != nil || n != 6 {
		t.Errorf("notifications_actions holds %d tokens, %v; want one per message, 6", n, err)
	}
}

// TestArchiveExpiry: the archive list expires its maximum age after the last
// push.
func TestArchiveExpiry(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	s := newStore(t, testOptions(srv))
	raw := rawClient(t, srv)
	if err := s.Archive(t.Context(), "events_archive:2013020112", 3*time.Hour, []byte("e1"), []byte("e2")); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	ttl, err := raw.PTTL(t.Context(), "events_archive:2013020112").Result()
	if err != nil || ttl <= 3*time.Hour-time.Minute || ttl > 3*time.Hour {
		t.Errorf("archive list expires in %s, %v; want 3h", ttl, err)
	}
	if got, err := raw.LRange(t.Context(), "events_archive:2013020112", 0, -1).Result(); err != nil || len(got) != 2 || got[0] != "e2" {
		t.Errorf("archive list = %q, %v; want [e2 e1] (LPUSH order)", got, err)
	}
}

// TestUpdateChecksLongHistory: a batch may append more history entries to a
// check than a script can pass to one command.
func TestUpdateChecksLongHistory(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	s := newStore(t, testOptions(srv))
	const entries = 9000
	var id string
	errs := s.UpdateChecks(t.Context(), []string{"chatty:ping"}, true, func(i int, u *store.CheckUpdate) error {
		id = u.Check.ID
		for k := range entries {
			u.History = append(u.History, flapjack.State{CreatedAt: time.Unix(int64(k), 0), Summary: fmt.Sprint(k)})
		}
		return nil
	})
	if errs != nil {
		t.Fatalf("UpdateChecks = %v", errs)
	}
	h, err := s.History(t.Context(), id)
	if err != nil || len(h) != entries || h[entries-1].Summary != fmt.Sprint(entries-1) {
		t.Errorf("History holds %d entries, %v; want %d in order", len(h), err, entries)
	}
}
