package pagerduty_test

import (
	"context"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/pagerduty"
)

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: pagerduty.Transport,
		Failures:  gatewaytest.HTTPFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := pagerduty.New(pagerduty.Config{EventsURL: ep.URL + enqueuePath}, env)
			if err != nil {
				t.Fatal(err)
			}
			return gatewaytest.Target{
				Gateway: singleChecks{t: t, g: g}, Address: routingKey, Delivered: ep.Delivered, Fail: ep.Fail,
				Secrets: []string{routingKey},
			}
		},
	})
}

// singleChecks stands in for the notifier, which never hands a pagerduty
// medium a rollup (the set-up data refuses a rollup threshold for one): the
// suite's rollup alerts reach the gateway as the single-check alert of the
// first check they name, after the gateway was seen to refuse the rollup
// itself as a permanent failure, sending nothing. TestRefused checks the
// refusal on its own.
type singleChecks struct {
	t *testing.T
	g *pagerduty.Gateway
}

func (s singleChecks) Send(ctx context.Context, a *flapjack.Alert) error {
	if a.Rollup == flapjack.NoRollup {
		return s.g.Send(ctx, a)
	}
	if err := s.g.Send(context.Background(), a); !gateway.IsPermanent(err) {
		s.t.Errorf("a %s rollup: Send = %v, want a permanent refusal", a.Rollup, err)
	}
	single := *a
	single.Rollup, single.RollupStates, single.RollupThreshold = flapjack.NoRollup, nil, 0
	for _, c := range flapjack.UnhealthyConditions {
		if names := a.RollupStates[c]; len(names) > 0 {
			single.CheckName = names[0]
			break
		}
	}
	return s.g.Send(ctx, &single)
}
