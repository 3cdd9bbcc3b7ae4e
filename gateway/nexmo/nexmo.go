// Package nexmo is the "sms_nexmo" gateway: it sends each alert's text as an
// SMS through the Vonage (formerly Nexmo) SMS API.
//
//	[gateways.sms_nexmo]
//	enabled = true
//	api_key = "a1b2c3d4"            # required
//	secret = "s3cret"               # required: the API secret
//	from = "Flapjack"               # required: a Vonage number or sender ID
//	endpoint_host = "rest.nexmo.com" # the default
//	endpoint_path = "/sms/json"      # the default
//	timeout = 10                     # seconds, the default
//
// Each alert becomes one HTTPS POST of the form api_key, api_secret, from, to
// (the medium's address) and text (the "sms_nexmo" template's text, cut to 159
// characters, the last three then "...") to https://rest.nexmo.com/sms/json.
// A text with characters outside ASCII is sent with type=unicode, so that it
// arrives as written.
//
// Vonage answers 200 for requests it refused too, so the JSON reply decides:
// the alert is delivered only when every message of the reply has status "0".
// Statuses 1 (throttled), 5 (internal error) and 10 (too many binds) may be
// retried, as Vonage's documentation advises; every other status (4, invalid
// credentials; 9, no credit left; 29, a destination not on a trial account's
// list…) is permanent. HTTP statuses are classified as for every gateway: 408,
// 429 and 5xx may be retried, other 4xx are permanent. No error or log line
// shows the API secret.
package nexmo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/internal/endpoint"
)

// Transport is the transport name the gateway registers under.
const Transport = "sms_nexmo"

// The defaults of Config, and the longest text sent.
const (
	DefaultEndpointHost = "rest.nexmo.com"
	DefaultEndpointPath = "/sms/json"
	MaxLength           = 159
)

// Config is the gateway's configuration section.
type Config struct {
	// APIKey is the Vonage account's API key. Required.
	APIKey string `json:"api_key"`
	// Secret is the account's API secret. Required.
	Secret string `json:"secret"`
	// From is the sender: a Vonage number or an alphanumeric sender ID.
	// Required.
	From string `json:"from"`
	// EndpointHost is the API's host, with an optional ":port"; written
	// "http://host:port" it is reached without TLS (for a test double).
	// Default: "rest.nexmo.com".
	EndpointHost string `json:"endpoint_host"`
	// EndpointPath is the path of the send method. Default: "/sms/json".
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

// Gateway sends alerts as SMS through Vonage.
type Gateway struct {
	url       *url.URL
	apiKey    string
	secret    string
	from      string
	timeout   time.Duration
	client    *http.Client
	templates *gateway.Templates
}

// New returns a Vonage gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{apiKey: cfg.APIKey, secret: cfg.Secret, from: cfg.From, client: env.HTTPClient, templates: env.Templates}
	var errs []error
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("api_key: required"))
	}
	if cfg.Secret == "" {
		errs = append(errs, errors.New("secret: required: the API secret"))
	}
	if cfg.From == "" {
		errs = append(errs, errors.New("from: required: a Vonage number or sender ID"))
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

// StatusError is a message Vonage refused: a reply's status other than "0".
type StatusError struct {
	// Status is Vonage's status code, such as "4".
	Status string
}

func (e *StatusError) Error() string {
	if m, ok := statusMeanings[e.Status]; ok {
		return fmt.Sprintf("Vonage status %s (%s)", e.Status, m)
	}
	return "Vonage status " + e.Status
}

// Retryable reports whether Vonage advises trying the message again later.
func (e *StatusError) Retryable() bool {
	switch e.Status {
	case "1", "5", "10": // throttled, internal error, too many binds
		return true
	}
	return false
}

// statusMeanings are the SMS API's statuses, as Vonage names them.
var statusMeanings = map[string]string{
	"1":  "Throttled",
	"2":  "Missing Parameters",
	"3":  "Invalid Parameters",
	"4":  "Invalid Credentials",
	"5":  "Internal Error",
	"6":  "Invalid Message",
	"7":  "Number Barred",
	"8":  "Partner Account Barred",
	"9":  "Partner Quota Violation",
	"10": "Too Many Existing Binds",
	"11": "Account Not Enabled For HTTP",
	"12": "Message Too Long",
	"14": "Invalid Signature",
	"15": "Invalid Sender Address",
	"22": "Invalid Network Code",
	"23": "Invalid Callback URL",
	"29": "Non-Whitelisted Destination",
	"32": "Signature And API Secret Disallowed",
	"33": "Number De-activated",
}

// reply is the SMS API's answer: one entry per message part sent. Its
// error-text is not read: the status says as much, and a text may quote the
// request.
type reply struct {
	Messages []message `json:"messages"`
}

type message struct {
	Status string `json:"status"`
}

// statusCode matches the statuses of the SMS API; anything else is not shown.
var statusCode = regexp.MustCompile(`^[0-9]{1,4}$`)

func invalidStatus(m message) bool { return !statusCode.MatchString(m.Status) }

// Send sends a's text to the phone number that is a's address. An empty
// address, a template that cannot render a, a 4xx response other than 408 and
// 429, and a Vonage status other than 1, 5 and 10 are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sms_nexmo: %w", err)
	}
	if a.Address == "" {
		return gateway.Permanent(errors.New("sms_nexmo: the medium has no address (phone number)"))
	}
	text, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("sms_nexmo: %w", err))
	}
	text = gateway.Truncate(text, MaxLength)
	form := url.Values{
		"api_key": {g.apiKey}, "api_secret": {g.secret},
		"from": {g.from}, "to": {a.Address}, "text": {text},
	}
	if !isASCII(text) {
		form.Set("type", "unicode")
	}
	req := gateway.HTTPRequest{
		Method: http.MethodPost, URL: g.url, Body: []byte(form.Encode()), Timeout: g.timeout,
		Header: http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"},
			"Accept":       {"application/json"},
		},
	}
	body, err := req.Do(ctx, g.client)
	if err != nil {
		return fmt.Errorf("sms_nexmo: %w", err)
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil || len(r.Messages) == 0 || slices.ContainsFunc(r.Messages, invalidStatus) {
		// Whether the message went is unknown; trying again risks a
		// duplicate, giving up risks a loss, and a lost alert is worse.
		return errors.New("sms_nexmo: the reply is not a Vonage SMS API reply")
	}
	for _, m := range r.Messages {
		if m.Status == "0" {
			continue
		}
		se := &StatusError{Status: m.Status}
		if se.Retryable() {
			return fmt.Errorf("sms_nexmo: %w", se)
		}
		return gateway.Permanent(fmt.Errorf("sms_nexmo: %w", se))
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

var _ gateway.Gateway = (*Gateway)(nil)
