package twilio_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/internal/endpointtest"
	"github.com/x/flapjack/gateway/twilio"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "t0ken-0f-the-twilio-account"
	from       = "+61400000000"
	phone      = "+61400000001"
	path       = "/2010-04-01/Accounts/" + accountSID + "/Messages.json"
)

func config(host string) gateway.MapConfig {
	return gateway.MapConfig{"account_sid": accountSID, "auth_token": authToken, "from": from, "endpoint_host": host}
}

func newGateway(t *testing.T, cfg gateway.MapConfig, env gateway.Env) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(twilio.Transport, cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: twilio.Transport,
		Failures:  gatewaytest.HTTPFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := twilio.New(twilio.Config{AccountSID: accountSID, AuthToken: authToken, From: from, EndpointHost: ep.URL}, env)
			if err != nil {
				t.Fatal(err)
			}
			return gatewaytest.Target{
				Gateway: g, Address: phone, Delivered: endpointtest.Delivered(t, ep), Fail: ep.Fail,
				Secrets: []string{authToken},
			}
		},
	})
}

// TestRequests checks the exact request for every kind of alert.
func TestRequests(t *testing.T) {
	for _, kind := range gatewaytest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, config(ep.URL), gateway.Env{})
			if err := g.Send(context.Background(), gatewaytest.NewAlert(kind, twilio.Transport, phone)); err != nil {
				t.Fatal(err)
			}
			reqs := ep.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != path || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST %s", r.Method, r.Path, r.RawQuery, path)
			}
			for k, v := range map[string]string{
				"Content-Type":  "application/x-www-form-urlencoded",
				"Accept":        "application/json",
				"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(accountSID+":"+authToken)),
			} {
				if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			// The header is what a server's Basic authentication reads.
			hr := &http.Request{Header: r.Header}
			if user, pass, ok := hr.BasicAuth(); !ok || user != accountSID || pass != authToken {
				t.Errorf("Basic credentials %q, %v; want the account SID and auth token", user, ok)
			}
			want := url.Values{"To": {phone}, "From": {from}, "Body": {endpointtest.SMSTexts[kind]}}
			if string(r.Body) != want.Encode() {
				t.Errorf("body\n got %s\nwant %s", r.Body, want.Encode())
			}
		})
	}
}

func TestEndpointPath(t *testing.T) {
	ep := gatewaytest.NewHTTPEndpoint(t)
	cfg := config(ep.URL)
	cfg["endpoint_path"] = "/proxy/twilio/Messages.json"
	g := newGateway(t, cfg, gateway.Env{})
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", twilio.Transport, phone)); err != nil {
		t.Fatal(err)
	}
	if got := ep.Requests()[0].Path; got != "/proxy/twilio/Messages.json" {
		t.Errorf("path %q, want the configured one", got)
	}
	if got := twilio.DefaultEndpointPath("AC/x y"); got != "/2010-04-01/Accounts/AC%2Fx%20y/Messages.json" {
		t.Errorf("DefaultEndpointPath escapes to %q", got)
	}
}

func TestDefaultEndpoint(t *testing.T) {
	srv, requests := endpointtest.Server(t, http.StatusCreated, `{"sid":"SM0123","status":"queued"}`)
	client, asked := endpointtest.Redirect(t, srv.URL)
	g := newGateway(t, gateway.MapConfig{"account_sid": accountSID, "auth_token": authToken, "from": from}, gateway.Env{HTTPClient: client})
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", twilio.Transport, phone)); err != nil {
		t.Fatal(err)
	}
	if requests() != 1 {
		t.Fatalf("%d requests, want 1", requests())
	}
	if u := asked()[0]; u.String() != "https://api.twilio.com"+path {
		t.Errorf("request for %s, want https://api.twilio.com%s", u.String(), path)
	}
}

