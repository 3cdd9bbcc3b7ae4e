package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/storetest"
)

// testOptions are Options for srv that fail fast when the server is away, so that
// tests about outages do not wait for go-redis' patient defaults.
func testOptions(srv *redistest.Server) Options {
	return Options{
		Addrs:       []string{srv.Addr()},
		DialTimeout: time.Second,
		ReadTimeout: 2 * time.Second,
		MaxRetries:  -1,
	}
}

func newStore(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := New(t.Context(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawClient is a plain client, as producers and other tools use.
func rawClient(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}

func flushAll(t *testing.T, srv *redistest.Server) {
	t.Helper()
	if _, err := srv.Do("FLUSHALL"); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	storetest.Run(t, func(t *testing.T) store.Store {
		flushAll(t, srv)
		return newStore(t, testOptions(srv))
	})
}

func TestConformanceWithPrefix(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	raw := rawClient(t, srv)
	const prefix = "{fj}:"
	storetest.Run(t, func(t *testing.T) store.Store {
		flushAll(t, srv)
		opts := testOptions(srv)
		opts.Prefix = prefix
		s := newStore(t, opts)
		t.Cleanup(func() {
			keys, err := raw.Keys(context.Background(), "*").Result()
			if err != nil {
				t.Errorf("KEYS: %v", err)
			}
			for _, k := range keys {
				if !strings.HasPrefix(k, prefix) {
					t.Errorf("key %q lies outside the prefix %q", k, prefix)
				}
			}
		})
		return s
	})
}

func TestConformanceOnCluster(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{Cluster: true})
	storetest.Run(t, func(t *testing.T) store.Store {
		flushAll(t, srv)
		opts := testOptions(srv)
		opts.Cluster = true
		opts.Prefix = "{flapjack}:"
		return newStore(t, opts)
	})
}

func TestSentinel(t *testing.T) {
	master := redistest.Start(t, redistest.Config{Args: []string{"--requirepass", "secret"}})
	sentinel := redistest.StartSentinel(t, "mymaster", master)
	// The Sentinel is asked for the master; the password is the master's.
	s, err := NewFromURL(t.Context(), fmt.Sprintf("redis://:secret@%s/2?master_name=mymaster&dial_timeout=1s", sentinel.Addr()))
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := s.UpdateCheck(t.Context(), "web-1:http", true, func(u *store.CheckUpdate) error {
		u.Enqueue = append(u.Enqueue, store.Message{Queue: "notifications", Payload: []byte("n")})
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateCheck through Sentinel: %v", err)
	}
	items, err := s.Queue("notifications").Reserve(t.Context(), 10, true)
	if err != nil || len(items) != 1 || string(items[0].Payload) != "n" {
		t.Fatalf("Reserve through Sentinel = %v, %v; want the enqueued message", items, err)
	}
	direct := redis.NewClient(&redis.Options{Addr: master.Addr(), Password: "secret", DB: 2})
	defer direct.Close()
	if doc, err := direct.Get(t.Context(), "check:web-1:http").Result(); err != nil || !strings.Contains(doc, c.AckHash) {
		t.Errorf("the master's database 2 holds %q, %v; want the check", doc, err)
	}
}

// payloads returns the items' payloads as strings.
func payloads(items []store.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it.Payload)
	}
	return out
}

// reserveWithin runs a blocking Reserve that must return before the test's
// patience runs out; it fails the test otherwise.
func reserveWithin(t *testing.T, q store.Queue, n int) []store.Item {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	items, err := q.Reserve(ctx, n, true)
	if err != nil {
		t.Fatalf("blocking Reserve: %v", err)
	}
	return items
}

func wantPayloads(t *testing.T, what string, items []store.Item, want ...string) {
	t.Helper()
	if got := payloads(items); !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// TestFlapjackProducers pushes events as Flapjack's producers do: v2 tools
// (flapjackfeeder, oneoff, the Go client library) push the event and a wake
// token in one MULTI, v1 tools push the event alone. A blocked consumer must
// take both at once: its server-side wait is longer than the test's patience,
// so only the push can end it.
func TestFlapjackProducers(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.BlockTimeout = time.Minute
	opts.ConsumerTimeout = 3 * time.Minute
	s := newStore(t, opts)
	producer := rawClient(t, srv)
	q := s.Queue("events")
	ctx := t.Context()

	v2 := func(event string) {
		_, err := producer.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.LPush(ctx, "events", event)
			p.LPush(ctx, "events_actions", "+")
			return nil
		})
		if err != nil {
			t.Fatalf("v2 push: %v", err)
		}
	}
	v1 := func(event string) {
		if err := producer.LPush(ctx, "events", event).Err(); err != nil {
			t.Fatalf("v1 push: %v", err)
		}
	}
	for _, tc := range []struct {
		name string
		push func(string)
	}{{"Version2", v2}, {"Version1", v1}} {
		t.Run(tc.name, func(t *testing.T) {
			event := fmt.Sprintf(`{"entity":"web-1","check":"HTTP","type":"service","state":"critical","summary":"%s"}`, tc.name)
			done := make(chan []store.Item, 1)
			go func() { done <- reserveWithin(t, q, 10) }()
			time.Sleep(50 * time.Millisecond) // let the consumer block; the test passes either way
			tc.push(event)
			items := <-done
			wantPayloads(t, "Reserve", items, event)
			if err := q.Ack(ctx, items...); err != nil {
				t.Fatalf("Ack: %v", err)
			}
		})
	}

	// Items waiting before the consumer arrives come in order, in one batch.
	v2("a")
	v1("b")
	v2("c")
	wantPayloads(t, "Reserve of waiting events", reserveWithin(t, q, 10), "a", "b", "c")
	if n, err := producer.LLen(ctx, "events_actions").Result(); err != nil || n != 0 {
		t.Errorf("events_actions holds %d tokens (%v) after the queue was emptied, want 0: it must not grow without bound", n, err)
	}
}

