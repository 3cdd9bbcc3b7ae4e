package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/webhook"
	"github.com/x/flapjack/store/memory"
)

// TestEndpointOutageLosesNothing takes a gateway's endpoint down, sends alerts
// while it is down, brings it back, and sees every alert delivered exactly once.
func TestEndpointOutageLosesNothing(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	var mu sync.Mutex
	delivered := map[string]int{}
	refused := atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			refused.Add(1)
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		var a flapjack.Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		delivered[a.ID]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	gw, err := webhook.New(webhook.Config{URL: srv.URL}, gateway.Env{}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	defer st.Close()
	const alerts = 20
	d := gateway.NewDelivery(st, "webhook", "webhook_notifications", gw, gateway.DeliveryOptions{
		Workers:     4,
		MaxAttempts: 1000, // an outage of this length must not exhaust them
		Backoff:     time.Millisecond,
		MaxBackoff:  5 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	q := st.Queue("webhook_notifications")
	for i := range alerts {
		a := flapjack.Alert{ID: fmt.Sprintf("alert-%02d", i), Transport: "webhook", CheckName: "web:http", Type: flapjack.TypeProblem}
		b, _ := json.Marshal(&a)
		if err := q.Push(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// The endpoint stays down until every worker has been refused several times.
	eventually(t, "the gateway to retry against the down endpoint", func() bool { return refused.Load() >= 3*4 })
	down.Store(false)
	eventually(t, "every alert to be delivered after the endpoint returned", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == alerts
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("%s delivered %d times, want exactly once", id, n)
		}
	}
	if dl, err := gateway.DeadLetters(context.Background(), st, "webhook_notifications", 100); err != nil || len(dl) != 0 {
		t.Errorf("dead letters = %d, %v; want none", len(dl), err)
	}
	if n, _ := q.Len(context.Background()); n != 0 {
		t.Errorf("%d alerts left on the queue", n)
	}
}
