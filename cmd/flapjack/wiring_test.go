package main

import (
	"log/slog"
	"testing"

	"github.com/x/flapjack/config"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/pagerduty"
	"github.com/x/flapjack/store/memory"
)

// TestDeliveryOptionsOverDefaults: a gateway's own delivery defaults (PagerDuty's
// rate limit per integration key) hold unless the user's table changes them.
func TestDeliveryOptionsOverDefaults(t *testing.T) {
	defaults := pagerduty.DeliveryDefaults()
	for _, c := range []struct {
		name    string
		table   map[string]any
		rate    float64
		key     gateway.RateKey
		workers int // 0: the delivery layer's default
	}{
		{"no table", nil, 2, gateway.RatePerAddress, 0},
		{"workers only", map[string]any{"workers": 3}, 2, gateway.RatePerAddress, 3},
		{"rate changed", map[string]any{"rate": 0.5}, 0.5, gateway.RatePerAddress, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := deliveryOptions("pagerduty", defaults, c.table)
			if err != nil {
				t.Fatal(err)
			}
			if o.Rate != c.rate || o.RateKey != c.key || o.Workers != c.workers {
				t.Errorf("options rate %v key %q workers %d; want %v %q %d", o.Rate, o.RateKey, o.Workers, c.rate, c.key, c.workers)
			}
		})
	}
	if _, err := deliveryOptions("pagerduty", defaults, map[string]any{"rate_key": "per_moon"}); err == nil {
		t.Error("an invalid rate_key was accepted")
	}
}

// TestAckPollerWiring: the poller runs unless ack_polling is false, and sends its
// acknowledgements to the processor's queue by default.
func TestAckPollerWiring(t *testing.T) {
	cfg := &config.Config{Processor: config.Processor{Queue: "incoming"}}
	env := gateway.Env{}.WithDefaults()
	log := slog.New(slog.DiscardHandler)
	st := memory.New()
	defer st.Close()

	p, err := ackPoller(cfg, st, map[string]any{}, env, log)
	if err != nil || p == nil {
		t.Fatalf("ackPoller with defaults = %v, %v; want a poller", p, err)
	}
	p, err = ackPoller(cfg, st, map[string]any{"ack_polling": false}, env, log)
	if err != nil || p != nil {
		t.Fatalf("ackPoller with ack_polling = false: %v, %v; want none", p, err)
	}
	if _, err := ackPoller(cfg, st, map[string]any{"ack_polling": "sometimes"}, env, log); err == nil {
		t.Error("a non-boolean ack_polling was accepted")
	}
}
