package nexmo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/internal/endpointtest"
	"github.com/x/flapjack/gateway/nexmo"
)

const (
	apiKey = "a1b2c3d4"
	secret = "s3cret-0f-the-vonage-api"
	from   = "Flapjack"
	phone  = "+61400000001"
)

// vonage is a fake SMS API. It answers like Vonage: 200 with a reply whose
// message status is "0", or, when told to fail, an HTTP status or a reply with
// another status. Failing answers echo the request, as a careless service
// might, so that a gateway copying them into its errors is caught.
type vonage struct {
	URL string

	t       testing.TB
	mu      sync.Mutex
	reqs    []gatewaytest.Request
	failure string
}

// vonageFailures are the failures of the fake: the HTTP ones of every gateway,
// then statuses of Vonage's replies and a reply that is not one.
func vonageFailures() []gatewaytest.Failure {
	return append(gatewaytest.HTTPFailures(),
		gatewaytest.Failure{Name: "vonage 1", Retryable: true},
		gatewaytest.Failure{Name: "vonage 5", Retryable: true},
		gatewaytest.Failure{Name: "vonage 10", Retryable: true},
		gatewaytest.Failure{Name: "vonage 2", Retryable: false},
		gatewaytest.Failure{Name: "vonage 4", Retryable: false},
		gatewaytest.Failure{Name: "vonage 9", Retryable: false},
		gatewaytest.Failure{Name: "vonage 29", Retryable: false},
		gatewaytest.Failure{Name: "vonage 99", Retryable: false},
		gatewaytest.Failure{Name: "second part 6", Retryable: false},
		gatewaytest.Failure{Name: "not a reply", Retryable: true},
	)
}

func newVonage(t testing.TB) *vonage {
	v := &vonage{t: t}
	srv := httptest.NewServer(http.HandlerFunc(v.serve))
	t.Cleanup(srv.Close)
	v.URL = srv.URL
	return v
}

func (v *vonage) Fail(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failure = name
}

func (v *vonage) Requests() []gatewaytest.Request {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.reqs)
}

// Delivered lists the values of the requests answered with status "0".
func (v *vonage) Delivered() []string {
	var out []string
	for _, r := range v.Requests() {
		if r.Status == http.StatusOK {
			out = append(out, fmt.Sprint(endpointtest.Values(v.t, r)))
		}
	}
	return out
}

func (v *vonage) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := gatewaytest.Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	v.mu.Lock()
	failure := v.failure
	v.mu.Unlock()
	echo := fmt.Sprintf("%s %s headers=%v body=%s", r.Method, r.URL, r.Header, body)
	record := func(status int) {
		req.Status = status
		v.mu.Lock()
		v.reqs = append(v.reqs, req)
		v.mu.Unlock()
	}
	reply := func(statuses ...string) {
		var msgs []map[string]string
		for _, s := range statuses {
			m := map[string]string{"to": "61400000001", "status": s}
			if s == "0" {
				m["message-id"] = "0C000000217B7F02"
			} else {
				m["error-text"] = "refused: " + echo
			}
			msgs = append(msgs, m)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"message-count": strconv.Itoa(len(msgs)), "messages": msgs})
	}
	switch {
	case failure == "":
		record(http.StatusOK)
		reply("0")
	case failure == gatewaytest.FailDisconnect:
		record(0)
		panic(http.ErrAbortHandler)
	case strings.HasPrefix(failure, "status "):
		code, _ := strconv.Atoi(strings.TrimPrefix(failure, "status "))
		record(code)
		w.WriteHeader(code)
		_, _ = io.WriteString(w, echo)
	case strings.HasPrefix(failure, "vonage "):
		record(-1)
		reply(strings.TrimPrefix(failure, "vonage "))
	case strings.HasPrefix(failure, "second part "):
		record(-1)
		reply("0", strings.TrimPrefix(failure, "second part "))
	case failure == "not a reply":
		record(-1)
		_, _ = io.WriteString(w, "<html>"+echo+"</html>")
	default:
		v.t.Errorf("vonage: unknown failure %q", failure)
	}
}

func config(host string) gateway.MapConfig {
	return gateway.MapConfig{"api_key": apiKey, "secret": secret, "from": from, "endpoint_host": host}
}

