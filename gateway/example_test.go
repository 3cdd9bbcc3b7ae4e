package gateway_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// Printer is a custom gateway: it writes each alert's text to a writer. A real one
// would post it to a chat service or a pager.
type Printer struct {
	prefix    string
	out       io.Writer
	templates *gateway.Templates
}

// PrinterConfig is the printer's configuration section.
type PrinterConfig struct {
	Prefix string `json:"prefix"` // default: none
}

// Send renders the alert with the "printer" templates and writes it.
func (p *Printer) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	text, err := p.templates.Render("printer", gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		// A template that cannot render this alert will not render it next time.
		return gateway.Permanent(err)
	}
	_, err = fmt.Fprintln(p.out, p.prefix+text)
	return err
}

// Registering from init makes the transport available to every program that
// imports the package.
func init() {
	gateway.Register("printer", func(cfg gateway.Config, env gateway.Env) (gateway.Gateway, error) {
		var c PrinterConfig
		if err := cfg.Decode(&c); err != nil {
			return nil, err
		}
		return &Printer{prefix: c.Prefix, out: os.Stdout, templates: env.Templates}, nil
	})
}

var _ gateway.Gateway = (*Printer)(nil)

func Example() {
	// The printer's texts: its own alert template, and the SMS rollup text.
	templates := gateway.DefaultTemplates()
	if err := templates.Override("printer", "alert.text",
		`{{.TypeSentenceCase}}: {{.CheckName}} is {{.StateTitleCase}} ({{words .ConditionDuration}})`); err != nil {
		fmt.Println(err)
		return
	}
	if err := templates.Override("printer", "rollup.text",
		`{{.TypeSentenceCase}}: {{.RollupStatesSummary}}`); err != nil {
		fmt.Println(err)
		return
	}

	g, err := gateway.New("printer", gateway.MapConfig{"prefix": "[flapjack] "}, gateway.Env{Templates: templates})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	_ = g.Send(ctx, &flapjack.Alert{
		Transport: "printer", CheckName: "web-01:HTTP", Type: flapjack.TypeProblem,
		Condition: flapjack.Critical, ConditionDuration: 5 * time.Minute,
	})
	_ = g.Send(ctx, &flapjack.Alert{
		Transport: "printer", Type: flapjack.TypeProblem, Rollup: flapjack.RollupProblem,
		RollupStates: map[flapjack.Condition][]string{
			flapjack.Critical: {"web-01:HTTP", "web-02:HTTP"},
			flapjack.Warning:  {"db-01:disk"},
		},
	})
	// Output:
	// [flapjack] Problem: web-01:HTTP is Critical (5 minutes)
	// [flapjack] Problem summary: Critical: 2, Warning: 1
}
