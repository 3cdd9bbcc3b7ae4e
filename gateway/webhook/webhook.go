// Package webhook is the "webhook" gateway: it POSTs each alert, as the JSON of
// [flapjack.Alert], to a URL. It is the way to hand alerts to a system Flapjack
// has no gateway for.
//
// The URL is the medium's address, so each contact can have their own endpoint,
// unless the configuration sets one url for every medium of the transport:
//
//	[gateways.webhook]
//	url = "https://hooks.example.com/flapjack"   # optional
//	timeout = 10                                 # seconds
//	secret = "whsec_0123456789abcdef"            # optional: sign each request
//	signature_header = "X-Flapjack-Signature"    # the default
//	[gateways.webhook.headers]
//	Authorization = "Bearer s3cret"
//
// A 2xx response is a delivery; a 4xx other than 408 and 429 is a permanent
// failure, anything else may be retried. Errors never show a URL's user
// information, query or fragment, where webhook credentials usually hide, nor
// any header value or the signing secret, so they are safe to log.
//
// # Signatures
//
// With a secret, every request carries a signature header in the manner of
// Stripe's. With the secret "whsec_5f0c2d9e8a7b4c1d", the body {"id":"alert-42"}
// sent at 1454328000 carries
//
//	X-Flapjack-Signature: t=1454328000,v1=e11eb9f6c2a0ee738f141c0588de263f387d8ccd31922f0ffb0bf42a7da7e7e4
//
// where t is the time of sending in Unix seconds and v1 the hex HMAC-SHA256,
// keyed with the secret, of t, a full stop and the request body, exactly as
// received ("1454328000.{...}"). Signing the time with the body lets a receiver
// reject a request replayed later: [Verify] checks both, and a receiver in
// another language recomputes the HMAC the same way and compares it in constant
// time. A receiver may accept several v1 values, to change secrets without
// downtime.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// Transport is the transport name the gateway registers under.
const Transport = "webhook"

// DefaultTimeout bounds one delivery when the configuration gives no timeout.
const DefaultTimeout = 10 * time.Second

// Config is the gateway's configuration section.
type Config struct {
	// URL receives every alert of this transport. Default: empty, meaning each
	// alert goes to its medium's address.
	URL string `json:"url"`
	// Timeout is how long one delivery may take, in seconds, so that a stalled
	// endpoint cannot hold up the others. Default: 10.
	Timeout float64 `json:"timeout"`
	// Headers are added to every request, e.g. an Authorization header; they may
	// replace the Content-Type. Default: none.
	Headers map[string]string `json:"headers"`
	// Secret, when set, signs every request (see the package documentation).
	// Default: empty, requests are not signed.
	Secret string `json:"secret"`
	// SignatureHeader is the header carrying the signature. Default:
	// "X-Flapjack-Signature".
	SignatureHeader string `json:"signature_header"`
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

// Gateway posts alerts as JSON.
type Gateway struct {
	url       *url.URL // nil: the medium address
	timeout   time.Duration
	headers   http.Header
	client    *http.Client
	clock     flapjack.Clock
	secret    []byte // nil: no signature
	sigHeader string
}

// New returns a webhook gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{timeout: DefaultTimeout, headers: http.Header{}, client: env.HTTPClient, clock: env.Clock,
		sigHeader: http.CanonicalHeaderKey(DefaultSignatureHeader)}
	var errs []error
	if cfg.URL != "" {
		u, err := parseURL(cfg.URL)
		if err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
		g.url = u
	}
	switch {
	case cfg.Timeout < 0:
		errs = append(errs, fmt.Errorf("timeout: %g seconds is negative", cfg.Timeout))
	case cfg.Timeout > 0:
		g.timeout = time.Duration(cfg.Timeout * float64(time.Second))
	}
	g.headers.Set("Content-Type", "application/json")
	for k, v := range cfg.Headers {
		if k == "" {
			errs = append(errs, errors.New("headers: empty header name"))
			continue
		}
		g.headers.Set(k, v)
	}
	if cfg.Secret != "" {
		g.secret = []byte(cfg.Secret)
	}
	if cfg.SignatureHeader != "" {
		if !validHeaderName(cfg.SignatureHeader) {
			errs = append(errs, fmt.Errorf("signature_header: %q is not a valid header name", cfg.SignatureHeader))
		}
		g.sigHeader = http.CanonicalHeaderKey(cfg.SignatureHeader)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return g, nil
}

// parseURL accepts absolute http and https URLs. Its errors leave the URL out,
// since the text of a malformed URL may hold a credential.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("want an http or https URL")
	}
	if u.Host == "" {
		return nil, errors.New("URL has no host")
	}
	return u, nil
}

// redact is u without user information, query and fragment: the parts that carry
// secrets in webhook URLs and are no help in finding a fault.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery, c.ForceQuery = "", false
	c.Fragment, c.RawFragment = "", ""
	return c.String()
}

// Send posts a as JSON to the configured URL or to a.Address. A malformed
// address and a 4xx response other than 408 and 429 are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	target := g.url
	if target == nil {
		u, err := parseURL(a.Address)
		if err != nil {
			return gateway.Permanent(fmt.Errorf("webhook: medium address: %w", err))
		}
		target = u
	}
	where := redact(target)

	body, err := json.Marshal(a)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("webhook %s: encode alert: %w", where, err))
	}
	header := g.headers
	if g.secret != nil {
		header = header.Clone()
		header.Set(g.sigHeader, Sign(g.secret, body, g.clock.Now()))
	}
	req := gateway.HTTPRequest{Method: http.MethodPost, URL: target, Header: header, Body: body, Timeout: g.timeout}
	if _, err := req.Do(ctx, g.client); err != nil {
		return fmt.Errorf("webhook %s: %w", where, err)
	}
	return nil
}

// validHeaderName reports whether s is an HTTP header field name (an RFC 9110
// token).
func validHeaderName(s string) bool {
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

var _ gateway.Gateway = (*Gateway)(nil)