// TestWakeTokens checks that Push speaks Flapjack v2's producer protocol when
// asked, for Flapjack v2 consumers of this store's queues.
func TestWakeTokens(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.WakeTokens = true
	s := newStore(t, opts)
	raw := rawClient(t, srv)
	ctx := t.Context()
	if err := s.Queue("events").Push(ctx, []byte("a"), []byte("b")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if got, err := raw.LRange(ctx, "events", 0, -1).Result(); err != nil || !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("events = %q, %v; want [b a] (LPUSH order)", got, err)
	}
	if got, err := raw.LRange(ctx, "events_actions", 0, -1).Result(); err != nil || !slices.Equal(got, []string{"+", "+"}) {
		t.Errorf("events_actions = %q, %v; want one + per event", got, err)
	}
	items, err := s.Queue("events").Reserve(ctx, 1, false)
	if err != nil || len(items) != 1 {
		t.Fatalf("Reserve = %v, %v", items, err)
	}
	if n, _ := raw.LLen(ctx, "events_actions").Result(); n != 1 {
		t.Errorf("events_actions holds %d tokens with 1 event waiting, want 1", n)
	}
}

// TestRecoverSameConsumer kills a consumer holding reserved items; the next
// store with the same consumer id finds them back at the head of the queue, in
// their order, before what arrived meanwhile.
func TestRecoverSameConsumer(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.ConsumerID = "processor@test"
	ctx := t.Context()

	first, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	q := first.Queue("events")
	if err := q.Push(ctx, []byte("e1"), []byte("e2"), []byte("e3"), []byte("e4"), []byte("e5")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	a, err := q.Reserve(ctx, 2, false)
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	b, err := q.Reserve(ctx, 2, true)
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	wantPayloads(t, "first consumer", append(a, b...), "e1", "e2", "e3", "e4")
	if err := q.Ack(ctx, a[1]); err != nil { // e2 was handled
		t.Fatalf("Ack: %v", err)
	}
	first.Close() // as good as killed: Close pushes nothing back

	raw := rawClient(t, srv)
	if n, _ := raw.LLen(ctx, "events:inflight:processor@test").Result(); n != 3 {
		t.Errorf("in-flight list holds %d items after the consumer died, want 3", n)
	}
	second := newStore(t, opts)
	if err := second.Queue("events").Push(ctx, []byte("e6")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	wantPayloads(t, "after restart", drain(t, second.Queue("events")), "e1", "e3", "e4", "e5", "e6")
	if n, _ := raw.LLen(ctx, "events:inflight:processor@test").Result(); n != 0 {
		t.Errorf("in-flight list holds %d items after everything was acknowledged, want 0", n)
	}
}

func drain(t *testing.T, q store.Queue) []store.Item {
	t.Helper()
	var out []store.Item
	for {
		items, err := q.Reserve(t.Context(), 100, false)
		if err != nil {
			t.Fatalf("Reserve: %v", err)
		}
		if len(items) == 0 {
			return out
		}
		if err := q.Ack(t.Context(), items...); err != nil {
			t.Fatalf("Ack: %v", err)
		}
		out = append(out, items...)
	}
}

// TestRecoverDeadConsumer: the items of a consumer whose heartbeat stopped are
// pushed back by another one; those of a live consumer are left alone.
func TestRecoverDeadConsumer(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	raw := rawClient(t, srv)
	ctx := t.Context()
	consumer := func(id string) *Store {
		opts := testOptions(srv)
		opts.ConsumerID = id
		opts.ConsumerTimeout = time.Hour // heartbeats are aged by hand below
		return newStore(t, opts)
	}
	dead, alive, rescuer := consumer("dead"), consumer("alive"), consumer("rescuer")
	if err := dead.Queue("events").Push(ctx, []byte("d1"), []byte("d2"), []byte("a1"), []byte("w")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if items, err := dead.Queue("events").Reserve(ctx, 2, false); err != nil || len(items) != 2 {
		t.Fatalf("Reserve by dead = %v, %v", items, err)
	}
	if items, err := alive.Queue("events").Reserve(ctx, 1, false); err != nil || len(items) != 1 {
		t.Fatalf("Reserve by alive = %v, %v", items, err)
	}
	dead.Close()
	// The dead consumer's last heartbeat was two hours ago.
	if err := raw.ZAdd(ctx, "consumers", redis.Z{Score: float64(time.Now().Add(-2 * time.Hour).UnixMilli()), Member: "dead"}).Err(); err != nil {
		t.Fatalf("ZADD: %v", err)
	}
	if err := rescuer.Recover(ctx); err != nil {
		t.Fatalf("Recover: %v", err)
	}
	wantPayloads(t, "queue after recovery", drain(t, rescuer.Queue("events")), "d1", "d2", "w")
	if n, _ := raw.LLen(ctx, "events:inflight:alive").Result(); n != 1 {
		t.Errorf("live consumer's in-flight list holds %d items, want its 1", n)
	}
	if err := raw.ZScore(ctx, "consumers", "dead").Err(); err != redis.Nil {
		t.Errorf("dead consumer still listed after recovery (%v)", err)
	}
	if n, _ := raw.Exists(ctx, "consumer:dead:inflight").Result(); n != 0 {
		t.Errorf("dead consumer's in-flight registry still exists")
	}
}

// TestHeartbeatRecoversDeadConsumer: nobody calls Recover; the heartbeat of a
// live store does it once the dead consumer's timeout has passed.
func TestHeartbeatRecoversDeadConsumer(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.ConsumerTimeout = 300 * time.Millisecond
	opts.ConsumerID = "short-lived"
	ctx := t.Context()
	dead := newStore(t, opts)
	if err := dead.Queue("alerts").Push(ctx, []byte("x"), []byte("y")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if items, err := dead.Queue("alerts").Reserve(ctx, 5, false); err != nil || len(items) != 2 {
		t.Fatalf("Reserve = %v, %v", items, err)
	}
	dead.Close()
	opts.ConsumerID = "survivor"
	survivor := newStore(t, opts)
	// The survivor's heartbeat pushes the items back; it wakes the blocked wait.
	wantPayloads(t, "recovered", reserveWithin(t, survivor.Queue("alerts"), 5), "x", "y")
}

// TestBlockingReserveWokenByAnotherClient: a wait is ended by a push from a
// client that knows nothing of this store, long before BlockTimeout.
func TestBlockingReserveWokenByAnotherClient(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.BlockTimeout = time.Minute
	opts.ConsumerTimeout = 3 * time.Minute
	s := newStore(t, opts)
	raw := rawClient(t, srv)
	done := make(chan []store.Item, 1)
	go func() { done <- reserveWithin(t, s.Queue("email_notifications"), 1) }()
	time.Sleep(50 * time.Millisecond) // let the consumer block; the test passes either way
	if err := raw.LPush(t.Context(), "email_notifications", "alert").Err(); err != nil {
		t.Fatalf("LPUSH: %v", err)
	}
	wantPayloads(t, "woken Reserve", <-done, "alert")
}

// TestBlockingReserveEndsPromptly: cancellation and Close end a wait at once,
// though the server-side wait is longer than the test's patience.
func TestBlockingReserveEndsPromptly(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.BlockTimeout = time.Minute
	opts.ConsumerTimeout = 3 * time.Minute

	waitFor := func(t *testing.T, what string, done <-chan error, want error) {
		t.Helper()
		select {
		case err := <-done:
			if !errors.Is(err, want) {
				t.Errorf("%s: Reserve returned %v, want %v", what, err, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: Reserve is still waiting", what)
		}
	}
	t.Run("Cancel", func(t *testing.T) {
		flushAll(t, srv)
		s := newStore(t, opts)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := s.Queue("events").Reserve(ctx, 10, true)
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		cancel()
		waitFor(t, "cancelled", done, context.Canceled)
		if err := s.Queue("events").Push(t.Context(), []byte("after")); err != nil {
			t.Fatalf("Push: %v", err)
		}
		wantPayloads(t, "after a cancelled wait", drain(t, s.Queue("events")), "after")
	})
	t.Run("Close", func(t *testing.T) {
		flushAll(t, srv)
		s := newStore(t, opts)
		done := make(chan error, 1)
		go func() {
			_, err := s.Queue("events").Reserve(t.Context(), 10, true)
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		waitFor(t, "closed", done, ErrClosed)
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
		if _, err := s.Queue("events").Reserve(t.Context(), 1, true); !errors.Is(err, ErrClosed) {
			t.Errorf("Reserve after Close = %v, want ErrClosed", err)
		}
	})
}

// TestServerRestart stops Redis between operations: the store reports it as
// unavailable, then works again once the server is back, without being made
// anew, and what it wrote before the stop is still there.
func TestServerRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{AppendOnly: true})
	opts := testOptions(srv)
	s := newStore(t, opts)
	ctx := t.Context()
	q := s.Queue("events")

	before := update(t, s, "web-1:http", func(u *store.CheckUpdate) error {
		u.Check.NotificationCount = 1
		u.History = append(u.History, flapjack.State{CreatedAt: time.Now(), Condition: flapjack.Critical})
		return nil
	})
	if err := q.Push(ctx, []byte("e1")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	reserved, err := q.Reserve(ctx, 10, false)
	if err != nil || len(reserved) != 1 {
		t.Fatalf("Reserve = %v, %v", reserved, err)
	}
	// A wait that times out leaves an idle blocking connection, which the
	// restart will break.
	shortCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	if _, err := q.Reserve(shortCtx, 1, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocking Reserve on an empty queue = %v, want the context's deadline", err)
	}
	cancel()
	if err := q.Push(ctx, []byte("e2"), []byte("e3")); err != nil {
		t.Fatalf("Push: %v", err)
	}

	srv.Stop()
	_, err = s.Check(ctx, "web-1:http")
	if err == nil || !IsUnavailable(err) {
		t.Errorf("Check with the server stopped = %v; want an error IsUnavailable accepts", err)
	}
	if _, err := s.UpdateCheck(ctx, "web-1:http", false, func(*store.CheckUpdate) error { return nil }); err == nil || !IsUnavailable(err) {
		t.Errorf("UpdateCheck with the server stopped = %v; want an error IsUnavailable accepts", err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if _, err := q.Reserve(waitCtx, 1, true); err == nil || !IsUnavailable(err) {
		t.Errorf("blocking Reserve with the server stopped = %v; want an error IsUnavailable accepts", err)
	}
	cancel()

	srv.Restart()
	// go-redis may need a moment to notice the server is back.
	var got flapjack.Check
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err = s.Check(ctx, "web-1:http")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Check after the restart: %v", err)
	}
	if got.ID != before.ID || got.NotificationCount != 1 {
		t.Errorf("check after the restart = %+v, want the one written before", got)
	}
	if h, err := s.History(ctx, before.ID); err != nil || len(h) != 1 {
		t.Errorf("History after the restart = %d entries, %v; want 1", len(h), err)
	}
	update(t, s, "web-1:http", func(u *store.CheckUpdate) error {
		u.Check.NotificationCount++
		return nil
	})
	raw := rawClient(t, srv)
	inflight := "events:inflight:" + s.ConsumerID()
	if got, err := raw.LRange(ctx, inflight, 0, -1).Result(); err != nil || !slices.Equal(got, []string{"e1"}) {
		t.Errorf("in-flight list after the restart = %q, %v; want [e1]", got, err)
	}
	if err := q.Ack(ctx, reserved...); err != nil {
		t.Errorf("Ack after the restart of an item reserved before: %v", err)
	}
	if n, err := raw.LLen(ctx, inflight).Result(); err != nil || n != 0 {
		t.Errorf("in-flight list holds %d items after Ack, %v; want none", n, err)
	}
	items := reserveWithin(t, q, 10)
	wantPayloads(t, "blocking Reserve after the restart", items, "e2", "e3")
	if err := q.Ack(ctx, items...); err != nil {
		t.Errorf("Ack: %v", err)
	}
	done := make(chan []store.Item, 1)
	go func() { done <- reserveWithin(t, q, 10) }()
	time.Sleep(50 * time.Millisecond)
	if err := q.Push(ctx, []byte("e4")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	wantPayloads(t, "woken Reserve after the restart", <-done, "e4")
}

func update(t *testing.T, s *Store, name string, fn func(*store.CheckUpdate) error) flapjack.Check {
	t.Helper()
	c, err := s.UpdateCheck(t.Context(), name, true, fn)
	if err != nil {
		t.Fatalf("UpdateCheck(%q): %v", name, err)
	}
	return c
}

// collidingIDs are two ids whose SHA-1 sums share their first 4 bytes, so their
// ack hashes are equal.
var collidingIDs = [2]string{"check-21643", "check-23495"}

// TestAckHashUniqueAcrossStores: two stores, as two processes would, creating
// checks whose ids collide on the ack hash; the second must take another id.
func TestAckHashUniqueAcrossStores(t *testing.T) {
	if a, b := ackHash(collidingIDs[0]), ackHash(collidingIDs[1]); a != b {
		t.Fatalf("ackHash(%q) = %s and ackHash(%q) = %s; the test needs them equal", collidingIDs[0], a, collidingIDs[1], b)
	}
	srv := redistest.Start(t, redistest.Config{})
	one, two := newStore(t, testOptions(srv)), newStore(t, testOptions(srv))
	ids := func(list ...string) func() string {
		return func() string {
			id := list[0]
			list = list[1:]
			return id
		}
	}
	one.newID = ids(collidingIDs[0])
	two.newID = ids(collidingIDs[1], "check-fresh")
	noop := func(*store.CheckUpdate) error { return nil }

	first := update(t, one, "a:1", noop)
	second := update(t, two, "b:2", noop)
	if first.ID != collidingIDs[0] {
		t.Errorf("first check got id %q, want %q", first.ID, collidingIDs[0])
	}
	if second.ID != "check-fresh" {
		t.Errorf("second check got id %q, want %q: the colliding id must be skipped", second.ID, "check-fresh")
	}
	if c, err := two.CheckByAckHash(t.Context(), first.AckHash); err != nil || c.Name != "a:1" {
		t.Errorf("CheckByAckHash(%s) = %q, %v; want a:1", first.AckHash, c.Name, err)
	}

	// An aborted creation gives its claim back.
	one.newID = func() string { return "the-only-id" }
	boom := errors.New("boom")
	if _, err := one.UpdateCheck(t.Context(), "c:3", true, func(*store.CheckUpdate) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateCheck = %v, want %v", err, boom)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if c, err := one.UpdateCheck(ctx, "d:4", true, noop); err != nil || c.ID != "the-only-id" {
		t.Errorf("UpdateCheck after an aborted creation = %q, %v; want the id given back", c.ID, err)
	}
}

// lostReplies makes the next n queue-moving commands fail after the server ran
// them, as a connection dropped before the reply would.
type lostReplies struct{ n *atomic.Int32 }

func (h lostReplies) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h lostReplies) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h lostReplies) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && h.n.Add(-1) >= 0 {
			err = io.ErrUnexpectedEOF
			cmd.SetErr(err)
		}
		return err
	}
}

// TestLostReplyPushesItemsBack: items moved by a reservation whose reply was
// lost are not stranded in the in-flight list of a consumer that lives on.
func TestLostReplyPushesItemsBack(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	s := newStore(t, testOptions(srv))
	ctx := t.Context()
	q := s.Queue("events")
	if err := q.Push(ctx, []byte("e1"), []byte("e2"), []byte("e3")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	lost := &atomic.Int32{}
	s.qdb.AddHook(lostReplies{lost})
	lost.Store(1)
	if items, err := q.Reserve(ctx, 2, false); err == nil {
		t.Fatalf("Reserve with a lost reply = %q, want an error", payloads(items))
	}
	wantPayloads(t, "after the lost reply", drain(t, q), "e1", "e2", "e3")
	raw := rawClient(t, srv)
	keys, _ := raw.Keys(ctx, "events:inflight:*").Result()
	for _, k := range keys {
		if n, _ := raw.LLen(ctx, k).Result(); n != 0 {
			t.Errorf("%s still holds %d items", k, n)
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"ClusterWithoutHashTag", Options{Addrs: []string{"a:1", "b:2"}, Prefix: "fj:"}, "hash tag"},
		{"ClusterWithDB", Options{Cluster: true, Prefix: "{fj}", DB: 3}, "database 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(t.Context(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url     string
		want    Options
		tls     bool
		wantErr string
	}{
		{url: "redis://localhost", want: Options{Addrs: []string{"localhost:6379"}}},
		{url: "redis://", want: Options{Addrs: []string{"localhost:6379"}}},
		{url: "redis://10.0.0.1:6380/13", want: Options{Addrs: []string{"10.0.0.1:6380"}, DB: 13}},
		{url: "redis://[::1]:7000/2", want: Options{Addrs: []string{"[::1]:7000"}, DB: 2}},
		{url: "redis://:s3cret@redis.example:6379/1", want: Options{Addrs: []string{"redis.example:6379"}, Password: "s3cret", DB: 1}},
		{url: "redis://flapjack:s3cret@redis.example", want: Options{Addrs: []string{"redis.example:6379"}, Username: "flapjack", Password: "s3cret"}},
		{url: "rediss://redis.example:6380", want: Options{Addrs: []string{"redis.example:6380"}}, tls: true},
		{url: "unix:///run/redis/redis.sock", want: Options{Addrs: []string{"/run/redis/redis.sock"}}},
		{url: "unix://:pw@/run/redis.sock?db=6", want: Options{Addrs: []string{"/run/redis.sock"}, Password: "pw", DB: 6}},
		{url: "redis://s1:26379/0?master_name=mymaster&addr=s2:26379&addr=s3:26379&sentinel_password=sp",
			want: Options{Addrs: []string{"s1:26379", "s2:26379", "s3:26379"}, MasterName: "mymaster", SentinelPassword: "sp"}},
		{url: "redis://n1:7000?addr=n2:7000&prefix=%7Bfj%7D:",
			want: Options{Addrs: []string{"n1:7000", "n2:7000"}, Prefix: "{fj}:"}},
		{url: "redis://n1:7000?cluster=true&prefix=%7Bfj%7D:", want: Options{Addrs: []string{"n1:7000"}, Cluster: true, Prefix: "{fj}:"}},
		{url: "redis://localhost/?db=4&consumer=processor@web-1&consumer_timeout=2m&block_timeout=500ms&wake_tokens=true&tx_retries=7",
			want: Options{Addrs: []string{"localhost:6379"}, DB: 4, ConsumerID: "processor@web-1", ConsumerTimeout: 2 * time.Minute,
				BlockTimeout: 500 * time.Millisecond, WakeTokens: true, TxRetries: 7}},
		{url: "redis://localhost?dial_timeout=3&read_timeout=1.5s&write_timeout=2s&pool_size=20&max_retries=-1",
			want: Options{Addrs: []string{"localhost:6379"}, DialTimeout: 3 * time.Second, ReadTimeout: 1500 * time.Millisecond,
				WriteTimeout: 2 * time.Second, PoolSize: 20, MaxRetries: -1}},
		{url: "http://localhost", wantErr: "unknown scheme"},
		{url: "unix://", wantErr: "socket path"},
		{url: "redis://localhost/x", wantErr: "database"},
		{url: "redis://localhost?colour=blue", wantErr: `unknown parameter "colour"`},
		{url: "redis://localhost?addr=nowhere", wantErr: "not host:port"},
		{url: "redis://localhost?block_timeout=soon", wantErr: "block_timeout"},
		{url: "redis://localhost?pool_size=many&cluster=maybe", wantErr: "pool_size"},
		{url: "redis://localhost?skip_verify=true", wantErr: "only for rediss"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseURL = %+v, %v; want an error about %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if (got.TLSConfig != nil) != tc.tls {
				t.Errorf("TLSConfig = %v, want TLS %t", got.TLSConfig, tc.tls)
			}
			got.TLSConfig = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseURL =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}
}

func TestNewFailsWithoutServer(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	srv.Stop()
	_, err := New(t.Context(), opts)
	if err == nil || !IsUnavailable(err) {
		t.Errorf("New with no server = %v; want an error IsUnavailable accepts", err)
	}
}

// TestProcessorOnRedis runs the processor on this store, fed as flapjackfeeder
// feeds Flapjack: the event is taken at once, the check recorded and the
// notification enqueued.
func TestProcessorOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.BlockTimeout = time.Minute
	opts.ConsumerTimeout = 3 * time.Minute
	s := newStore(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- processor.New(s, processor.Options{}).Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	}()

	producer := rawClient(t, srv)
	event := fmt.Sprintf(`{"entity":"web-1","check":"HTTP","type":"service","state":"critical","summary":"down","initial_failure_delay":0,"time":%d}`, time.Now().Unix())
	if _, err := producer.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, "events", event)
		p.LPush(ctx, "events_actions", "+")
		return nil
	}); err != nil {
		t.Fatalf("push: %v", err)
	}
	items := reserveWithin(t, s.Queue("notifications"), 10)
	if len(items) != 1 || !strings.Contains(string(items[0].Payload), "web-1:HTTP") {
		t.Errorf("notifications = %q, want one for web-1:HTTP", payloads(items))
	}
	if c, err := s.Check(ctx, "web-1:HTTP"); err != nil || c.Condition != flapjack.Critical {
		t.Errorf("Check(web-1:HTTP) = %+v, %v; want it critical", c, err)
	}
	if n, err := producer.LLen(ctx, "events").Result(); err != nil || n != 0 {
		t.Errorf("events holds %d items, %v; want none", n, err)
	}
}

// TestUnixSocketWithACLUser connects through a unix socket as an ACL user that
// may not run administrative commands such as CLIENT UNBLOCK: cancelling a
// blocking Reserve then waits for the end of the server-side wait.
func TestUnixSocketWithACLUser(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "redis.sock")
	redistest.Start(t, redistest.Config{Args: []string{
		"--unixsocket", socket, "--unixsocketperm", "700",
		"--user", "flapjack", "on", ">s3cret", "~*", "&*", "+@all", "-@admin",
	}})
	s, err := NewFromURL(t.Context(), "unix://flapjack:s3cret@"+socket+"?db=3&consumer=acl-test")
	if err != nil {
		t.Fatalf("NewFromURL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.UpdateCheck(t.Context(), "web-1:http", true, func(*store.CheckUpdate) error { return nil }); err != nil {
		t.Fatalf("UpdateCheck: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Queue("events").Reserve(ctx, 1, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("blocking Reserve = %v, want the context's deadline", err)
	}
	if err := s.Queue("events").Push(t.Context(), []byte("after")); err != nil {
		t.Fatalf("Push: %v", err)
	}
	wantPayloads(t, "after an abandoned wait", drain(t, s.Queue("events")), "after")
}

// TestWaitsDoNotStarveThePool: more consumers waiting than PoolSize allows
// connections, and the store still serves everything else.
func TestWaitsDoNotStarveThePool(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	opts := testOptions(srv)
	opts.PoolSize = 2
	s := newStore(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	const waiters = 8
	done := make(chan error, waiters)
	for i := range waiters {
		go func() {
			_, err := s.Queue(fmt.Sprintf("idle-%d", i)).Reserve(ctx, 1, true)
			done <- err
		}()
	}
	time.Sleep(100 * time.Millisecond) // let them wait; the test passes either way
	q := s.Queue("events")
	for i := range 20 {
		if err := q.Push(t.Context(), []byte("e")); err != nil {
			t.Fatalf("Push %d while consumers wait: %v", i, err)
		}
		items, err := q.Reserve(t.Context(), 1, true)
		if err != nil || len(items) != 1 {
			t.Fatalf("Reserve %d while consumers wait = %d items, %v", i, len(items), err)
		}
		if err := q.Ack(t.Context(), items...); err != nil {
			t.Fatalf("Ack %d while consumers wait: %v", i, err)
		}
		update(t, s, "web-1:http", func(u *store.CheckUpdate) error { return nil })
	}
	cancel()
	for range waiters {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("waiting Reserve = %v, want context.Canceled", err)
		}
	}
}
