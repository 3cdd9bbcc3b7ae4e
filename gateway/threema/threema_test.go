package threema_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/internal/endpointtest"
	"github.com/x/flapjack/gateway/threema"
)

const (
	from   = "*FLAPJAK"
	secret = "s3cret-0f-the-threema-id"
	phone  = "+41790000001"
)

func config(host string) gateway.MapConfig {
	return gateway.MapConfig{"from": from, "secret": secret, "endpoint_host": host}
}

func newGateway(t *testing.T, cfg gateway.MapConfig, env gateway.Env) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(threema.Transport, cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: threema.Transport,
		Failures:  gatewaytest.HTTPFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := threema.New(threema.Config{From: from, Secret: secret, EndpointHost: ep.URL}, env)
			if err != nil {
				t.Fatal(err)
			}
			return gatewaytest.Target{
				Gateway: g, Address: phone, Delivered: endpointtest.Delivered(t, ep), Fail: ep.Fail,
				Secrets: []string{secret},
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
			if err := g.Send(context.Background(), gatewaytest.NewAlert(kind, threema.Transport, phone)); err != nil {
				t.Fatal(err)
			}
			reqs := ep.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/send_simple" || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST /send_simple", r.Method, r.Path, r.RawQuery)
			}
			if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q, want a form", got)
			}
			want := url.Values{"from": {from}, "phone": {"41790000001"}, "text": {endpointtest.SMSTexts[kind]}, "secret": {secret}}
			if string(r.Body) != want.Encode() {
				t.Errorf("body\n got %s\nwant %s", r.Body, want.Encode())
			}
		})
	}
}

func TestPhone(t *testing.T) {
	for address, want := range map[string]string{"+41790000001": "41790000001", "41790000001": "41790000001", " +41790000001 ": "41790000001"} {
		ep := gatewaytest.NewHTTPEndpoint(t)
		g := newGateway(t, config(ep.URL), gateway.Env{})
		if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", threema.Transport, address)); err != nil {
			t.Fatal(err)
		}
		if got := endpointtest.Values(t, ep.Requests()[0]).Get("phone"); got != want {
			t.Errorf("address %q: phone %q, want %q", address, got, want)
		}
	}
	for _, address := range []string{"", "+"} {
		ep := gatewaytest.NewHTTPEndpoint(t)
		g := newGateway(t, config(ep.URL), gateway.Env{})
		err := g.Send(context.Background(), gatewaytest.NewAlert("problem", threema.Transport, address))
		if err == nil || !gateway.IsPermanent(err) {
			t.Errorf("Send to %q: %v, want a permanent error", address, err)
		}
		if n := len(ep.Requests()); n != 0 {
			t.Errorf("address %q: %d requests, want none", address, n)
		}
	}
}

func TestDefaultEndpoint(t *testing.T) {
	srv, _ := endpointtest.Server(t, http.StatusOK, "0a1b2c3d4e5f6a7b")
	client, asked := endpointtest.Redirect(t, srv.URL)
	g := newGateway(t, gateway.MapConfig{"from": from, "secret": secret}, gateway.Env{HTTPClient: client})
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", threema.Transport, phone)); err != nil {
		t.Fatal(err)
	}
	if u := asked()[0]; u.String() != "https://msgapi.threema.ch/send_simple" {
		t.Errorf("request for %s, want https://msgapi.threema.ch/send_simple", u.String())
	}
}

func TestTruncation(t *testing.T) {
	// The common cases whose text is within the bytes, then one over them.
	var cases []endpointtest.Truncation
	for _, tc := range endpointtest.Truncations(threema.Transport, phone, threema.MaxLength) {
		if len(tc.Want) <= threema.MaxBytes {
			cases = append(cases, tc)
		}
	}
	// 1500 three-byte characters are under 3000 characters but over 3500
	// bytes: the text is cut to the bytes Threema takes.
	a := gatewaytest.NewAlert("problem", threema.Transport, phone)
	a.Summary = strings.Repeat("€", 1500)
	prefix := "Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, "
	cases = append(cases, endpointtest.Truncation{
		Name: "over the bytes", Alert: a,
		Want: prefix + strings.Repeat("€", (threema.MaxBytes-3-len(prefix))/3) + "...",
	})
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, config(ep.URL), gateway.Env{})
			if err := g.Send(context.Background(), tc.Alert); err != nil {
				t.Fatal(err)
			}
			got := endpointtest.Values(t, ep.Requests()[0]).Get("text")
			if got != tc.Want {
				t.Errorf("text of %d characters, %d bytes; want %d characters, %d bytes", utf8.RuneCountInString(got), len(got), utf8.RuneCountInString(tc.Want), len(tc.Want))
			}
			if utf8.RuneCountInString(got) > threema.MaxLength || len(got) > threema.MaxBytes || !utf8.ValidString(got) {
				t.Errorf("text of %d characters, %d bytes, valid UTF-8 %v: over a limit", utf8.RuneCountInString(got), len(got), utf8.ValidString(got))
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
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", threema.Transport, phone))
			if err == nil {
				t.Fatal("no error")
			}
			if want := "threema: HTTP status " + strconv.Itoa(tc.Code) + " " + http.StatusText(tc.Code); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if gateway.IsPermanent(err) != tc.Permanent {
				t.Errorf("permanent %v, want %v", !tc.Permanent, tc.Permanent)
			}
			var se *gateway.StatusError
			if !errors.As(err, &se) || se.Code != tc.Code {
				t.Errorf("error %v does not carry status %d", err, tc.Code)
			}
			gatewaytest.AssertNoSecrets(t, []string{secret}, err.Error())
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  gateway.MapConfig
		want []string
	}{
		{"empty", gateway.MapConfig{}, []string{"from: required", "secret: required"}},
		{"not a gateway ID", gateway.MapConfig{"from": "FLAPJACK", "secret": secret}, []string{`from: "FLAPJACK" is not a gateway ID`}},
		{"too short", gateway.MapConfig{"from": "*FLAP", "secret": secret}, []string{`from: "*FLAP" is not a gateway ID`}},
		{"bad endpoint and timeout", gateway.MapConfig{
			"from": from, "endpoint_host": "msgapi threema ch", "endpoint_path": "/send?secret=" + secret, "timeout": -1,
		}, []string{"secret: required", "endpoint_host: not a host name", "endpoint_path: want an absolute path", "timeout: -1 seconds is negative"}},
		{"unknown key", gateway.MapConfig{"from": from, "secret": secret, "api_secret": secret}, []string{`unknown key "api_secret"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.New(threema.Transport, tc.cfg, gateway.Env{})
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