func newGateway(t *testing.T, cfg gateway.MapConfig, env gateway.Env) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(nexmo.Transport, cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: nexmo.Transport,
		Failures:  vonageFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			v := newVonage(t)
			g, err := nexmo.New(nexmo.Config{APIKey: apiKey, Secret: secret, From: from, EndpointHost: v.URL}, env)
			if err != nil {
				t.Fatal(err)
			}
			return gatewaytest.Target{Gateway: g, Address: phone, Delivered: v.Delivered, Fail: v.Fail, Secrets: []string{secret}}
		},
	})
}

// TestRequests checks the exact request for every kind of alert.
func TestRequests(t *testing.T) {
	for _, kind := range gatewaytest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			v := newVonage(t)
			g := newGateway(t, config(v.URL), gateway.Env{})
			if err := g.Send(context.Background(), gatewaytest.NewAlert(kind, nexmo.Transport, phone)); err != nil {
				t.Fatal(err)
			}
			reqs := v.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/sms/json" || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST /sms/json", r.Method, r.Path, r.RawQuery)
			}
			for k, want := range map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"} {
				if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if got := r.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization %q sent; the credentials go in the form", got)
			}
			want := url.Values{"api_key": {apiKey}, "api_secret": {secret}, "from": {from}, "to": {phone}, "text": {endpointtest.SMSTexts[kind]}}
			if string(r.Body) != want.Encode() {
				t.Errorf("body\n got %s\nwant %s", r.Body, want.Encode())
			}
		})
	}
}

func TestTruncation(t *testing.T) {
	for _, tc := range endpointtest.Truncations(nexmo.Transport, phone, nexmo.MaxLength) {
		t.Run(tc.Name, func(t *testing.T) {
			v := newVonage(t)
			g := newGateway(t, config(v.URL), gateway.Env{})
			if err := g.Send(context.Background(), tc.Alert); err != nil {
				t.Fatal(err)
			}
			values := endpointtest.Values(t, v.Requests()[0])
			if got := values.Get("text"); got != tc.Want {
				t.Errorf("text\n got %q\nwant %q", got, tc.Want)
			}
			// Texts of other characters than ASCII go as unicode, or they
			// arrive garbled.
			wantType := ""
			if strings.Contains(tc.Want, "é") {
				wantType = "unicode"
			}
			if got := values.Get("type"); got != wantType {
				t.Errorf("type %q, want %q", got, wantType)
			}
		})
	}
}

// TestErrors checks how each failure reads and is classified.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		failure string
		err     string
		perm    bool
		status  int // of a *gateway.StatusError; 0 for none
		vonage  string
	}{
		{failure: "status 401", err: "sms_nexmo: HTTP status 401 Unauthorized", perm: true, status: 401},
		{failure: "status 429", err: "sms_nexmo: HTTP status 429 Too Many Requests", status: 429},
		{failure: "status 500", err: "sms_nexmo: HTTP status 500 Internal Server Error", status: 500},
		{failure: "vonage 1", err: "sms_nexmo: Vonage status 1 (Throttled)", vonage: "1"},
		{failure: "vonage 5", err: "sms_nexmo: Vonage status 5 (Internal Error)", vonage: "5"},
		{failure: "vonage 10", err: "sms_nexmo: Vonage status 10 (Too Many Existing Binds)", vonage: "10"},
		{failure: "vonage 2", err: "sms_nexmo: Vonage status 2 (Missing Parameters)", perm: true, vonage: "2"},
		{failure: "vonage 3", err: "sms_nexmo: Vonage status 3 (Invalid Parameters)", perm: true, vonage: "3"},
		{failure: "vonage 4", err: "sms_nexmo: Vonage status 4 (Invalid Credentials)", perm: true, vonage: "4"},
		{failure: "vonage 9", err: "sms_nexmo: Vonage status 9 (Partner Quota Violation)", perm: true, vonage: "9"},
		{failure: "vonage 15", err: "sms_nexmo: Vonage status 15 (Invalid Sender Address)", perm: true, vonage: "15"},
		{failure: "vonage 29", err: "sms_nexmo: Vonage status 29 (Non-Whitelisted Destination)", perm: true, vonage: "29"},
		{failure: "vonage 99", err: "sms_nexmo: Vonage status 99", perm: true, vonage: "99"},
		{failure: "vonage " + secret, err: "sms_nexmo: the reply is not a Vonage SMS API reply"},
		{failure: "second part 6", err: "sms_nexmo: Vonage status 6 (Invalid Message)", perm: true, vonage: "6"},
		{failure: "not a reply", err: "sms_nexmo: the reply is not a Vonage SMS API reply"},
	} {
		t.Run(tc.failure, func(t *testing.T) {
			v := newVonage(t)
			v.Fail(tc.failure)
			g := newGateway(t, config(v.URL), gateway.Env{})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", nexmo.Transport, phone))
			if err == nil || err.Error() != tc.err {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if gateway.IsPermanent(err) != tc.perm {
				t.Errorf("permanent %v, want %v", !tc.perm, tc.perm)
			}
			var se *gateway.StatusError
			if got := errors.As(err, &se); got != (tc.status != 0) || (got && se.Code != tc.status) {
				t.Errorf("error %v: HTTP status %v, want %d", err, se, tc.status)
			}
			var ve *nexmo.StatusError
			if got := errors.As(err, &ve); got != (tc.vonage != "") || (got && ve.Status != tc.vonage) {
				t.Errorf("error %v: Vonage status %v, want %q", err, ve, tc.vonage)
			}
			gatewaytest.AssertNoSecrets(t, []string{secret}, err.Error())
		})
	}
}

