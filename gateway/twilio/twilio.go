// Package twilio is the "sms_twilio" gateway: it sends each alert's text as an
// SMS through Twilio's Messages API.
//
//	[gateways.sms_twilio]
//	enabled = true
//	account_sid = "AC0123456789abcdef0123456789abcdef"  # required
//	auth_token = "s3cret"                               # required
//	from = "+61400000000"                               # required: a Twilio number or sender ID
//	endpoint_host = "api.twilio.com"                    # the default
//	# endpoint_path = "/2010-04-01/Accounts/<account_sid>/Messages.json"  # the default
//	timeout = 10                                        # seconds, the default
//
// Each alert becomes one HTTPS POST of the form To (the medium's address),
// From and Body (the "sms_twilio" template's text, cut to 159 characters, the
// last three then "...") to
// https://api.twilio.com/2010-04-01/Accounts/<account_sid>/Messages.json,
// authenticated with HTTP Basic account_sid:auth_token as Twilio documents
// (Flapjack v2 sent a malformed Authorization header).
//
// A 2xx response (Twilio answers 201 Created) is a delivery. 408, 429 (Twilio's
// error 20429, too many requests) and 5xx may be retried; other 4xx (21211, an
// invalid To number; 20003, refused credentials…) are permanent, and the error
// names Twilio's code. No error or log line shows the auth token.
package twilio

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/internal/endpoint"
)

// Transport is the transport name the gateway registers under.
const Transport = "sms_twilio"

// The defaults of Config, and the longest text sent.
const (
	DefaultEndpointHost = "api.twilio.com"
	MaxLength           = 159
)

// DefaultEndpointPath is the Messages resource of an account.
func DefaultEndpointPath(accountSID string) string {
	return "/2010-04-01/Accounts/" + url.PathEscape(accountSID) + "/Messages.json"
}

// Config is the gateway's configuration section.
type Config struct {
	// AccountSID identifies the Twilio account ("AC…"). Required.
	AccountSID string `json:"account_sid"`
	// AuthToken is the account's auth token (or an API key's secret). Required.
	AuthToken string `json:"auth_token"`
	// From is the sender: a Twilio phone number in E.164 form, or an
	// alphanumeric sender ID. Required.
	From string `json:"from"`
	// EndpointHost is the API's host, with an optional ":port"; written
	// "http://host:port" it is reached without TLS (for a test double).
	// Default: "api.twilio.com".
	EndpointHost string `json:"endpoint_host"`
	// EndpointPath is the path of the Messages resource. Default:
	// "/2010-04-01/Accounts/<account_sid>/Messages.json".
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

// Gateway sends alerts as SMS through Twilio.
type Gateway struct {
	url       *url.URL
	from      string
	auth      string // the Authorization header's value
	timeout   time.Duration
	client    *http.Client
	templates *gateway.Templates
}

// New returns a Twilio gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{from: cfg.From, client: env.HTTPClient, templates: env.Templates}
	var errs []error
	if cfg.AccountSID == "" {
		errs = append(errs, errors.New("account_sid: required"))
	}
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("auth_token: required"))
	}
	if cfg.From == "" {
		errs = append(errs, errors.New("from: required: a Twilio number or sender ID"))
	}
	u, uerrs := endpoint.URL(cfg.EndpointHost, cfg.EndpointPath, DefaultEndpointHost, DefaultEndpointPath(cfg.AccountSID))
	errs = append(errs, uerrs...)
	timeout, err := endpoint.Timeout(cfg.Timeout)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g.url, g.timeout = u, timeout
	g.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.AccountSID+":"+cfg.AuthToken))
	endpoint.WarnPlain(env.Logger, Transport, u)
	return g, nil
}

// apiError is the body of Twilio's error responses; only its numeric code is
// shown, since its message may quote the request.
type apiError struct {
	Code int `json:"code"`
}

// Send sends a's text to the phone number that is a's address. An empty
// address, a template that cannot render a, and a 4xx response other than 408
// and 429 are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sms_twilio: %w", err)
	}
	if a.Address == "" {
		return gateway.Permanent(errors.New("sms_twilio: the medium has no address (phone number)"))
	}
	text, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("sms_twilio: %w", err))
	}
	form := url.Values{"To": {a.Address}, "From": {g.from}, "Body": {gateway.Truncate(text, MaxLength)}}
	req := gateway.HTTPRequest{
		Method: http.MethodPost, URL: g.url, Body: []byte(form.Encode()), Timeout: g.timeout,
		Header: http.Header{
			"Authorization": {g.auth},
			"Content-Type":  {"application/x-www-form-urlencoded"},
			"Accept":        {"application/json"},
		},
	}
	resp, err := req.Do(ctx, g.client)
	if err != nil {
		var ae apiError
		if json.Unmarshal(resp, &ae) == nil && ae.Code > 0 {
			return fmt.Errorf("sms_twilio: %w (Twilio error %d)", err, ae.Code)
		}
		return fmt.Errorf("sms_twilio: %w", err)
	}
	return nil
}

var _ gateway.Gateway = (*Gateway)(nil)
