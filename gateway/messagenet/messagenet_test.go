package messagenet_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/internal/endpointtest"
	"github.com/x/flapjack/gateway/messagenet"
)

const (
	username = "flapjack"
	password = "pa55-w0rd-messagenet"
	phone    = "+61400000001"
)

func newGateway(t *testing.T, cfg gateway.MapConfig, env gateway.Env) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(messagenet.Transport, cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: messagenet.Transport,
		Failures:  gatewaytest.HTTPFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := messagenet.New(messagenet.Config{Username: username, Password: password, EndpointHost: ep.URL}, env)
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
			g := newGateway(t, gateway.MapConfig{"username": username, "password": password, "endpoint_host": ep.URL}, gateway.Env{})
			if err := g.Send(context.Background(), gatewaytest.NewAlert(kind, messagenet.Transport, phone)); err != nil {
				t.Fatal(err)
			}
			reqs := ep.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != messagenet.DefaultEndpointPath || len(r.Body) != 0 {
				t.Errorf("request %s %s with %d bytes of body, want GET %s without body", r.Method, r.Path, len(r.Body), messagenet.DefaultEndpointPath)
			}
			want := url.Values{
				"Username": {username}, "Pwd": {password}, "PhoneNumber": {phone},
				"PhoneMessage": {endpointtest.SMSTexts[kind]},
			}
			if r.RawQuery != want.Encode() {
				t.Errorf("query\n got %s\nwant %s", r.RawQuery, want.Encode())
			}
			if got := r.Header.Get("Authorization"); got != "" {
				t.Errorf("Authorization %q sent; MessageNet takes the credentials in the query", got)
			}
		})
	}
}

func TestTruncation(t *testing.T) {
	for _, tc := range endpointtest.Truncations(messagenet.Transport, phone, messagenet.MaxLength) {
		t.Run(tc.Name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, gateway.MapConfig{"username": username, "password": password, "endpoint_host": ep.URL}, gateway.Env{})
			if err := g.Send(context.Background(), tc.Alert); err != nil {
				t.Fatal(err)
			}
			got := endpointtest.Values(t, ep.Requests()[0]).Get("PhoneMessage")
			if got != tc.Want {
				t.Errorf("PhoneMessage\n got %q\nwant %q", got, tc.Want)
			}
			if n := len([]rune(got)); n > messagenet.MaxLength {
				t.Errorf("PhoneMessage has %d characters, more than %d", n, messagenet.MaxLength)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range endpointtest.Statuses {
		t.Run(http.StatusText(tc.Code), func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			ep.Fail("status " + strconv.Itoa(tc.Code))
			g := newGateway(t, gateway.MapConfig{"username": username, "password": password, "endpoint_host": ep.URL}, gateway.Env{})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", messagenet.Transport, phone))
			if err == nil {
				t.Fatal("no error")
			}
			if want := "sms: HTTP status " + strconv.Itoa(tc.Code) + " " + http.StatusText(tc.Code); err.Error() != want {
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

func TestEmptyAddress(t *testing.T) {
	ep := gatewaytest.NewHTTPEndpoint(t)
	g := newGateway(t, gateway.MapConfig{"username": username, "password": password, "endpoint_host": ep.URL}, gateway.Env{})
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", messagenet.Transport, ""))
	if err == nil || !gateway.IsPermanent(err) || err.Error() != "sms: the medium has no address (phone number)" {
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
		{"no password", gateway.MapConfig{"username": username}, []string{"password: required"}},
		{"everything wrong at once", gateway.MapConfig{
			"endpoint_host": "www.example.com/path", "endpoint_path": "no-slash", "timeout": -1,
		}, []string{
			"username: required", "password: required",
			"endpoint_host: not a host name", "endpoint_path: want an absolute path", "timeout: -1 seconds is negative",
		}},
		{"scheme", gateway.MapConfig{"username": username, "password": password, "endpoint_host": "ftp://example.com"}, []string{"endpoint_host: want an https or http scheme"}},
		{"credentials in the host", gateway.MapConfig{"username": username, "password": password, "endpoint_host": "https://u:" + password + "@example.com"}, []string{"endpoint_host: want only a scheme, a host and a port"}},
		{"query in the path", gateway.MapConfig{"username": username, "password": password, "endpoint_path": "/lodge?Pwd=" + password}, []string{"endpoint_path: want an absolute path"}},
		{"v2's ignored endpoint key", gateway.MapConfig{"username": username, "password": password, "endpoint": "https://x"}, []string{`unknown key "endpoint"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.New(messagenet.Transport, tc.cfg, gateway.Env{})
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

func TestPlainHTTPWarning(t *testing.T) {
	for _, tc := range []struct {
		host string
		warn bool
	}{{"http://127.0.0.1:8080", true}, {"https://127.0.0.1:8443", false}, {"", false}} {
		logs := gatewaytest.NewLogs()
		if _, err := messagenet.New(messagenet.Config{Username: username, Password: password, EndpointHost: tc.host}, gateway.Env{Logger: logs.Logger()}); err != nil {
			t.Fatal(err)
		}
		if got := logs.Contains("level=WARN", "plain HTTP", "transport=sms"); got != tc.warn {
			t.Errorf("endpoint_host %q: warned %v, want %v (%q)", tc.host, got, tc.warn, logs.Lines())
		}
		gatewaytest.AssertNoSecrets(t, []string{password}, logs.Lines()...)
	}
}

// TestScenarios are Flapjack v2's MessageNet delivery scenarios: an alert is
// sent to MessageNet's real address, and a failing service is counted as a
// failure without stopping anything.
func TestScenarios(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		sent, dead uint64
	}{
		{"D06 the service answers 200", http.StatusOK, 1, 0},
		{"D09 the service answers 500", http.StatusInternalServerError, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := endpointtest.Server(t, tc.status, "")
			client, asked := endpointtest.Redirect(t, srv.URL)
			g := newGateway(t, gateway.MapConfig{"username": "abcd", "password": "efgh"}, gateway.Env{HTTPClient: client})
			a := &flapjack.Alert{
				ID: "alert-1", Transport: messagenet.Transport, Address: "+61888888888", ContactName: "John Smith",
				CheckName: "example.com:PING", Type: flapjack.TypeProblem, Condition: flapjack.Critical,
				ConditionDuration: 15 * time.Second, Time: time.Now(),
			}
			s := endpointtest.Deliver(t, messagenet.Transport, g, a)
			if requests() != 1 {
				t.Fatalf("%d requests made, want 1", requests())
			}
			u := asked()[0]
			if u.Scheme != "https" || u.Host != "www.messagenet.com.au" || u.Path != "/dotnet/Lodge.asmx/LodgeSMSMessage" {
				t.Errorf("request for %s://%s%s, want https://www.messagenet.com.au/dotnet/Lodge.asmx/LodgeSMSMessage", u.Scheme, u.Host, u.Path)
			}
			q := u.Query()
			if q.Get("Username") != "abcd" || q.Get("Pwd") != "efgh" || q.Get("PhoneNumber") != "+61888888888" ||
				!strings.HasPrefix(q.Get("PhoneMessage"), "Problem: 'example.com:PING' is Critical at ") {
				t.Errorf("query %v", q)
			}
			if s.Sent != tc.sent || s.DeadLettered != tc.dead || s.Failed != tc.dead {
				t.Errorf("sent %d, failed %d, dead-lettered %d; want %d, %d, %d", s.Sent, s.Failed, s.DeadLettered, tc.sent, tc.dead, tc.dead)
			}
		})
	}
}
