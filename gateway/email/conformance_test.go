package email_test

import (
	"testing"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/email"
	"github.com/x/flapjack/gateway/gatewaytest"
)

const (
	fakeUser     = "flapjack"
	fakePassword = "Pa55-w0rd-smtp"
)

func TestConformance(t *testing.T) {
	for _, mech := range []string{"plain", "login", "cram_md5"} {
		t.Run(mech, func(t *testing.T) {
			gatewaytest.Run(t, gatewaytest.Harness{
				Transport: email.Transport,
				Failures:  fakeFailures,
				New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
					srv := startFakeSMTP(t, fakeUser, fakePassword)
					g, err := email.New(email.Config{SMTP: email.SMTPConfig{
						Host: srv.Host, Port: srv.Port, From: "flapjack@example.com",
						Authentication: mech, Username: fakeUser, Password: fakePassword,
						Timeout: 5,
					}}, env)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = g.Close() })
					return gatewaytest.Target{
						Gateway: g, Address: "ada@example.com", Delivered: srv.Delivered, Fail: srv.Fail,
						Secrets: []string{fakePassword},
					}
				},
			})
		})
	}
}
