package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/webhook"
)

// request is what the test server saw.
type request struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// server answers every request with status after recording it.
func server(t *testing.T, status int) (*httptest.Server, func() []request) {
	t.Helper()
	var mu sync.Mutex
	var seen []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"echo":"`+r.URL.String()+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []request {
		mu.Lock()
		defer mu.Unlock()
		return append([]request(nil), seen...)
	}
}

// stalled is a server that answers only once the client gives up.
func stalled(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a client hanging up only once the body is read.
		_, _ = io.ReadAll(r.Body)
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first
	return srv, arrived
}

func testAlert(address string) *flapjack.Alert {
	return &flapjack.Alert{
		ID: "alert-42", Transport: "webhook", Address: address, MediumID: "m1",
		ContactID: "c1", ContactName: "Ada Lovelace", CheckID: "k1", CheckName: "app-01:HTTP",
		Type: flapjack.TypeProblem, Condition: flapjack.Critical, Summary: "HTTP 500",
		Time:              time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC),
		ConditionDuration: 125 * time.Second, EventHash: "a1b2c3d4",
	}
}

func newGateway(t *testing.T, cfg gateway.MapConfig) gateway.Gateway {
	t.Helper()
	g, err := gateway.New("webhook", cfg, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// assertNoSecrets fails when err's message shows any of the secrets.
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q leaks %q", err, s)
		}
	}
}

func TestSendRequest(t *testing.T) {
	srv, seen := server(t, http.StatusOK)
	g := newGateway(t, gateway.MapConfig{"headers": map[string]string{"X-Api-Key": "k3y", "Authorization": "Bearer t0k"}})
	a := testAlert(srv.URL + "/hooks/flapjack?token=abc")
	if err := g.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	reqs := seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/hooks/flapjack" || r.query != "token=abc" {
		t.Errorf("request %s %s?%s, want POST /hooks/flapjack?token=abc", r.method, r.path, r.query)
	}
	for k, v := range map[string]string{
		"Content-Type":  "application/json",
		"X-Api-Key":     "k3y",
		"Authorization": "Bearer t0k",
	} {
		if got := r.header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	want, _ := json.Marshal(a)
	if string(r.body) != string(want) {
		t.Errorf("body\n got %s\nwant %s", r.body, want)
	}
	var back flapjack.Alert
	if err := json.Unmarshal(r.body, &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != "alert-42" || back.CheckName != "app-01:HTTP" || back.ConditionDuration != 125*time.Second || !back.Time.Equal(a.Time) {
		t.Errorf("body decodes to %+v", back)
	}
}

func TestSendConfiguredURL(t *testing.T) {
	srv, seen := server(t, http.StatusNoContent)
	g := newGateway(t, gateway.MapConfig{"url": srv.URL + "/all", "headers": map[string]string{"Content-Type": "application/vnd.flapjack+json"}})
	if err := g.Send(context.Background(), testAlert("ada@example.com")); err != nil {
		t.Fatal(err)
	}
	reqs := seen()
	if len(reqs) != 1 || reqs[0].path != "/all" {
		t.Fatalf("requests %+v, want one to /all", reqs)
	}
	if got := reqs[0].header.Get("Content-Type"); got != "application/vnd.flapjack+json" {
		t.Errorf("Content-Type = %q, want the configured one", got)
	}
}

func TestSendStatus(t *testing.T) {
	for _, tc := range []struct {
		status    int
		ok, perm  bool
		wantInErr string
	}{
		{200, true, false, ""},
		{202, true, false, ""},
		{400, false, true, "HTTP status 400 Bad Request"},
		{401, false, true, "HTTP status 401 Unauthorized"},
		{404, false, true, "HTTP status 404 Not Found"},
		{408, false, false, "HTTP status 408 Request Timeout"},
		{429, false, false, "HTTP status 429 Too Many Requests"},
		{500, false, false, "HTTP status 500 Internal Server Error"},
		{502, false, false, "HTTP status 502 Bad Gateway"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv, _ := server(t, tc.status)
			g := newGateway(t, nil)
			err := g.Send(context.Background(), testAlert(srv.URL+"/hook?secret=s3cret"))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertNoSecrets(t, err, "s3cret", "secret=")
			if gateway.IsPermanent(err) != tc.perm {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tc.perm, tc.perm)
			}
			if want := "webhook " + srv.URL + "/hook: " + tc.wantInErr; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			var se *gateway.StatusError
			if !errors.As(err, &se) || se.Code != tc.status {
				t.Errorf("error does not carry status %d: %v", tc.status, err)
			}
		})
	}
}

