// Package threema is the "threema" gateway: it sends each alert's text as a
// Threema message through the Threema Gateway, in its basic mode (encrypted
// between Flapjack and Threema's servers, and from there to the recipient).
//
//	[gateways.threema]
//	enabled = true
//	from = "*FLAPJAK"                 # required: the gateway ID
//	secret = "s3cret"                 # required: the ID's API secret
//	endpoint_host = "msgapi.threema.ch" # the default
//	endpoint_path = "/send_simple"      # the default
//	timeout = 10                        # seconds, the default
//
// Each alert becomes one HTTPS POST of the form from, phone, text and secret to
// https://msgapi.threema.ch/send_simple. phone is the medium's address, a
// phone number, without the leading "+" Threema does not take; text is the
// "threema" template's text, cut to 3000 characters and 3500 bytes (the last
// three characters then "...").
//
// A 2xx response is a delivery. 408, 429 and 5xx may be retried; other 4xx are
// permanent: 400 (an invalid recipient, or an ID not in basic mode), 401 (a
// refused ID or secret), 402 (no credits left), 404 (no Threema user has that
// phone number) and 413 (a text too long). No error or log line shows the
// secret.
package threema

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/internal/endpoint"
)

// Transport is the transport name the gateway registers under.
const Transport = "threema"

// The defaults of Config, and the longest text sent: MaxLength characters
// and, as Threema counts, MaxBytes bytes of UTF-8.
const (
	DefaultEndpointHost = "msgapi.threema.ch"
	DefaultEndpointPath = "/send_simple"
	MaxLength           = 3000
	MaxBytes            = 3500
)

// Config is the gateway's configuration section.
type Config struct {
	// From is the gateway ID messages are sent from: 8 characters, the first
	// "*". Required.
	From string `json:"from"`
	// Secret is the ID's API secret. Required.
	Secret string `json:"secret"`
	// EndpointHost is the API's host, with an optional ":port"; written
	// "http://host:port" it is reached without TLS (for a test double).
	// Default: "msgapi.threema.ch".
	EndpointHost string `json:"endpoint_host"`
	// EndpointPath is the path of the sending method. Default: "/send_simple".
	EndpointPath string `json:"endpoint_path"`
	// Timeout is how long one delivery may take, in seconds. Default: 10.
	Timeout float64 `json:"timeout"`
}

func init() {
	gateway.Register(Transport, func(cfg gateway.Config, env gateway.Env) (gateway.Gateway, error) {
		var c Config
		if err := cfg.Decode(&c); err != nil {
			return nil, err
		}
		return New(c, env)
	})
}

// Gateway sends alerts as Threema messages.
type Gateway struct {
	url       *url.URL
	from      string
	secret    string
	timeout   time.Duration
	client    *http.Client
	templates *gateway.Templates
}

// New returns a Threema gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{from: cfg.From, secret: cfg.Secret, client: env.HTTPClient, templates: env.Templates}
	var errs []error
	switch {
	case cfg.From == "":
		errs = append(errs, errors.New("from: required: the gateway ID, such as *FLAPJAK"))
	case len(cfg.From) != 8 || cfg.From[0] != '*':
		errs = append(errs, fmt.Errorf("from: %q is not a gateway ID: want 8 characters, the first *", cfg.From))
	}
	if cfg.Secret == "" {
		errs = append(errs, errors.New("secret: required"))
	}
	u, uerrs := endpoint.URL(cfg.EndpointHost, cfg.EndpointPath, DefaultEndpointHost, DefaultEndpointPath)
	errs = append(errs, uerrs...)
	timeout, err := endpoint.Timeout(cfg.Timeout)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g.url, g.timeout = u, timeout
	endpoint.WarnPlain(env.Logger, Transport, u)
	return g, nil
}

// Send sends a's text to the phone number that is a's address. An empty
// address, a template that cannot render a, and a 4xx response other than 408
// and 429 are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("threema: %w", err)
	}
	phone := strings.TrimPrefix(strings.TrimSpace(a.Address), "+")
	if phone == "" {
		return gateway.Permanent(errors.New("threema: the medium has no address (phone number)"))
	}
	text, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("threema: %w", err))
	}
	form := url.Values{"from": {g.from}, "phone": {phone}, "text": {fit(text)}, "secret": {g.secret}}
	req := gateway.HTTPRequest{
		Method: http.MethodPost, URL: g.url, Body: []byte(form.Encode()), Timeout: g.timeout,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
	}
	if _, err := req.Do(ctx, g.client); err != nil {
		return fmt.Errorf("threema: %w", err)
	}
	return nil
}

// fit cuts text to MaxLength characters and MaxBytes bytes, ending a cut text
// with "...".
func fit(text string) string {
	text = gateway.Truncate(text, MaxLength)
	if len(text) <= MaxBytes {
		return text
	}
	i := MaxBytes - len("...")
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	return text[:i] + "..."
}

var _ gateway.Gateway = (*Gateway)(nil)
