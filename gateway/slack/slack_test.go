package slack_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/slack"
)

// hookPath is an incoming webhook's path: its last part is the credential.
const (
	hookToken = "XXXXs3cr3tT0kenXXXX"
	hookPath  = "/services/T0001/B0001/" + hookToken
)

func newGateway(t *testing.T, cfg gateway.MapConfig) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(slack.Transport, cfg, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: slack.Transport,
		Failures:  gatewaytest.HTTPFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := slack.New(slack.Config{Endpoint: ep.URL + hookPath, AccountSID: "flapjack"}, env)
			if err != nil {
				t.Fatal(err)
			}
			return gatewaytest.Target{
				Gateway: g, Address: "ops", Delivered: ep.Delivered, Fail: ep.Fail,
				Secrets: []string{hookToken, ep.URL + hookPath},
			}
		},
	})
}

// TestRequests checks the exact request for every kind of alert.
func TestRequests(t *testing.T) {
	for _, tc := range []struct {
		kind string
		body string
	}{
		{"problem", `{"channel":"#ops","username":"flapjack","text":"Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500","icon_emoji":":ghost:"}`},
		{"recovery", `{"channel":"#ops","username":"flapjack","text":"Recovery: 'app-01:HTTP' is OK at 1 Feb 12:00, HTTP 200","icon_emoji":":ghost:"}`},
		{"acknowledgement", `{"channel":"#ops","username":"flapjack","text":"Acknowledgement: 'app-01:HTTP' at 1 Feb 12:00, on it","icon_emoji":":ghost:"}`},
		{"test", `{"channel":"#ops","username":"flapjack","text":"Test: 'app-01:HTTP' at 1 Feb 12:00, testing","icon_emoji":":ghost:"}`},
		{"rollup problem", `{"channel":"#ops","username":"flapjack","text":"Problem summary: Critical: 2, Warning: 1 (Critical: app-01:HTTP, app-02:HTTP; Warning: db-01:disk)","icon_emoji":":ghost:"}`},
		{"rollup recovery", `{"channel":"#ops","username":"flapjack","text":"Problem summaries finishing: Warning: 1 (Warning: db-01:disk)","icon_emoji":":ghost:"}`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, gateway.MapConfig{"endpoint": ep.URL + hookPath, "account_sid": "flapjack"})
			if err := g.Send(context.Background(), gatewaytest.NewAlert(tc.kind, slack.Transport, "ops")); err != nil {
				t.Fatal(err)
			}
			reqs := ep.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != hookPath || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST %s", r.Method, r.Path, r.RawQuery, hookPath)
			}
			if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			if got := r.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization %q sent; the URL is the credential", got)
			}
			if string(r.Body) != tc.body {
				t.Errorf("body\n got %s\nwant %s", r.Body, tc.body)
			}
		})
	}
}

