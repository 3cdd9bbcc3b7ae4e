package aspsms_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/aspsms"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/internal/endpointtest"
)

const (
	userKey  = "ABCDEFGHIJKL"
	password = "pa55-w0rd-aspsms"
	phone    = "+41790000001"
)

func config(host string) gateway.MapConfig {
	return gateway.MapConfig{"username": userKey, "password": password, "endpoint_host": host}
}

func newGateway(t *testing.T, cfg gateway.MapConfig, env gateway.Env) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(aspsms.Transport, cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: aspsms.Transport,
		Failures:  gatewaytest.HTTPFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := aspsms.New(aspsms.Config{Username: userKey, Password: password, EndpointHost: ep.URL}, env)
			if err != nil {
				t.Fatal(err)
			}
			return gatewaytest.Target{
				Gateway: g, Address: phone, Delivered: endpointtest.Delivered(t, ep), Fail: ep.Fail,
				Secrets: []string{password},
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
			if err := g.Send(context.Background(), gatewaytest.NewAlert(kind, aspsms.Transport, phone)); err != nil {
				t.Fatal(err)
			}
			reqs := ep.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != aspsms.DefaultEndpointPath || len(r.Body) != 0 {
				t.Errorf("request %s %s with %d bytes of body, want GET %s", r.Method, r.Path, len(r.Body), aspsms.DefaultEndpointPath)
			}
			want := url.Values{
				"UserKey": {userKey}, "Password": {password}, "Recipient": {phone},
				"Originator": {"Flapjack"}, "MessageText": {endpointtest.SMSTexts[kind]},
			}
			if r.RawQuery != want.Encode() {
				t.Errorf("query\n got %s\nwant %s", r.RawQuery, want.Encode())
			}
		})
	}
}

func TestOriginatorAndDefaultEndpoint(t *testing.T) {
	srv, _ := endpointtest.Server(t, http.StatusOK, "StatusCode:1")
	client, asked := endpointtest.Redirect(t, srv.URL)
	g := newGateway(t, gateway.MapConfig{"username": userKey, "password": password, "originator": "Ops"}, gateway.Env{HTTPClient: client})
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", aspsms.Transport, phone)); err != nil {
		t.Fatal(err)
	}
	u := asked()[0]
	if u.Scheme != "https" || u.Host != "webservice.aspsms.com" || u.Path != "/aspsmsx.asmx/SimpleTextSMS" {
		t.Errorf("request for %s://%s%s, want https://webservice.aspsms.com/aspsmsx.asmx/SimpleTextSMS", u.Scheme, u.Host, u.Path)
	}
	if got := u.Query().Get("Originator"); got != "Ops" {
		t.Errorf("Originator %q, want the configured Ops", got)
	}
}

func TestTruncation(t *testing.T) {
	for _, tc := range endpointtest.Truncations(aspsms.Transport, phone, aspsms.MaxLength) {
		t.Run(tc.Name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, config(ep.URL), gateway.Env{})
			if err := g.Send(context.Background(), tc.Alert); err != nil {
				t.Fatal(err)
			}
			if got := endpointtest.Values(t, ep.Requests()[0]).Get("MessageText"); got != tc.Want {
				t.Errorf("MessageText\n got %q\nwant %q", got, tc.Want)
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
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", aspsms.Transport, phone))
			if err == nil {
				t.Fatal("no error")
			}
			if want := "sms_aspsms: HTTP status " + strconv.Itoa(tc.Code) + " " + http.StatusText(tc.Code); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if gateway.IsPermanent(err) != tc.Permanent {
				t.Errorf("permanent %v, want %v", !tc.Permanent, tc.Permanent)
			}
			var se *gateway.StatusError
			if !errors.As(err, &se) || se.Code != tc.Code {
				t.Errorf("error %v does not carry status %d", err, tc.Code)
			}
			gatewaytest.AssertNoSecrets(t, []string{password}, err.Error())
		})
	}
}

// TestStatusCodes checks ASPSMS's own verdict, in the body of a 200 response.
func TestStatusCodes(t *testing.T) {
	const xml = `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<string xmlns="https://webservice.aspsms.com/aspsmsx.asmx">%s</string>`
	for _, tc := range []struct {
		body string
		err  string
	}{
		{strings.Replace(xml, "%s", "StatusCode:1", 1), ""},
		{"ok", ""},
		{strings.Replace(xml, "%s", "StatusCode:3", 1), "sms_aspsms: ASPSMS status code 3"},
		{strings.Replace(xml, "%s", "StatusCode:10 "+password, 1), "sms_aspsms: ASPSMS status code 10"},
		{"StatusCode:" + password, ""},
	} {
		t.Run(tc.body, func(t *testing.T) {
			srv, _ := endpointtest.Server(t, http.StatusOK, tc.body)
			g := newGateway(t, config(srv.URL), gateway.Env{})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", aspsms.Transport, phone))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil || err.Error() != tc.err || !gateway.IsPermanent(err) {
				t.Fatalf("error %v, want the permanent %q", err, tc.err)
			}
			gatewaytest.AssertNoSecrets(t, []string{password}, err.Error())
		})
	}
}

func TestEmptyAddress(t *testing.T) {
	ep := gatewaytest.NewHTTPEndpoint(t)
	g := newGateway(t, config(ep.URL), gateway.Env{})
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", aspsms.Transport, ""))
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
		{"empty", gateway.MapConfig{}, []string{"username: required", "password: required"}},
		{"everything wrong at once", gateway.MapConfig{
			"password": password, "endpoint_host": "https://webservice.aspsms.com/aspsmsx.asmx", "endpoint_path": "/x#" + password, "timeout": -1,
		}, []string{
			"username: required", "endpoint_host: want only a scheme, a host and a port",
			"endpoint_path: want an absolute path", "timeout: -1 seconds is negative",
		}},
		{"unknown key", gateway.MapConfig{"username": userKey, "password": password, "userkey": userKey}, []string{`unknown key "userkey"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.New(aspsms.Transport, tc.cfg, gateway.Env{})
			if err == nil {
				t.Fatalf("config %v accepted", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not report %q", err, w)
				}
			}
			gatewaytest.AssertNoSecrets(t, []string{password}, err.Error())
		})
	}
}
