// Package slack is the "slack" gateway: it posts each alert's text to a Slack
// incoming webhook.
//
//	[gateways.slack]
//	enabled = true
//	endpoint = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"  # required
//	account_sid = "flapjack"    # the name the messages are posted as
//	icon_emoji = ":ghost:"      # the default
//	timeout = 10                # seconds, the default
//
// Each alert becomes one POST of a JSON body, as incoming webhooks expect:
//
//	{"channel":"#ops","username":"flapjack","text":"Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500","icon_emoji":":ghost:"}
//
// The channel is "#" and the medium's address ("#general" when the address is
// empty; an address starting with "#" or "@" is used as it is). Webhooks created
// by a Slack app post to the channel chosen when they were created and ignore
// channel, username and icon_emoji; legacy webhooks honour them. The text is the
// "slack" templates' (by default the SMS texts). Flapjack v2 posted the same
// object form-encoded as payload=<json>, which Slack still accepts; the JSON
// body is the form Slack documents.
//
// A 2xx response is a delivery. 429 (rate limited, its Retry-After honoured by
// the delivery layer) and 5xx may be retried; other 4xx (invalid_payload,
// channel_not_found, channel_is_archived, action_prohibited, no_service…) are
// permanent. The endpoint URL is a credential: no error or log line shows it.
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// Transport is the transport name the gateway registers under.
const Transport = "slack"

// The defaults of Config.
const (
	DefaultIconEmoji = ":ghost:"
	DefaultChannel   = "#general"
	DefaultTimeout   = 10 * time.Second
)

// Config is the gateway's configuration section.
type Config struct {
	// Endpoint is the incoming webhook's URL. Required.
	Endpoint string `json:"endpoint"`
	// AccountSID is the name messages are posted as. Default: empty, leaving
	// the webhook's own name.
	AccountSID string `json:"account_sid"`
	// IconEmoji is the icon messages are posted with. Default: ":ghost:".
	IconEmoji string `json:"icon_emoji"`
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

// Gateway posts alerts to a Slack incoming webhook.
type Gateway struct {
	endpoint  *url.URL
	username  string
	icon      string
	timeout   time.Duration
	client    *http.Client
	templates *gateway.Templates
}

// New returns a slack gateway, or an error listing every problem of cfg. The
// errors never show the endpoint.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{
		username: cfg.AccountSID, icon: cfg.IconEmoji, timeout: DefaultTimeout,
		client: env.HTTPClient, templates: env.Templates,
	}
	if g.icon == "" {
		g.icon = DefaultIconEmoji
	}
	var errs []error
	switch u, err := url.Parse(cfg.Endpoint); {
	case cfg.Endpoint == "":
		errs = append(errs, errors.New("endpoint: required: the incoming webhook's URL"))
	case err != nil:
		errs = append(errs, errors.New("endpoint: not a valid URL"))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, errors.New("endpoint: want an https URL"))
	case u.Host == "":
		errs = append(errs, errors.New("endpoint: URL has no host"))
	default:
		g.endpoint = u
	}
	switch {
	case cfg.Timeout < 0:
		errs = append(errs, fmt.Errorf("timeout: %g seconds is negative", cfg.Timeout))
	case cfg.Timeout > 0:
		g.timeout = time.Duration(cfg.Timeout * float64(time.Second))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return g, nil
}

// message is the JSON body of an incoming webhook request.
type message struct {
	Channel   string `json:"channel"`
	Username  string `json:"username,omitempty"`
	Text      string `json:"text"`
	IconEmoji string `json:"icon_emoji"`
}

// Channel is the channel an alert to address is posted to.
func Channel(address string) string {
	switch {
	case address == "":
		return DefaultChannel
	case strings.HasPrefix(address, "#"), strings.HasPrefix(address, "@"):
		return address
	}
	return "#" + address
}

// errorCode matches the error codes incoming webhooks answer with, such as
// channel_not_found: only such a body is shown in an error, never an arbitrary
// one that might echo the request.
var errorCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Send posts a's text. A template that cannot render a, and a 4xx response
// other than 408 and 429, are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	text, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("slack: %w", err))
	}
	body, err := json.Marshal(message{Channel: Channel(a.Address), Username: g.username, Text: text, IconEmoji: g.icon})
	if err != nil {
		return gateway.Permanent(fmt.Errorf("slack: encode message: %w", err))
	}
	req := gateway.HTTPRequest{
		Method: http.MethodPost, URL: g.endpoint, Body: body, Timeout: g.timeout,
		Header: http.Header{"Content-Type": {"application/json"}},
	}
	resp, err := req.Do(ctx, g.client)
	if err != nil {
		if code := strings.TrimSpace(string(resp)); errorCode.MatchString(code) {
			return fmt.Errorf("slack: %w (%s)", err, code)
		}
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

var _ gateway.Gateway = (*Gateway)(nil)