func TestEmptyAddress(t *testing.T) {
	v := newVonage(t)
	g := newGateway(t, config(v.URL), gateway.Env{})
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", nexmo.Transport, ""))
	if err == nil || !gateway.IsPermanent(err) {
		t.Errorf("Send to an empty address: %v, want a permanent error", err)
	}
	if n := len(v.Requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  gateway.MapConfig
		want []string
	}{
		{"empty", gateway.MapConfig{}, []string{"api_key: required", "secret: required", "from: required"}},
		{"no secret", gateway.MapConfig{"api_key": apiKey, "from": from}, []string{"secret: required"}},
		{"bad endpoint and timeout", gateway.MapConfig{
			"secret": secret, "endpoint_host": "http://", "endpoint_path": "sms/json", "timeout": -1,
		}, []string{
			"api_key: required", "from: required", "endpoint_host: URL has no host",
			"endpoint_path: want an absolute path", "timeout: -1 seconds is negative",
		}},
		{"the wire name of the secret", gateway.MapConfig{"api_key": apiKey, "api_secret": secret, "from": from}, []string{`unknown key "api_secret"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.New(nexmo.Transport, tc.cfg, gateway.Env{})
			if err == nil {
				t.Fatalf("config %v accepted", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not report %q", err, w)
				}
			}
			gatewaytest.AssertNoSecrets(t, []string{secret}, err.Error())
		})
	}
}

// TestScenario is Flapjack v2's Vonage delivery scenario: an alert is sent to
// the SMS API's real address, which accepts it.
func TestScenario(t *testing.T) {
	srv, requests := endpointtest.Server(t, http.StatusOK, `{"messages":[{"status":"0","message-id":"abc"}]}`)
	client, asked := endpointtest.Redirect(t, srv.URL)
	g := newGateway(t, gateway.MapConfig{"api_key": "THEAPIKEY", "secret": "secret", "from": "someone"}, gateway.Env{HTTPClient: client})
	a := &flapjack.Alert{
		ID: "alert-1", Transport: nexmo.Transport, Address: "+61888888888", ContactName: "John Smith",
		CheckName: "example.com:PING", Type: flapjack.TypeProblem, Condition: flapjack.Critical,
		ConditionDuration: 15 * time.Second, Time: time.Now(),
	}
	s := endpointtest.Deliver(t, nexmo.Transport, g, a)
	if requests() != 1 {
		t.Fatalf("%d requests made, want 1", requests())
	}
	if u := asked()[0]; u.String() != "https://rest.nexmo.com/sms/json" {
		t.Errorf("request for %s, want https://rest.nexmo.com/sms/json", u.String())
	}
	if s.Sent != 1 || s.Failed != 0 {
		t.Errorf("sent %d, failed %d; want 1, 0", s.Sent, s.Failed)
	}
}
