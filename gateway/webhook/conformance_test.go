package webhook_test

import (
	"net/url"
	"testing"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/webhook"
)

func TestConformance(t *testing.T) {
	const (
		password = "pa55-w0rd-in-url"
		token    = "t0ken-in-query"
		bearer   = "b34rer-t0ken-header"
		signing  = "whsec-s1gning-secret"
	)
	for _, tc := range []struct {
		name       string
		configured bool // the URL is configured; else it is the medium address
	}{{"address URL", false}, {"configured URL", true}} {
		t.Run(tc.name, func(t *testing.T) {
			gatewaytest.Run(t, gatewaytest.Harness{
				Transport: webhook.Transport,
				Failures:  gatewaytest.HTTPFailures(),
				New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
					ep := gatewaytest.NewHTTPEndpoint(t)
					u, err := url.Parse(ep.URL)
					if err != nil {
						t.Fatal(err)
					}
					u.User = url.UserPassword("flapjack", password)
					u.Path, u.RawQuery = "/hooks/flapjack", "token="+token
					cfg := webhook.Config{Headers: map[string]string{"Authorization": "Bearer " + bearer}, Secret: signing}
					address := u.String()
					if tc.configured {
						cfg.URL, address = u.String(), "ops@example.com"
					}
					g, err := webhook.New(cfg, env)
					if err != nil {
						t.Fatal(err)
					}
					return gatewaytest.Target{
						Gateway: g, Address: address, Delivered: ep.Delivered, Fail: ep.Fail,
						Secrets: []string{password, token, bearer, signing},
					}
				},
			})
		})
	}
}
