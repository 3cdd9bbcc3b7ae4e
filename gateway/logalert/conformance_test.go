package logalert_test

import (
	"log/slog"
	"testing"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/logalert"
)

// TestConformance runs the suite with the log lines as the endpoint: each alert
// is one line. The log gateway has no credentials and no endpoint that can fail.
func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: logalert.Transport,
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			delivered := gatewaytest.NewLogs()
			env.Logger = slog.New(slog.NewMultiHandler(env.Logger.Handler(), delivered.Handler()))
			return gatewaytest.Target{Gateway: logalert.New(env), Address: "+61400000001", Delivered: delivered.Lines}
		},
	})
}
