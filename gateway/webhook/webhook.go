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
//	[gateways.webhook.headers]
//	Authorization = "Bearer s3cret"
//
// A 2xx response is a delivery. Errors never show a URL's user information, query
// or fragment, where webhook credentials usually hide, so they are safe to log.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	url     *url.URL // nil: the medium address
	timeout time.Duration
	headers http.Header
	client  *http.Client
}

// New returns a webhook gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{timeout: DefaultTimeout, headers: http.Header{}, client: env.HTTPClient}
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
	rctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return gateway.Permanent(fmt.Errorf("webhook %s: %w", where, err))
	}
	for k, v := range g.headers {
		req.Header[k] = v
	}

	resp, err := g.client.Do(req)
	if err != nil {
		// http.Client errors quote the whole URL, query included: keep only
		// their cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("webhook %s: %w", where, ctx.Err())
		case rctx.Err() != nil:
			return fmt.Errorf("webhook %s: no response within %s: %w", where, g.timeout, rctx.Err())
		}
		return fmt.Errorf("webhook %s: %w", where, err)
	}
	defer resp.Body.Close()
	// Reading a little of the body lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if err := gateway.CheckStatus(resp.StatusCode); err != nil {
		return fmt.Errorf("webhook %s: %w", where, err)
	}
	return nil
}

var _ gateway.Gateway = (*Gateway)(nil)
