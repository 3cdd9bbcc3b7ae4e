// Package aspsms is the "sms_aspsms" gateway: it sends each alert's text as an
// SMS through ASPSMS, a Swiss SMS service.
//
//	[gateways.sms_aspsms]
//	enabled = true
//	username = "ABCDEFGHIJKL"                        # required: the user key
//	password = "s3cret"                              # required
//	originator = "Flapjack"                          # the default
//	endpoint_host = "webservice.aspsms.com"          # the default
//	endpoint_path = "/aspsmsx.asmx/SimpleTextSMS"    # the default
//	timeout = 10                                     # seconds, the default
//
// Each alert becomes one HTTPS GET of
//
//	https://webservice.aspsms.com/aspsmsx.asmx/SimpleTextSMS?MessageText=…&Originator=Flapjack&Password=…&Recipient=%2B41790000001&UserKey=ABCDEFGHIJKL
//
// where Recipient is the medium's address and MessageText the "sms_aspsms"
// template's text, cut to 156 characters (the last three then "..."). A 2xx
// response is a delivery, unless its body carries an ASPSMS status code other
// than 1 ("StatusCode:3" for refused credentials, for instance), which is a
// permanent failure. 408, 429 and 5xx may be retried, other 4xx are
// permanent. The password travels in the query, as ASPSMS requires, so no
// error or log line ever shows the URL.
package aspsms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/internal/endpoint"
)

// Transport is the transport name the gateway registers under.
const Transport = "sms_aspsms"

// The defaults of Config, and the longest text sent.
const (
	DefaultOriginator   = "Flapjack"
	DefaultEndpointHost = "webservice.aspsms.com"
	DefaultEndpointPath = "/aspsmsx.asmx/SimpleTextSMS"
	MaxLength           = 156
)

// Config is the gateway's configuration section.
type Config struct {
	// Username is the account's user key, sent as UserKey. Required.
	Username string `json:"username"`
	// Password is the account's password. Required.
	Password string `json:"password"`
	// Originator is the sender shown to recipients: a phone number or up to
	// 11 letters and digits. Default: "Flapjack".
	Originator string `json:"originator"`
	// EndpointHost is the service's host, with an optional ":port"; written
	// "http://host:port" it is reached without TLS (for a test double).
	// Default: "webservice.aspsms.com".
	EndpointHost string `json:"endpoint_host"`
	// EndpointPath is the path of the sending method. Default:
	// "/aspsmsx.asmx/SimpleTextSMS".
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

// Gateway sends alerts as SMS through ASPSMS.
type Gateway struct {
	sms        endpoint.SMS
	userKey    string
	password   string
	originator string
}

// New returns an ASPSMS gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{
		sms:     endpoint.SMS{Transport: Transport, MaxLength: MaxLength, Client: env.HTTPClient, Templates: env.Templates},
		userKey: cfg.Username, password: cfg.Password, originator: cfg.Originator,
	}
	if g.originator == "" {
		g.originator = DefaultOriginator
	}
	var errs []error
	if cfg.Username == "" {
		errs = append(errs, errors.New("username: required: the user key"))
	}
	if cfg.Password == "" {
		errs = append(errs, errors.New("password: required"))
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
	g.sms.URL, g.sms.Timeout = u, timeout
	endpoint.WarnPlain(env.Logger, Transport, u)
	return g, nil
}

// statusCode finds the status ASPSMS answers with, such as "StatusCode:1".
var statusCode = regexp.MustCompile(`StatusCode:([0-9]{1,4})\b`)

// Send sends a's text to the phone number that is a's address. An empty
// address, a template that cannot render a, a 4xx response other than 408 and
// 429, and an ASPSMS status code other than 1 are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	body, err := g.sms.Get(ctx, a, func(text string) url.Values {
		return url.Values{
			"UserKey":     {g.userKey},
			"Password":    {g.password},
			"Recipient":   {a.Address},
			"Originator":  {g.originator},
			"MessageText": {text},
		}
	})
	if err != nil {
		return err
	}
	if m := statusCode.FindSubmatch(body); m != nil && string(m[1]) != "1" {
		return gateway.Permanent(fmt.Errorf("sms_aspsms: ASPSMS status code %s", m[1]))
	}
	return nil
}

var _ gateway.Gateway = (*Gateway)(nil)
