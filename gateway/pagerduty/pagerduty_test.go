package pagerduty_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/pagerduty"
)

// routingKey is a medium's address: an integration's routing key, a secret.
const routingKey = "R0ut1ngK3y0123456789abcdefSECRET"

const enqueuePath = "/v2/enqueue"

func newGateway(t *testing.T, cfg gateway.MapConfig) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(pagerduty.Transport, cfg, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRequests checks the exact request for every kind of alert.
func TestRequests(t *testing.T) {
	for _, tc := range []struct {
		kind string
		body string
	}{
		{"problem", `{"routing_key":"` + routingKey + `","event_action":"trigger","dedup_key":"app-01:HTTP",` +
			`"payload":{"summary":"Problem: \"app-01:HTTP\" is Critical, HTTP 500","source":"app-01","severity":"critical",` +
			`"timestamp":"2016-02-01T12:00:00Z","component":"HTTP",` +
			`"custom_details":{"check":"app-01:HTTP","state":"critical","summary":"HTTP 500","details":"upstream refused the connection","hostname":"app-01","service":"HTTP"}}}`},
		{"test", `{"routing_key":"` + routingKey + `","event_action":"trigger","dedup_key":"app-01:HTTP",` +
			`"payload":{"summary":"Test: \"app-01:HTTP\", testing","source":"app-01","severity":"critical",` +
			`"timestamp":"2016-02-01T12:00:00Z","component":"HTTP",` +
			`"custom_details":{"check":"app-01:HTTP","state":"test_notifications","summary":"testing","details":"upstream refused the connection","hostname":"app-01","service":"HTTP"}}}`},
		{"acknowledgement", `{"routing_key":"` + routingKey + `","event_action":"acknowledge","dedup_key":"app-01:HTTP"}`},
		{"recovery", `{"routing_key":"` + routingKey + `","event_action":"resolve","dedup_key":"app-01:HTTP"}`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, gateway.MapConfig{"events_url": ep.URL + enqueuePath})
			if err := g.Send(context.Background(), gatewaytest.NewAlert(tc.kind, pagerduty.Transport, routingKey)); err != nil {
				t.Fatal(err)
			}
			reqs := ep.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != enqueuePath || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST %s", r.Method, r.Path, r.RawQuery, enqueuePath)
			}
			if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			if got := r.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization %q sent; the routing key is the credential", got)
			}
			if string(r.Body) != tc.body {
				t.Errorf("body\n got %s\nwant %s", r.Body, tc.body)
			}
		})
	}
}

func TestPayloadFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(a *flapjack.Alert)
		want   []string
		absent []string
	}{
		{"warning", func(a *flapjack.Alert) { a.Condition = flapjack.Warning }, []string{`"severity":"warning"`}, nil},
		{"unknown is error", func(a *flapjack.Alert) { a.Condition = flapjack.Unknown }, []string{`"severity":"error"`}, nil},
		{"test of a healthy check is info", func(a *flapjack.Alert) {
			a.Type, a.Action, a.Condition = flapjack.TypeTest, flapjack.TestNotifications, flapjack.OK
		}, []string{`"event_action":"trigger"`, `"severity":"info"`}, nil},
		{"check name without entity", func(a *flapjack.Alert) { a.CheckName = "PING" },
			[]string{`"dedup_key":"PING"`, `"source":"PING"`, `"hostname":"PING"`}, []string{`"component"`, `"service"`}},
		{"only the first colon splits", func(a *flapjack.Alert) { a.CheckName = "db-01:disk:/var" },
			[]string{`"source":"db-01"`, `"component":"disk:/var"`, `"service":"disk:/var"`}, nil},
		{"no details, no time", func(a *flapjack.Alert) { a.Details, a.Time = "", time.Time{} },
			nil, []string{`"details"`, `"timestamp"`}},
		{"text is not HTML-escaped", func(a *flapjack.Alert) { a.Summary = "a < b & c" },
			[]string{`"summary":"Problem: \"app-01:HTTP\" is Critical, a < b & c"`}, nil},
		{"long summary cut to 1024 characters", func(a *flapjack.Alert) { a.Summary = strings.Repeat("é", 2000) },
			[]string{`"summary":"Problem: \"app-01:HTTP\" is Critical, ` + strings.Repeat("é", 1024-3-len(`Problem: "app-01:HTTP" is Critical, `)) + `..."`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, gateway.MapConfig{"events_url": ep.URL})
			a := gatewaytest.NewAlert("problem", pagerduty.Transport, routingKey)
			tc.change(a)
			if err := g.Send(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			body := string(ep.Requests()[0].Body)
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body %s\ndoes not contain %s", body, w)
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(body, w) {
					t.Errorf("body %s\ncontains %s", body, w)
				}
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	for c, want := range map[flapjack.Condition]string{
		flapjack.Critical: "critical", flapjack.Warning: "warning", flapjack.Unknown: "error",
		flapjack.OK: "info", flapjack.NoCondition: "info",
	} {
		if got := pagerduty.Severity(c); got != want {
			t.Errorf("Severity(%q) = %q, want %q", c, got, want)
		}
	}
}

func TestCustomTemplate(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	if err := tpl.Override("pagerduty", "alert.text", `{{.CheckName}} {{.StateTitleCase}}`); err != nil {
		t.Fatal(err)
	}
	ep := gatewaytest.NewHTTPEndpoint(t)
	g, err := pagerduty.New(pagerduty.Config{EventsURL: ep.URL}, gateway.Env{Templates: tpl})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", pagerduty.Transport, routingKey)); err != nil {
		t.Fatal(err)
	}
	if body := string(ep.Requests()[0].Body); !strings.Contains(body, `"summary":"app-01:HTTP Critical"`) {
		t.Errorf("body %s does not carry the custom text", body)
	}
}

// Refused alerts are permanent failures that send nothing.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		alert   *flapjack.Alert
		wantErr string
	}{
		{"rollup problem", gatewaytest.NewAlert("rollup problem", pagerduty.Transport, routingKey), "rollup alerts are not supported"},
		{"rollup recovery", gatewaytest.NewAlert("rollup recovery", pagerduty.Transport, routingKey), "rollup alerts are not supported"},
		{"no routing key", gatewaytest.NewAlert("problem", pagerduty.Transport, ""), "no routing key"},
		{"unknown type", func() *flapjack.Alert {
			a := gatewaytest.NewAlert("problem", pagerduty.Transport, routingKey)
			a.Type = "escalation"
			return a
		}(), `unknown alert type "escalation"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, gateway.MapConfig{"events_url": ep.URL})
			err := g.Send(context.Background(), tc.alert)
			if err == nil || !gateway.IsPermanent(err) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Send = %v, want a permanent error saying %q", err, tc.wantErr)
			}
			if n := len(ep.Requests()); n != 0 {
				t.Errorf("%d requests sent, want none", n)
			}
			gatewaytest.AssertNoSecrets(t, []string{routingKey}, err.Error())
		})
	}
}

// pdServer answers like the Events API: a status, a JSON body that echoes the
// routing key as PagerDuty's errors may, and headers.
func pdServer(t *testing.T, status int, header http.Header) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusAccepted {
			_, _ = io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"app-01:HTTP"}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"invalid event","message":"Event object is invalid","errors":["bad event `+string(body)+`"]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		status     int
		header     http.Header
		perm       bool
		err        string
		retryAfter time.Duration
	}{
		{status: 202},
		{status: 400, perm: true, err: "pagerduty: HTTP status 400 Bad Request"},
		{status: 429, header: http.Header{"Retry-After": {"30"}}, err: "pagerduty: HTTP status 429 Too Many Requests", retryAfter: 30 * time.Second},
		{status: 429, err: "pagerduty: HTTP status 429 Too Many Requests"},
		{status: 500, err: "pagerduty: HTTP status 500 Internal Server Error"},
		{status: 502, err: "pagerduty: HTTP status 502 Bad Gateway"},
		{status: 503, err: "pagerduty: HTTP status 503 Service Unavailable"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := pdServer(t, tc.status, tc.header)
			g := newGateway(t, gateway.MapConfig{"events_url": srv.URL + enqueuePath})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", pagerduty.Transport, routingKey))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("Send = %v, want a delivery", err)
				}
				return
			}
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
			gatewaytest.AssertNoSecrets(t, []string{routingKey}, err.Error())
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stall.Close)
	t.Cleanup(func() { close(release) })
	g := newGateway(t, gateway.MapConfig{"events_url": stall.URL, "timeout": 0.05})
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", pagerduty.Transport, routingKey))
	if !errors.Is(err, context.DeadlineExceeded) || gateway.IsPermanent(err) || !strings.Contains(err.Error(), "no response within 50ms") {
		t.Errorf("stalled endpoint: %v, want a retryable timeout", err)
	}
	gatewaytest.AssertNoSecrets(t, []string{routingKey}, err.Error())
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  gateway.MapConfig
		want []string
	}{
		{gateway.MapConfig{"events_url": "https://events.example.com/%zz"}, []string{"events_url: not a valid URL"}},
		{gateway.MapConfig{"events_url": "ftp://events.example.com/"}, []string{"events_url: want an https URL"}},
		{gateway.MapConfig{"api_url": "https:///incidents"}, []string{"api_url: URL has no host"}},
		{gateway.MapConfig{"timeout": -1, "ack_poll_interval": -2}, []string{"timeout: -1 seconds is negative", "ack_poll_interval: -2 seconds is negative"}},
		{gateway.MapConfig{"service_key": routingKey}, []string{`unknown key "service_key"`}},
	} {
		_, err := gateway.New(pagerduty.Transport, tc.cfg, gateway.Env{})
		if err == nil {
			t.Errorf("config %v accepted", tc.cfg)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("config %v: error %q does not report %q", tc.cfg, err, w)
			}
		}
		gatewaytest.AssertNoSecrets(t, []string{routingKey}, err.Error())
	}

	// Flapjack v2's example configuration carries an unused credentials table.
	v2 := gateway.MapConfig{"credentials": map[string]any{"subdomain": "example"}}
	if _, err := gateway.New(pagerduty.Transport, v2, gateway.Env{}); err != nil {
		t.Errorf("a v2 credentials table: %v", err)
	}

	var c pagerduty.Config
	if err := (gateway.MapConfig{"api_url": "http://127.0.0.1:1/pd", "processor_queue": "acks", "ack_poll_interval": 2.5, "timeout": 3}).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if !c.PollsAcks() {
		t.Error("ack polling is off by default")
	}
	o, err := c.AckPollerOptions()
	if err != nil {
		t.Fatal(err)
	}
	want := pagerduty.AckPollerOptions{APIURL: "http://127.0.0.1:1/pd", Queue: "acks", Interval: 2500 * time.Millisecond, Timeout: 3 * time.Second}
	if o.APIURL != want.APIURL || o.Queue != want.Queue || o.Interval != want.Interval || o.Timeout != want.Timeout {
		t.Errorf("AckPollerOptions = %+v, want %+v", o, want)
	}
	o, err = pagerduty.Config{}.AckPollerOptions()
	if err != nil || o.APIURL != pagerduty.DefaultAPIURL || o.Queue != "events" || o.Interval != 10*time.Second || o.Timeout != 10*time.Second {
		t.Errorf("default AckPollerOptions = %+v, %v", o, err)
	}
	off := false
	if (pagerduty.Config{AckPolling: &off}).PollsAcks() {
		t.Error("ack_polling = false leaves polling on")
	}
}

// A delivery table decoded onto the defaults keeps the keys it does not set.
func TestDeliveryDefaults(t *testing.T) {
	c := pagerduty.DeliveryDefaults()
	o, err := c.Options()
	if err != nil || o.Rate != 2 || o.RateKey != gateway.RatePerAddress {
		t.Fatalf("defaults = %+v, %v; want 2 per second per address", o, err)
	}
	if err := (gateway.MapConfig{"workers": 4}).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if o, _ := c.Options(); o.Workers != 4 || o.Rate != 2 || o.RateKey != gateway.RatePerAddress {
		t.Errorf("with workers = 4: %+v", o)
	}
	c = pagerduty.DeliveryDefaults()
	if err := (gateway.MapConfig{"rate": 0.5, "rate_key": "transport"}).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if o, _ := c.Options(); o.Rate != 0.5 || o.RateKey != gateway.RatePerTransport {
		t.Errorf("a person's rate does not win: %+v", o)
	}
}
