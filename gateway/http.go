package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPRequest is one request of a gateway that speaks HTTP. Its Do is the one
// place where such gateways send, time out and classify, so that each of them
// only builds its request and reads its service's answer.
type HTTPRequest struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
	// Timeout bounds the request, so that a stalled service cannot hold a
	// worker; zero leaves it to ctx.
	Timeout time.Duration
}

// maxResponseBody is how much of a response Do reads: enough for any error
// code a service sends, little enough to bound a hostile one.
const maxResponseBody = 64 << 10

// Do sends r with client and returns the start of the response body (up to
// 64 KiB) with [CheckResponse]'s verdict on the status. Its errors never quote
// the URL, which http.Client's errors do whole, query and user information
// included: a transport error is reduced to its cause; a request that ctx ended
// returns an error wrapping ctx.Err(); one that ran out of Timeout says so and
// wraps context.DeadlineExceeded, retryable.
func (r HTTPRequest) Do(ctx context.Context, client *http.Client) ([]byte, error) {
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if r.Timeout > 0 {
		rctx, cancel = context.WithTimeout(ctx, r.Timeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, r.Method, r.URL.String(), bytes.NewReader(r.Body))
	if err != nil {
		// Its text quotes the URL.
		return nil, Permanent(errors.New("cannot build the HTTP request"))
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case rctx.Err() != nil:
			return nil, fmt.Errorf("no response within %s: %w", r.Timeout, rctx.Err())
		}
		return nil, err
	}
	defer resp.Body.Close()
	// Reading the body also lets the connection be reused.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	return body, CheckResponse(resp)
}

// CheckResponse is [CheckStatus] for a whole response: a 429 or 503 response's
// Retry-After header (seconds, or an HTTP date taken relative to the response's
// Date header) is kept in the [StatusError] so that the delivery layer honours it.
func CheckResponse(resp *http.Response) error {
	err := CheckStatus(resp.StatusCode)
	var se *StatusError
	if err == nil || !errors.As(err, &se) {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		se.RetryAfter = retryAfter(resp.Header, time.Now())
	}
	return err
}

// retryAfter reads a Retry-After header; zero when missing, malformed or past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	return max(at.Sub(now), 0)
}
