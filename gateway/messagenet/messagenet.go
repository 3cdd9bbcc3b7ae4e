// Package messagenet is the "sms" gateway: it sends each alert's text as an
// SMS through MessageNet, an Australian SMS service.
//
//	[gateways.sms]
//	enabled = true
//	username = "flapjack"                               # required
//	password = "s3cret"                                 # required
//	endpoint_host = "www.messagenet.com.au"             # the default
//	endpoint_path = "/dotnet/Lodge.asmx/LodgeSMSMessage" # the default
//	timeout = 10                                        # seconds, the default
//
// Each alert becomes one HTTPS GET of
//
//	https://www.messagenet.com.au/dotnet/Lodge.asmx/LodgeSMSMessage?PhoneMessage=…&PhoneNumber=%2B61400000001&Pwd=…&Username=flapjack
//
// where PhoneNumber is the medium's address and PhoneMessage the "sms"
// template's text, cut to 156 characters (the last three then "..."). A 2xx
// response is a delivery; 408, 429 and 5xx may be retried, other 4xx are
// permanent. The password travels in the query, as MessageNet requires, so no
// error or log line ever shows the URL.
package messagenet

import (
	"context"
	"errors"
	"net/url"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/internal/endpoint"
)

// Transport is the transport name the gateway registers under.
const Transport = "sms"

// The defaults of Config, and the longest text sent.
const (
	DefaultEndpointHost = "www.messagenet.com.au"
	DefaultEndpointPath = "/dotnet/Lodge.asmx/LodgeSMSMessage"
	MaxLength           = 156
)

// Config is the gateway's configuration section.
type Config struct {
	// Username is the MessageNet account name. Required.
	Username string `json:"username"`
	// Password is the account's password. Required.
	Password string `json:"password"`
	// EndpointHost is the service's host, with an optional ":port"; written
	// "http://host:port" it is reached without TLS (for a test double).
	// Default: "www.messagenet.com.au".
	EndpointHost string `json:"endpoint_host"`
	// EndpointPath is the path of the lodging method. Default:
	// "/dotnet/Lodge.asmx/LodgeSMSMessage".
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

// Gateway sends alerts as SMS through MessageNet.
type Gateway struct {
	sms      endpoint.SMS
	username string
	password string
}

// New returns a MessageNet gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{
		sms:      endpoint.SMS{Transport: Transport, MaxLength: MaxLength, Client: env.HTTPClient, Templates: env.Templates},
		username: cfg.Username, password: cfg.Password,
	}
	var errs []error
	if cfg.Username == "" {
		errs = append(errs, errors.New("username: required"))
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

// Send sends a's text to the phone number that is a's address. An empty
// address, a template that cannot render a, and a 4xx response other than 408
// and 429 are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	_, err := g.sms.Get(ctx, a, func(text string) url.Values {
		return url.Values{
			"Username":     {g.username},
			"Pwd":          {g.password},
			"PhoneNumber":  {a.Address},
			"PhoneMessage": {text},
		}
	})
	return err
}

var _ gateway.Gateway = (*Gateway)(nil)