func TestSendTimeout(t *testing.T) {
	srv, _ := stalled(t)
	g := newGateway(t, gateway.MapConfig{"timeout": 0.05})
	start := time.Now()
	err := g.Send(context.Background(), testAlert(srv.URL+"/slow?key=s3cret"))
	if err == nil {
		t.Fatal("no error from a server that never answers")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send took %s despite a 50ms timeout", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) || gateway.IsPermanent(err) {
		t.Errorf("err = %v, want a retryable deadline error", err)
	}
	if !strings.Contains(err.Error(), "no response within 50ms") {
		t.Errorf("err = %q, want it to say the timeout", err)
	}
	assertNoSecrets(t, err, "s3cret", "key=")
}

func TestSendCancelled(t *testing.T) {
	srv, arrived := stalled(t)
	g := newGateway(t, nil) // default 10 s timeout: cancellation must win
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	err := g.Send(ctx, testAlert(srv.URL+"/slow"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Send took %s after cancellation", elapsed)
	}

	// Already cancelled: no request at all.
	srv2, seen := server(t, 200)
	if err := g.Send(ctx, testAlert(srv2.URL)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(seen()); n != 0 {
		t.Errorf("%d requests sent with a cancelled context", n)
	}
}

func TestSendErrorsHideSecrets(t *testing.T) {
	// A closed server: connection refused.
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	u, _ := url.Parse(addr)
	u.User = url.UserPassword("admin", "pa55word")
	u.Path, u.RawQuery, u.Fragment = "/hook", "token=s3cret", "fr4g"
	g := newGateway(t, nil)
	err := g.Send(context.Background(), testAlert(u.String()))
	assertNoSecrets(t, err, "admin", "pa55word", "s3cret", "fr4g")
	if gateway.IsPermanent(err) {
		t.Errorf("connection refused is permanent: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "webhook "+addr+"/hook: ") {
		t.Errorf("error %q does not name the endpoint", err)
	}

	for _, bad := range []string{
		"http://admin:pa55word@exa mple.com/?token=s3cret",
		"ftp://admin:pa55word@example.com/?token=s3cret",
		"mailto:admin@example.com?token=s3cret",
		"not a url token=s3cret",
		"",
	} {
		err := g.Send(context.Background(), testAlert(bad))
		assertNoSecrets(t, err, "pa55word", "s3cret")
		if !gateway.IsPermanent(err) {
			t.Errorf("address %q: err = %v, want permanent", bad, err)
		}
	}
}

func TestNewConfigErrors(t *testing.T) {
	_, err := gateway.New("webhook", gateway.MapConfig{
		"url":     "https://admin:pa55word@exa mple.com/x?token=s3cret",
		"timeout": -1,
		"headers": map[string]string{"": "x"},
	}, gateway.Env{})
	assertNoSecrets(t, err, "pa55word", "s3cret")
	for _, want := range []string{"url: not a valid URL", "timeout: -1 seconds is negative", "headers: empty header name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %q", err, want)
		}
	}
	if _, err := gateway.New("webhook", gateway.MapConfig{"url": "//example.com/x"}, gateway.Env{}); err == nil {
		t.Error("relative url accepted")
	}
	if _, err := gateway.New("webhook", gateway.MapConfig{"timeout": "ten"}, gateway.Env{}); err == nil {
		t.Error("timeout \"ten\" accepted")
	}
}

func TestUsesEnvHTTPClient(t *testing.T) {
	srv, _ := server(t, 200)
	var used bool
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	g, err := webhook.New(webhook.Config{}, gateway.Env{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), testAlert(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if !used {
		t.Error("the Env's HTTP client was not used")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
