// Package endpointtest helps the tests of the vendor gateways, which send
// form or query values: it reads those values back from the requests a
// [gatewaytest.HTTPEndpoint] received, sends requests for a vendor's real
// address to a test server instead, and runs an alert through a real delivery
// to count what was sent, as Flapjack v2's gateway scenarios do.
package endpointtest

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/store/memory"
)

// Values returns the query values of r and, for a form body, its values too.
func Values(t testing.TB, r gatewaytest.Request) url.Values {
	t.Helper()
	v, err := url.ParseQuery(r.RawQuery)
	if err != nil {
		t.Fatalf("query %q: %v", r.RawQuery, err)
	}
	if len(r.Body) > 0 {
		form, err := url.ParseQuery(string(r.Body))
		if err != nil {
			t.Fatalf("form body %q: %v", r.Body, err)
		}
		for k, vs := range form {
			v[k] = append(v[k], vs...)
		}
	}
	return v
}

// Delivered is [gatewaytest.Target.Delivered] for a gateway sending values: for
// each request ep answered with success, its decoded values, one "key=value"
// a line, keys sorted.
func Delivered(t testing.TB, ep *gatewaytest.HTTPEndpoint) func() []string {
	return func() []string {
		var out []string
		for _, r := range ep.Requests() {
			if r.Status < 200 || r.Status > 299 {
				continue
			}
			v := Values(t, r)
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(v)) {
				for _, x := range v[k] {
					b.WriteString(k + "=" + x + "\n")
				}
			}
			out = append(out, b.String())
		}
		return out
	}
}

// Redirect returns a client that sends every request to the test server at
// target, whatever its URL says, and a function listing the URLs the requests
// were made for. It lets a test check that a gateway uses its vendor's real
// address by default, without reaching it.
func Redirect(t testing.TB, target string) (*http.Client, func() []url.URL) {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rt := &redirect{to: to, next: http.DefaultTransport}
	return &http.Client{Transport: rt}, rt.asked
}

type redirect struct {
	to   *url.URL
	next http.RoundTripper
	mu   sync.Mutex
	urls []url.URL
}

func (r *redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, *req.URL)
	r.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = r.to.Scheme, r.to.Host
	out.Host = ""
	return r.next.RoundTrip(out)
}

func (r *redirect) asked() []url.URL {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.urls)
}

// Server starts a test server answering every request with status and body,
// and returns it with a function counting the requests it received.
func Server(t testing.TB, status int, body string) (*httptest.Server, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// Deliver queues a for transport and runs a [gateway.Delivery] with g, making
// one attempt per alert, until a was sent or dead-lettered; it returns the
// delivery's counters. A failing endpoint thus ends as a count, not a crash.
func Deliver(t testing.TB, transport string, g gateway.Gateway, a *flapjack.Alert) gateway.MetricsSnapshot {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	queue := transport + "_notifications"
	d := gateway.NewDelivery(st, transport, queue, g, gateway.DeliveryOptions{MaxAttempts: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	payload, err := a.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Queue(queue).Push(ctx, payload); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := d.Metrics().Snapshot()
		if s.Sent+s.DeadLettered > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the alert was neither sent nor dead-lettered within 10s")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Delivery.Run: %v", err)
	}
	return d.Metrics().Snapshot()
}

// SMSTexts are the built-in SMS texts (Flapjack v2's, §6 of its reference) of
// each kind of [gatewaytest.NewAlert], which every SMS-like gateway sends.
var SMSTexts = map[string]string{
	"problem":         "Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500",
	"recovery":        "Recovery: 'app-01:HTTP' is OK at 1 Feb 12:00, HTTP 200",
	"acknowledgement": "Acknowledgement: 'app-01:HTTP' at 1 Feb 12:00, on it",
	"test":            "Test: 'app-01:HTTP' at 1 Feb 12:00, testing",
	"rollup problem":  "Problem summary: Critical: 2, Warning: 1 (Critical: app-01:HTTP, app-02:HTTP; Warning: db-01:disk)",
	"rollup recovery": "Problem summaries finishing: Warning: 1 (Warning: db-01:disk)",
}

// Truncation is a problem alert whose SMS text has a given length, and the
// text a gateway with that limit sends.
type Truncation struct {
	Name  string
	Alert *flapjack.Alert
	Want  string
}

// Truncations are the cases around a length limit of limit characters: a text
// of exactly limit characters is sent whole; one character more, or far more,
// and it is cut to limit with "..." as its last three; a text of multi-byte
// characters is counted, and cut, in characters.
func Truncations(transport, address string, limit int) []Truncation {
	const prefix = "Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, "
	n := limit - len(prefix)
	mk := func(name, summary, want string) Truncation {
		a := gatewaytest.NewAlert("problem", transport, address)
		a.Summary = summary
		return Truncation{Name: name, Alert: a, Want: want}
	}
	exact := strings.Repeat("x", n)
	return []Truncation{
		{Name: "short", Alert: gatewaytest.NewAlert("problem", transport, address), Want: SMSTexts["problem"]},
		mk("at the limit", exact, prefix+exact),
		mk("one over", exact+"y", prefix+strings.Repeat("x", n-3)+"..."),
		mk("far over", strings.Repeat("z", 4*limit), prefix+strings.Repeat("z", n-3)+"..."),
		mk("multi-byte at the limit", strings.Repeat("é", n), prefix+strings.Repeat("é", n)),
		mk("multi-byte over", strings.Repeat("é", n+1), prefix+strings.Repeat("é", n-3)+"..."),
	}
}

// Status is an HTTP status a vendor may answer with, and whether a gateway
// must take it as permanent.
type Status struct {
	Code      int
	Permanent bool
}

// Statuses are the failing statuses every HTTP gateway is tested with: 4xx
// other than 408 and 429 are permanent; 408, 429 and 5xx may be retried.
var Statuses = []Status{
	{400, true}, {401, true}, {402, true}, {403, true}, {404, true}, {413, true},
	{408, false}, {429, false}, {500, false}, {502, false}, {503, false},
}
