package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/store/memory"
)

// Pager is a gateway whose service refuses a number it does not know, until
// someone registers it.
type Pager struct{ registered atomic.Bool }

func (p *Pager) Send(ctx context.Context, a *flapjack.Alert) error {
	if a.Address == "+61400000009" && !p.registered.Load() {
		return gateway.Permanent(errors.New("pager: number not registered"))
	}
	return nil
}

// ExampleDelivery delivers a transport's queue through a gateway, finds the alert
// it could not deliver among the dead letters, and re-drives it once the cause is
// fixed.
func ExampleDelivery() {
	st := memory.New()
	defer st.Close()
	pager := &Pager{}
	d := gateway.NewDelivery(st, "pager", "pager_notifications", pager, gateway.DeliveryOptions{
		MaxAttempts: 5, Backoff: time.Millisecond, Workers: 2,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	for _, a := range []flapjack.Alert{
		{ID: "a1", Transport: "pager", Address: "+61400000001", CheckName: "web-01:HTTP", Type: flapjack.TypeProblem},
		{ID: "a2", Transport: "pager", Address: "+61400000009", CheckName: "web-01:HTTP", Type: flapjack.TypeProblem},
	} {
		payload, _ := a.MarshalJSON()
		_ = st.Queue("pager_notifications").Push(ctx, payload)
	}
	settled := func(n uint64) {
		for s := d.Metrics().Snapshot(); s.Sent+s.DeadLettered < n; s = d.Metrics().Snapshot() {
			time.Sleep(time.Millisecond)
		}
	}
	settled(2)

	dead, _ := d.DeadLetters(ctx, 10)
	for _, dl := range dead {
		a, _ := dl.DecodeAlert()
		fmt.Printf("dead letter %s after %d attempt(s), permanent %v: %s\n", a.ID, dl.Attempts, dl.Permanent, dl.Error)
	}

	pager.registered.Store(true)
	n, _ := d.Redrive(ctx, 0)
	fmt.Println("re-driven:", n)
	settled(3)

	cancel()
	<-done
	s := d.Metrics().Snapshot()
	fmt.Printf("sent %d, failed %d, dead-lettered %d\n", s.Sent, s.Failed, s.DeadLettered)
	// Output:
	// dead letter a2 after 1 attempt(s), permanent true: pager: number not registered
	// re-driven: 1
	// sent 2, failed 1, dead-lettered 1
}