func TestTruncation(t *testing.T) {
	for _, tc := range endpointtest.Truncations(twilio.Transport, phone, twilio.MaxLength) {
		t.Run(tc.Name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, config(ep.URL), gateway.Env{})
			if err := g.Send(context.Background(), tc.Alert); err != nil {
				t.Fatal(err)
			}
			if got := endpointtest.Values(t, ep.Requests()[0]).Get("Body"); got != tc.Want {
				t.Errorf("Body\n got %q\nwant %q", got, tc.Want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range endpointtest.Statuses {
		t.Run(http.StatusText(tc.Code), func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			ep.Fail("status " + strconv.Itoa(tc.Code))
			g := newGateway(t, config(ep.URL), gateway.Env{})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", twilio.Transport, phone))
			if err == nil {
				t.Fatal("no error")
			}
			if want := "sms_twilio: HTTP status " + strconv.Itoa(tc.Code) + " " + http.StatusText(tc.Code); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if gateway.IsPermanent(err) != tc.Permanent {
				t.Errorf("permanent %v, want %v", !tc.Permanent, tc.Permanent)
			}
			gatewaytest.AssertNoSecrets(t, []string{authToken}, err.Error())
		})
	}
}

// TestTwilioErrors checks that the error names Twilio's code, and nothing else
// of its answer.
func TestTwilioErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		perm   bool
		err    string
	}{
		{400, `{"code":21211,"message":"The 'To' number ` + phone + ` is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`,
			true, "sms_twilio: HTTP status 400 Bad Request (Twilio error 21211)"},
		{401, `{"code":20003,"message":"Authenticate ` + authToken + `","status":401}`,
			true, "sms_twilio: HTTP status 401 Unauthorized (Twilio error 20003)"},
		{429, `{"code":20429,"message":"Too Many Requests","status":429}`,
			false, "sms_twilio: HTTP status 429 Too Many Requests (Twilio error 20429)"},
		{500, `<html>` + authToken + `</html>`, false, "sms_twilio: HTTP status 500 Internal Server Error"},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			srv, _ := endpointtest.Server(t, tc.status, tc.body)
			g := newGateway(t, config(srv.URL), gateway.Env{})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", twilio.Transport, phone))
			if err == nil || err.Error() != tc.err {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if gateway.IsPermanent(err) != tc.perm {
				t.Errorf("permanent %v, want %v", !tc.perm, tc.perm)
			}
			var se *gateway.StatusError
			if !errors.As(err, &se) || se.Code != tc.status {
				t.Errorf("error %v does not carry status %d", err, tc.status)
			}
			gatewaytest.AssertNoSecrets(t, []string{authToken}, err.Error())
		})
	}
}

func TestEmptyAddress(t *testing.T) {
	ep := gatewaytest.NewHTTPEndpoint(t)
	g := newGateway(t, config(ep.URL), gateway.Env{})
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", twilio.Transport, ""))
	if err == nil || !gateway.IsPermanent(err) {
		t.Errorf("Send to an empty address: %v, want a permanent error", err)
	}
	if n := len(ep.Requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  gateway.MapConfig
		want []string
	}{
		{"empty", gateway.MapConfig{}, []string{"account_sid: required", "auth_token: required", "from: required"}},
		{"no token", gateway.MapConfig{"account_sid": accountSID, "from": from}, []string{"auth_token: required"}},
		{"bad endpoint and timeout", gateway.MapConfig{
			"auth_token": authToken, "endpoint_host": "api.twilio.com/" + authToken, "endpoint_path": "Messages", "timeout": -3,
		}, []string{
			"account_sid: required", "from: required", "endpoint_host: not a host name",
			"endpoint_path: want an absolute path", "timeout: -3 seconds is negative",
		}},
		{"unknown key", gateway.MapConfig{"account_sid": accountSID, "auth_token": authToken, "from": from, "token": "x"}, []string{`unknown key "token"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.New(twilio.Transport, tc.cfg, gateway.Env{})
			if err == nil {
				t.Fatalf("config %v accepted", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not report %q", err, w)
				}
			}
			gatewaytest.AssertNoSecrets(t, []string{authToken}, err.Error())
		})
	}
}
