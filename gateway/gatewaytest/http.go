package gatewaytest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Request is a request an [HTTPEndpoint] received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Status is the status the endpoint answered with; 0 when it hung up.
	Status int
}

// HTTPEndpoint is a fake HTTP service for gateways that speak HTTP: it records
// every request and answers 200 unless told to fail by [HTTPEndpoint.Fail].
//
// A failing answer echoes the request back, URL, query, headers and body, in its
// body, as careless servers do: a gateway that copies a response
// into its errors is then caught leaking the credentials it sent.
type HTTPEndpoint struct {
	// URL is the endpoint's base URL, such as http://127.0.0.1:41234.
	URL string

	t        testing.TB
	srv      *httptest.Server
	mu       sync.Mutex
	requests []Request
	failure  string
}

// The failures an [HTTPEndpoint] can play: "status <code>" answers with that
// status, and "disconnect" hangs up without answering.
const (
	FailDisconnect = "disconnect"
)

// HTTPFailures are the failures of an [HTTPEndpoint], classified as
// [gateway.CheckStatus] classifies them: 5xx, 408, 429 and a dropped connection
// are retryable, other 4xx permanent.
func HTTPFailures() []Failure {
	return []Failure{
		{Name: "status 500", Retryable: true},
		{Name: "status 502", Retryable: true},
		{Name: "status 503", Retryable: true},
		{Name: "status 408", Retryable: true},
		{Name: "status 429", Retryable: true},
		{Name: "status 400", Retryable: false},
		{Name: "status 401", Retryable: false},
		{Name: "status 403", Retryable: false},
		{Name: "status 404", Retryable: false},
		{Name: "status 410", Retryable: false},
		{Name: FailDisconnect, Retryable: true},
	}
}

// NewHTTPEndpoint starts an endpoint, closed when the test ends.
func NewHTTPEndpoint(t testing.TB) *HTTPEndpoint {
	t.Helper()
	e := &HTTPEndpoint{t: t}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	e.URL = e.srv.URL
	t.Cleanup(e.srv.Close)
	return e
}

// Fail makes every later request fail as the named failure of [HTTPFailures]
// does; "" makes them succeed again.
func (e *HTTPEndpoint) Fail(name string) {
	if name != "" && name != FailDisconnect {
		if _, err := failStatus(name); err != nil {
			e.t.Errorf("gatewaytest: HTTPEndpoint.Fail(%q): %v", name, err)
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failure = name
}

func failStatus(name string) (int, error) {
	s, ok := strings.CutPrefix(name, "status ")
	code, err := strconv.Atoi(s)
	if !ok || err != nil || code < 300 || code > 599 {
		return 0, fmt.Errorf("not %q or \"status <code>\" with a code from 300 to 599", FailDisconnect)
	}
	return code, nil
}

// Requests returns every request received, oldest first.
func (e *HTTPEndpoint) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

// Delivered returns the bodies of the requests answered with success, oldest
// first: what [Target.Delivered] wants.
func (e *HTTPEndpoint) Delivered() []string {
	var out []string
	for _, r := range e.Requests() {
		if r.Status >= 200 && r.Status < 300 {
			out = append(out, string(r.Body))
		}
	}
	return out
}

func (e *HTTPEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	e.mu.Lock()
	failure := e.failure
	e.mu.Unlock()

	switch {
	case failure == "":
		req.Status = http.StatusOK
		e.record(req)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok")
	case failure == FailDisconnect:
		e.record(req)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // hangs up on HTTP/2 as well
	default:
		code, _ := failStatus(failure)
		req.Status = code
		e.record(req)
		echo := fmt.Sprintf("%s %s headers=%v body=%s", r.Method, r.URL.String(), r.Header, body)
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, echo)
	}
}

func (e *HTTPEndpoint) record(r Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, r)
}
