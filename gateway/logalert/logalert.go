// Package logalert is the "log" gateway: it writes each alert as one structured
// log line instead of delivering it. It lets a new installation, a test pipeline
// or a dry run see exactly who would have been alerted, and with what, without
// contacting anyone.
//
// The message is the log form of the alert, for example
//
//	Alert via sms:+61400000001 to contact c1 (Ada): Problem - 'app-01:HTTP' is Critical - HTTP 500
//
// rendered by the "log" templates (overridable like any other), and the line
// carries the attributes alert_id, check, type, rollup, transport and address so
// that log queries need not parse the message.
package logalert

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// Transport is the transport name the gateway registers under.
const Transport = "log"

func init() {
	gateway.Register(Transport, func(_ gateway.Config, env gateway.Env) (gateway.Gateway, error) {
		return New(env), nil
	})
}

// Gateway logs alerts at INFO level.
type Gateway struct {
	logger    *slog.Logger
	templates *gateway.Templates
}

// New returns a log gateway writing to env.Logger and rendering with
// env.Templates (defaults as in [gateway.Env.WithDefaults]).
func New(env gateway.Env) *Gateway {
	env = env.WithDefaults()
	return &Gateway{logger: env.Logger, templates: env.Templates}
}

// Send logs a. It fails only when ctx is already done or the template cannot
// render a, which no retry would change.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("log alert: %w", err)
	}
	msg, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("log alert: %w", err))
	}
	g.logger.LogAttrs(ctx, slog.LevelInfo, msg,
		slog.String("alert_id", a.ID),
		slog.String("check", a.CheckName),
		slog.String("type", string(a.Type)),
		slog.String("rollup", string(a.Rollup)),
		slog.String("transport", a.Transport),
		slog.String("address", a.Address),
	)
	return nil
}

var _ gateway.Gateway = (*Gateway)(nil)
