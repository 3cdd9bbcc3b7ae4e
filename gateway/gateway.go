// Package gateway delivers alerts to people: the Gateway interface every transport
// implements, a registry of transports by name, the classification of delivery errors
// into retryable and permanent, and message rendering for all transports.
//
// A gateway only knows its wire format. Retries, back-off, rate limits, dead
// letters and delivery metrics belong to the delivery layer around it, [Delivery],
// which relies on the error classification here to decide whether trying again can
// help. A gateway that holds a connection may also implement the optional
// lifecycle interfaces [Starter] and [Closer], which the delivery layer calls.
//
// Transports live in sub-packages and register themselves from init, so a program
// enables one by importing it:
//
//	import _ "github.com/x/flapjack/gateway/webhook"
//
//	g, err := gateway.New("webhook", cfg, gateway.Env{Logger: logger})
//
// Every message text comes from [Templates], so that one set of built-in texts
// serves every transport and users can replace any of them.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/x/flapjack"
)

// Gateway delivers alerts over one transport.
//
// Send delivers one alert and returns nil only when the transport accepted it. It
// must return promptly once ctx is done, with an error wrapping ctx.Err(). A failure
// that retrying cannot cure (a rejected address, a refused credential, an HTTP 4xx
// other than 408 and 429) is wrapped with [Permanent]; any other error is taken as
// transient and may be retried. Send may be called from several goroutines at once.
type Gateway interface {
	Send(ctx context.Context, a *flapjack.Alert) error
}

// permanentError marks an error as not worth retrying.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot cure, so that the delivery
// layer dead-letters the alert at once instead of backing off. Permanent(nil) is
// nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked by [Permanent].
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// StatusError is an HTTP response status outside 2xx. It carries no body or URL,
// so that it can be logged without leaking what a server echoed back.
type StatusError struct {
	Code int
	// RetryAfter is how long the server asked the client to wait (its
	// Retry-After header, set by [CheckResponse]); zero when it did not say. The
	// delivery layer waits at least this long, up to its longest back-off,
	// before trying again.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP status %d %s", e.Code, http.StatusText(e.Code))
}

// CheckStatus classifies an HTTP response status for gateways that speak HTTP: nil
// for 2xx; a [StatusError] otherwise, marked [Permanent] for 4xx other than 408
// (Request Timeout) and 429 (Too Many Requests), since the same request would be
// refused again.
func CheckStatus(code int) error {
	if code >= 200 && code < 300 {
		return nil
	}
	err := &StatusError{Code: code}
	if code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests {
		return Permanent(err)
	}
	return err
}

// ErrNotConnected is returned, wrapped, by the Send of a gateway implementing
// [Starter] whose connection was lost. The delivery layer then calls Start again
// before the next attempt, as benthos reconnects an output.
var ErrNotConnected = errors.New("gateway not connected")

// Starter is implemented by gateways that must connect before they can send (an
// XMPP session, a pool of SMTP connections). The delivery layer calls Start
// before it takes the first alert, retrying with back-off while Start fails with
// a retryable error and giving up on a [Permanent] one; it calls Start again
// after a Send failed with [ErrNotConnected]. Start must return promptly once ctx
// is done; ctx ends with the delivery, so a connection may be bound to it.
type Starter interface {
	Start(ctx context.Context) error
}

// Closer is implemented by gateways holding resources. The delivery layer calls
// Close once, when its Run returns and no Send is running any more.
type Closer interface {
	Close() error
}
