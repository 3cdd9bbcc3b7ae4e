package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/x/flapjack/gateway"
)

func TestPermanent(t *testing.T) {
	if gateway.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	base := errors.New("address rejected")
	p := gateway.Permanent(base)
	if p.Error() != "address rejected" {
		t.Errorf("Permanent changes the message: %q", p)
	}
	if !errors.Is(p, base) {
		t.Error("Permanent does not wrap its error")
	}
	wrapped := fmt.Errorf("send alert 1: %w", p)
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{p, true},
		{wrapped, true},
		{base, false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := gateway.IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestCheckStatus(t *testing.T) {
	for _, tc := range []struct {
		code      int
		ok, perm  bool
		wantError string
	}{
		{200, true, false, ""},
		{201, true, false, ""},
		{204, true, false, ""},
		{299, true, false, ""},
		{301, false, false, "HTTP status 301 Moved Permanently"},
		{400, false, true, "HTTP status 400 Bad Request"},
		{401, false, true, "HTTP status 401 Unauthorized"},
		{404, false, true, "HTTP status 404 Not Found"},
		{408, false, false, "HTTP status 408 Request Timeout"},
		{429, false, false, "HTTP status 429 Too Many Requests"},
		{499, false, true, "HTTP status 499 "},
		{500, false, false, "HTTP status 500 Internal Server Error"},
		{503, false, false, "HTTP status 503 Service Unavailable"},
	} {
		err := gateway.CheckStatus(tc.code)
		if (err == nil) != tc.ok {
			t.Errorf("CheckStatus(%d) = %v", tc.code, err)
			continue
		}
		if err == nil {
			continue
		}
		if gateway.IsPermanent(err) != tc.perm {
			t.Errorf("CheckStatus(%d) permanent = %v, want %v", tc.code, !tc.perm, tc.perm)
		}
		if err.Error() != tc.wantError {
			t.Errorf("CheckStatus(%d) = %q, want %q", tc.code, err, tc.wantError)
		}
		var se *gateway.StatusError
		if !errors.As(err, &se) || se.Code != tc.code {
			t.Errorf("CheckStatus(%d) is not a *StatusError with its code", tc.code)
		}
	}
}

func TestCheckResponse(t *testing.T) {
	for _, tc := range []struct {
		code       int
		header     http.Header
		ok, perm   bool
		retryAfter time.Duration
	}{
		{code: 200, ok: true},
		{code: 429, header: http.Header{"Retry-After": {"30"}}, retryAfter: 30 * time.Second},
		{code: 503, header: http.Header{"Retry-After": {"5"}}, retryAfter: 5 * time.Second},
		{code: 429},
		// Only 429 and 503 ask to wait.
		{code: 500, header: http.Header{"Retry-After": {"30"}}},
		{code: 400, header: http.Header{"Retry-After": {"30"}}, perm: true},
	} {
		err := gateway.CheckResponse(&http.Response{StatusCode: tc.code, Header: tc.header})
		if (err == nil) != tc.ok {
			t.Errorf("CheckResponse(%d) = %v", tc.code, err)
			continue
		}
		if err == nil {
			continue
		}
		var se *gateway.StatusError
		if !errors.As(err, &se) || se.Code != tc.code || se.RetryAfter != tc.retryAfter || gateway.IsPermanent(err) != tc.perm {
			t.Errorf("CheckResponse(%d, %v) = %#v (permanent %v), want retry after %s, permanent %v",
				tc.code, tc.header, se, gateway.IsPermanent(err), tc.retryAfter, tc.perm)
		}
	}
}