func TestChannelUsernameIcon(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     gateway.MapConfig
		address string
		body    string
	}{
		{"empty address: #general; no username: the webhook's own", nil, "",
			`{"channel":"#general","text":"Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500","icon_emoji":":ghost:"}`},
		{"channel given with #", gateway.MapConfig{"icon_emoji": ":pager:"}, "#alerts",
			`{"channel":"#alerts","text":"Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500","icon_emoji":":pager:"}`},
		{"direct message", gateway.MapConfig{"account_sid": "Flapjack Bot"}, "@ada",
			`{"channel":"@ada","username":"Flapjack Bot","text":"Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500","icon_emoji":":ghost:"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			cfg := gateway.MapConfig{"endpoint": ep.URL + hookPath}
			for k, v := range tc.cfg {
				cfg[k] = v
			}
			g := newGateway(t, cfg)
			if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", slack.Transport, tc.address)); err != nil {
				t.Fatal(err)
			}
			if got := string(ep.Requests()[0].Body); got != tc.body {
				t.Errorf("body\n got %s\nwant %s", got, tc.body)
			}
		})
	}
}

func TestCustomTemplate(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	if err := tpl.Override("slack", "alert.text", `:rotating_light: {{.CheckName}} {{.StateTitleCase}}`); err != nil {
		t.Fatal(err)
	}
	ep := gatewaytest.NewHTTPEndpoint(t)
	g, err := slack.New(slack.Config{Endpoint: ep.URL + hookPath}, gateway.Env{Templates: tpl})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", slack.Transport, "ops")); err != nil {
		t.Fatal(err)
	}
	if body := string(ep.Requests()[0].Body); !strings.Contains(body, `"text":":rotating_light: app-01:HTTP Critical"`) {
		t.Errorf("body %s does not carry the custom text", body)
	}
}

// slackServer answers like Slack: a status and an error code.
func slackServer(t *testing.T, status int, body string, header http.Header) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		status     int
		body       string
		header     http.Header
		perm       bool
		err        string
		retryAfter time.Duration
	}{
		{status: 400, body: "invalid_payload", perm: true, err: "slack: HTTP status 400 Bad Request (invalid_payload)"},
		{status: 403, body: "action_prohibited", perm: true, err: "slack: HTTP status 403 Forbidden (action_prohibited)"},
		{status: 404, body: "channel_not_found", perm: true, err: "slack: HTTP status 404 Not Found (channel_not_found)"},
		{status: 410, body: "channel_is_archived", perm: true, err: "slack: HTTP status 410 Gone (channel_is_archived)"},
		{status: 429, body: "rate_limited", header: http.Header{"Retry-After": {"30"}},
			err: "slack: HTTP status 429 Too Many Requests (rate_limited)", retryAfter: 30 * time.Second},
		{status: 500, body: "rollup_error", err: "slack: HTTP status 500 Internal Server Error (rollup_error)"},
		{status: 502, body: "<html>Bad Gateway " + hookPath + "</html>", err: "slack: HTTP status 502 Bad Gateway"},
		{status: 503, body: "", err: "slack: HTTP status 503 Service Unavailable"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := slackServer(t, tc.status, tc.body, tc.header)
			g := newGateway(t, gateway.MapConfig{"endpoint": srv.URL + hookPath})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", slack.Transport, "ops"))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.err {
				t.Errorf("error %q, want %q", err, tc.err)
			}
			if gateway.IsPermanent(err) != tc.perm {
				t.Errorf("permanent %v, want %v", !tc.perm, tc.perm)
			}
			var se *gateway.StatusError
			if !errors.As(err, &se) || se.Code != tc.status || se.RetryAfter != tc.retryAfter {
				t.Errorf("error %#v, want status %d retry after %s", se, tc.status, tc.retryAfter)
			}
			gatewaytest.AssertNoSecrets(t, []string{hookToken, srv.URL + hookPath}, err.Error())
		})
	}
}

func TestTransportErrors(t *testing.T) {
	// Connection refused.
	srv := httptest.NewServer(http.NotFoundHandler())
	closed := srv.URL
	srv.Close()
	g := newGateway(t, gateway.MapConfig{"endpoint": closed + hookPath})
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", slack.Transport, "ops"))
	if err == nil || gateway.IsPermanent(err) || !strings.HasPrefix(err.Error(), "slack: ") {
		t.Errorf("connection refused: %v, want a retryable slack error", err)
	}
	gatewaytest.AssertNoSecrets(t, []string{hookToken}, err.Error())

	// A stalled endpoint: the timeout ends the request, retryable.
	release := make(chan struct{})
	var once sync.Once
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stall.Close)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	g = newGateway(t, gateway.MapConfig{"endpoint": stall.URL + hookPath, "timeout": 0.05})
	err = g.Send(context.Background(), gatewaytest.NewAlert("problem", slack.Transport, "ops"))
	if !errors.Is(err, context.DeadlineExceeded) || gateway.IsPermanent(err) || !strings.Contains(err.Error(), "no response within 50ms") {
		t.Errorf("stalled endpoint: %v, want a retryable timeout", err)
	}
	gatewaytest.AssertNoSecrets(t, []string{hookToken}, err.Error())
}

func TestConfigErrors(t *testing.T) {
	const secretURL = "https://hooks.slack.com/services/T0/B0/" + hookToken
	for _, tc := range []struct {
		cfg  gateway.MapConfig
		want []string
	}{
		{gateway.MapConfig{}, []string{"endpoint: required"}},
		{gateway.MapConfig{"endpoint": "https://hooks.slack.com/services/%zz/" + hookToken}, []string{"endpoint: not a valid URL"}},
		{gateway.MapConfig{"endpoint": "ftp://hooks.slack.com/" + hookToken}, []string{"endpoint: want an https URL"}},
		{gateway.MapConfig{"endpoint": "https:///services/" + hookToken}, []string{"endpoint: URL has no host"}},
		{gateway.MapConfig{"endpoint": secretURL, "timeout": -1}, []string{"timeout: -1 seconds is negative"}},
		{gateway.MapConfig{"timeout": -2}, []string{"endpoint: required", "timeout: -2 seconds is negative"}},
		{gateway.MapConfig{"endpoint": secretURL, "channel": "#ops"}, []string{`unknown key "channel"`}},
	} {
		_, err := gateway.New(slack.Transport, tc.cfg, gateway.Env{})
		if err == nil {
			t.Errorf("config %v accepted", tc.cfg)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("config %v: error %q does not report %q", tc.cfg, err, w)
			}
		}
		gatewaytest.AssertNoSecrets(t, []string{hookToken}, err.Error())
	}
}

func TestChannel(t *testing.T) {
	for address, want := range map[string]string{"": "#general", "ops": "#ops", "#ops": "#ops", "@ada": "@ada"} {
		if got := slack.Channel(address); got != want {
			t.Errorf("Channel(%q) = %q, want %q", address, got, want)
		}
	}
}
