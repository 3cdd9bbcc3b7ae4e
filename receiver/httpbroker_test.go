package receiver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/x/flapjack/flapjacktest"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/receiver"
)

// recorder is a Sender that keeps what it is given, after validating it as
// the real senders do.
type recorder struct {
	mu     sync.Mutex
	events []flapjack.Event
	sent   chan flapjack.Event // when not nil, receives each event too
}

func (r *recorder) Send(_ context.Context, ev flapjack.Event) error {
	if err := ev.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.sent != nil {
		r.sent <- ev
	}
	return nil
}

func (r *recorder) take() []flapjack.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev := r.events
	r.events = nil
	return ev
}

// post submits body to the broker and returns the status and the reply.
func post(t *testing.T, h http.Handler, body string) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/state", strings.NewReader(body)))
	return w.Code, w.Body.String()
}

var t0 = time.Unix(1454900000, 0)

func TestBrokerCache(t *testing.T) {
	// Each step: optionally move the clock to at (seconds after t0) and POST a
	// body, then send every cached state and compare what was sent.
	type step struct {
		at    int64
		post  string
		reply string // the reply when posting
		sent  []flapjack.Event
	}
	ev := func(entity, check, state, summary string, at int64, tags ...string) flapjack.Event {
		return flapjack.Event{Entity: entity, Check: check, State: state, Summary: summary, Time: t0.Unix() + at, Tags: tags}
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{{
		name: "fresh while younger than the ttl, then stale",
		steps: []step{
			{at: 0, post: `{"entity":"foo-app-01","check":"PING","state":"OK","summary":"3 ms","ttl":30}`,
				reply: `Caching state: {"entity":"foo-app-01","check":"PING","type":"service","state":"OK","summary":"3 ms","details":"","tags":null,"time":1454900000,"ttl":30}` + "\n",
				sent:  []flapjack.Event{ev("foo-app-01", "PING", "ok", "3 ms", 0)}},
			{at: 10, sent: []flapjack.Event{ev("foo-app-01", "PING", "ok", "3 ms", 10)}},
			{at: 30, sent: []flapjack.Event{ev("foo-app-01", "PING", "ok", "3 ms", 30)}},
			{at: 31, sent: []flapjack.Event{ev("foo-app-01", "PING", "unknown", "httpbroker: Cached state is stale (31s old, should be < 30s)", 31)}},
			{at: 40, sent: []flapjack.Event{ev("foo-app-01", "PING", "unknown", "httpbroker: Cached state is stale (40s old, should be < 30s)", 40)}},
		},
	}, {
		name: "ttl defaults to 300",
		steps: []step{
			{at: 0, post: `{"entity":"foo-app-01","check":"PING","state":"critical","summary":"timeout"}`,
				reply: `Caching state: {"entity":"foo-app-01","check":"PING","type":"service","state":"critical","summary":"timeout","details":"","tags":null,"time":1454900000,"ttl":300}` + "\n",
				sent:  []flapjack.Event{ev("foo-app-01", "PING", "critical", "timeout", 0)}},
			{at: 300, sent: []flapjack.Event{ev("foo-app-01", "PING", "critical", "timeout", 300)}},
			{at: 301, sent: []flapjack.Event{ev("foo-app-01", "PING", "unknown", "httpbroker: Cached state is stale (301s old, should be < 300s)", 301)}},
		},
	}, {
		name: "ttl 0 is the default",
		steps: []step{
			{at: 0, post: `{"entity":"a","check":"b","state":"ok","ttl":0}`, sent: []flapjack.Event{ev("a", "b", "ok", "", 0)}},
			{at: 301, sent: []flapjack.Event{ev("a", "b", "unknown", "httpbroker: Cached state is stale (301s old, should be < 300s)", 301)}},
		},
	}, {
		name: "a negative ttl never goes stale",
		steps: []step{
			{at: 0, post: `{"entity":"a","check":"b","state":"warning","summary":"s","ttl":-1}`, sent: []flapjack.Event{ev("a", "b", "warning", "s", 0)}},
			{at: 10_000_000, sent: []flapjack.Event{ev("a", "b", "warning", "s", 10_000_000)}},
		},
	}, {
		name: "the submission's time counts for staleness, the sending time is sent",
		steps: []step{
			{at: 100, post: `{"entity":"a","check":"b","state":"ok","time":1454900000,"ttl":60,"details":"d","tags":["x"],"type":"metric"}`,
				reply: `Caching state: {"entity":"a","check":"b","type":"metric","state":"ok","summary":"","details":"d","tags":["x"],"time":1454900000,"ttl":60}` + "\n",
				sent: []flapjack.Event{{Entity: "a", Check: "b", State: "unknown", Details: "d", Tags: []string{"x"}, Time: t0.Unix() + 100,
					Summary: "httpbroker: Cached state is stale (100s old, should be < 60s)"}}},
		},
	}, {
		name: "a later submission replaces the state; others stay",
		steps: []step{
			{at: 0, post: `{"entity":"a","check":"b","state":"critical","summary":"down"}`},
			{at: 0, post: `{"entity":"a","check":"c","state":"ok","summary":"up"}`},
			{at: 5, post: `{"entity":"a","check":"b","state":"ok","summary":"back"}`,
				sent: []flapjack.Event{ev("a", "b", "ok", "back", 5), ev("a", "c", "ok", "up", 5)}},
		},
	}, {
		name: "New Relic alert",
		steps: []step{
			{at: 0, post: `{"condition_name":"CPU","policy_name":"prod","current_state":"alarm","details":"high","incident_acknowledge_url":"http://x"}`,
				reply: `Caching state: {"entity":"prod","check":"CPU","type":"service","state":"critical","summary":"New Relic Alert Received: high Ack the alert using the following URL: http://x","details":"","tags":["httpbroker"],"time":1454900000,"ttl":300}` + "\n",
				sent:  []flapjack.Event{ev("prod", "CPU", "critical", "New Relic Alert Received: high Ack the alert using the following URL: http://x", 0, "httpbroker")}},
			{at: 1, post: `{"condition_name":"CPU","policy_name":"prod","current_state":"closed","details":"fine","incident_acknowledge_url":"http://x"}`,
				sent: []flapjack.Event{ev("prod", "CPU", "ok", "New Relic Alert Received: fine Ack the alert using the following URL: http://x", 1, "httpbroker")}},
			{at: 2, post: `{"condition_name":"CPU","policy_name":"prod","current_state":"ALARM"}`,
				sent: []flapjack.Event{ev("prod", "CPU", "critical", "New Relic Alert Received:  Ack the alert using the following URL:", 2, "httpbroker")}},
		},
	}, {
		name: "CloudWatch alarm through SNS",
		steps: []step{
			{at: 0, post: snsNotification(`{"AlarmName":"db-cpu","NewStateValue":"ALARM","NewStateReason":"Threshold Crossed: 1 datapoint (92.0) was greater than 90.0","Trigger":{"MetricName":"CPUUtilization","Namespace":"AWS/RDS"}}`),
				sent: []flapjack.Event{ev("db-cpu", "CPUUtilization", "critical", "Threshold Crossed: 1 datapoint (92.0) was greater than 90.0", 0, "httpbroker")}},
			{at: 60, post: snsNotification(`{"AlarmName":"db-cpu","NewStateValue":"OK","NewStateReason":"back","Trigger":{"MetricName":"CPUUtilization"}}`),
				sent: []flapjack.Event{ev("db-cpu", "CPUUtilization", "ok", "back", 60, "httpbroker")}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := flapjacktest.NewClock(t0)
			rec := &recorder{}
			b := receiver.NewBroker(receiver.BrokerOptions{Sender: rec, Clock: clock})
			for i, s := range tc.steps {
				clock.Set(t0.Add(time.Duration(s.at) * time.Second))
				if s.post != "" {
					code, reply := post(t, b, s.post)
					if code != http.StatusOK || !strings.HasPrefix(reply, "Caching state: ") {
						t.Fatalf("step %d: POST %s: %d %q", i, s.post, code, reply)
					}
					if s.reply != "" && reply != s.reply {
						t.Errorf("step %d: reply\n %q\nwant\n %q", i, reply, s.reply)
					}
				}
				if err := b.SendAll(context.Background()); err != nil {
					t.Fatalf("step %d: SendAll: %v", i, err)
				}
				if got := rec.take(); s.sent != nil && !reflect.DeepEqual(got, s.sent) {
					t.Errorf("step %d at +%ds: sent\n %+v\nwant\n %+v", i, s.at, got, s.sent)
				}
			}
		})
	}
}

// snsNotification wraps a CloudWatch alarm in an SNS notification.
func snsNotification(alarm string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms", "Subject": "ALARM",
		"Message": alarm, "Timestamp": "2016-02-08T03:33:20.000Z", "SignatureVersion": "1",
		"Signature": "EXAMPLE", "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService.pem",
	})
	return string(b)
}

func TestBrokerRejects(t *testing.T) {
	b := receiver.NewBroker(receiver.BrokerOptions{Sender: &recorder{}})
	for _, tc := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"not JSON", `{"entity":`, 400, "the body is not a JSON object"},
		{"an array", `[{"entity":"a"}]`, 400, "the body is not a JSON object"},
		{"null", `null`, 400, "the body is not a JSON object"},
		{"unknown form", `{"check":"b","state":"ok"}`, 400, `unknown submission: want a Flapjack event (with "entity")`},
		{"entity not a string", `{"entity":1,"check":"b","state":"ok"}`, 400, "unknown submission"},
		{"no check", `{"entity":"a","state":"ok"}`, 400, "Flapjack event: check: missing"},
		{"bad state", `{"entity":"a","check":"b","state":"down"}`, 400, `Flapjack event: state: "down" is not ok, warning, critical or unknown`},
		{"an action as state", `{"entity":"a","check":"b","state":"acknowledgement"}`, 400, `state: "acknowledgement" is not`},
		{"every problem", `{"entity":"a","time":-5}`, 400, "check: missing; state: \"\" is not ok, warning, critical or unknown; time: -5 is not a Unix time"},
		{"time as a string", `{"entity":"a","check":"b","state":"ok","time":"now"}`, 400, "Flapjack event: json: cannot unmarshal"},
		{"New Relic without policy", `{"condition_name":"CPU","current_state":"alarm"}`, 400, "New Relic alert: policy_name: missing"},
		{"SNS message not an alarm", `{"Type":"Notification","SigningCertURL":"https://x","Message":"hello"}`, 400, "AWS SNS message: Message is not a CloudWatch alarm"},
		{"SNS alarm without names", `{"Type":"Notification","SigningCertURL":"https://x","Message":"{}"}`, 400, "AlarmName: missing; Trigger.MetricName: missing"},
		{"SNS subscription to a file", `{"Type":"SubscriptionConfirmation","SigningCertURL":"https://x","SubscribeURL":"file:///etc/passwd"}`, 400, `SubscribeURL "file:///etc/passwd" is not an http or https URL`},
		{"SNS subscription without URL", `{"Type":"SubscriptionConfirmation","SigningCertURL":"https://x"}`, 400, `SubscribeURL "" is not an http or https URL`},
		{"too large", `{"entity":"` + strings.Repeat("a", receiver.MaxBrokerBody) + `"}`, 413, "larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reply := post(t, b, tc.body)
			if code != tc.code || !strings.Contains(reply, tc.want) {
				t.Errorf("POST %.80s: %d %q, want %d saying %q", tc.body, code, reply, tc.code, tc.want)
			}
		})
	}
	if s := b.States(); len(s) != 0 {
		t.Errorf("rejected submissions cached: %v", s)
	}
}

func TestBrokerSNSSubscription(t *testing.T) {
	confirmed := make(chan string, 1)
	block := make(chan struct{})
	defer close(block)
	sns := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/confirm":
			confirmed <- r.URL.RawQuery
		case "/fail":
			http.Error(w, "no such token", http.StatusForbidden)
		case "/hang":
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}
	}))
	defer sns.Close()
	b := receiver.NewBroker(receiver.BrokerOptions{Sender: &recorder{}, HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}})
	subscription := func(url string) string {
		return fmt.Sprintf(`{"Type":"SubscriptionConfirmation","MessageId":"m","Token":"t0k","TopicArn":"arn:aws:sns:eu-west-1:123456789012:alarms",`+
			`"Message":"You have chosen to subscribe","SubscribeURL":%q,"SigningCertURL":"https://sns.example/cert.pem"}`, url)
	}

	code, reply := post(t, b, subscription(sns.URL+"/confirm?Action=ConfirmSubscription&Token=t0k"))
	if code != http.StatusOK || reply != "Subscription confirmed\n" {
		t.Errorf("confirmation: %d %q", code, reply)
	}
	select {
	case q := <-confirmed:
		if q != "Action=ConfirmSubscription&Token=t0k" {
			t.Errorf("SubscribeURL fetched with query %q", q)
		}
	default:
		t.Error("SubscribeURL not fetched")
	}

	for _, tc := range []struct{ path, want string }{
		{"/fail?Token=s3cret", "cannot confirm the subscription: GET " + sns.URL + "/fail: 403 Forbidden"},
		{"/hang?Token=s3cret", "cannot confirm the subscription: GET " + sns.URL + "/hang: "},
	} {
		code, reply := post(t, b, subscription(sns.URL+tc.path))
		if code != http.StatusBadGateway || !strings.Contains(reply, tc.want) || strings.Contains(reply, "s3cret") {
			t.Errorf("%s: %d %q, want 502 saying %q without the token", tc.path, code, reply, tc.want)
		}
	}
	code, reply = post(t, b, `{"Type":"UnsubscribeConfirmation","SigningCertURL":"https://x","SubscribeURL":"https://x"}`)
	if code != http.StatusOK || reply != "Unsubscribed\n" {
		t.Errorf("unsubscription: %d %q", code, reply)
	}
	if s := b.States(); len(s) != 0 {
		t.Errorf("subscriptions cached: %v", s)
	}
}

func TestBrokerGetState(t *testing.T) {
	b := receiver.NewBroker(receiver.BrokerOptions{Sender: &recorder{}, Clock: flapjacktest.NewClock(t0)})
	get := func() (int, string) {
		w := httptest.NewRecorder()
		b.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/state", nil))
		return w.Code, w.Body.String()
	}
	if code, body := get(); code != 200 || body != "{}\n" {
		t.Errorf("GET /state of an empty cache: %d %q", code, body)
	}
	post(t, b, `{"entity":"b","check":"x","state":"ok","ttl":-1}`)
	post(t, b, `{"entity":"a","check":"y","state":"critical","summary":"s","tags":["t"]}`)
	want := `{"a:y":{"entity":"a","check":"y","type":"service","state":"critical","summary":"s","details":"","tags":["t"],"time":1454900000,"ttl":300},` +
		`"b:x":{"entity":"b","check":"x","type":"service","state":"ok","summary":"","details":"","tags":null,"time":1454900000,"ttl":-1}}` + "\n"
	if code, body := get(); code != 200 || body != want {
		t.Errorf("GET /state: %d\n %s\nwant\n %s", code, body, want)
	}

	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodDelete, "/state", http.StatusMethodNotAllowed},
		{http.MethodPut, "/state", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodPost, "/state/a:y", http.StatusNotFound},
	} {
		w := httptest.NewRecorder()
		b.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"entity":"a","check":"z","state":"ok"}`)))
		if w.Code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, w.Code, tc.code)
		}
	}
	if n := len(b.States()); n != 2 {
		t.Errorf("%d states cached, want 2", n)
	}
}

// TestBrokerRun checks the heartbeat: every interval, every cached state.
func TestBrokerRun(t *testing.T) {
	rec := &recorder{sent: make(chan flapjack.Event, 100)}
	var calls sync.Mutex
	failures := 1
	sender := receiver.SenderFunc(func(ctx context.Context, ev flapjack.Event) error {
		calls.Lock()
		fail := failures > 0
		failures--
		calls.Unlock()
		if fail {
			return errors.New("intake down")
		}
		return rec.Send(ctx, ev)
	})
	var logs syncBuffer
	b := receiver.NewBroker(receiver.BrokerOptions{Sender: sender, Interval: 5 * time.Millisecond, Logger: slogText(&logs)})
	if code, reply := post(t, b, `{"entity":"foo-app-01","check":"PING","state":"OK","summary":"3 ms","ttl":30}`); code != 200 {
		t.Fatalf("POST: %d %s", code, reply)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	// The first send fails and is retried at the next tick.
	for i := range 3 {
		select {
		case ev := <-rec.sent:
			if ev.CheckName() != "foo-app-01:PING" || ev.State != "ok" || ev.Summary != "3 ms" {
				t.Errorf("sent %+v", ev)
			}
			if d := time.Since(time.Unix(ev.Time, 0)); d < -time.Second || d > 2*time.Second {
				t.Errorf("sent with time %d, not now", ev.Time)
			}
		case <-time.After(wait):
			t.Fatalf("send %d did not come within %s", i+1, wait)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not stop")
	}
	if !strings.Contains(logs.String(), "cached states not all sent") || !strings.Contains(logs.String(), "intake down") {
		t.Errorf("the failed send was not logged:\n%s", logs.String())
	}
}

// refuse is a transport that never connects: the fuzzer must not reach the
// network through subscription URLs.
type refuse struct{}

func (refuse) RoundTrip(*http.Request) (*http.Response, error) { return nil, errors.New("refused") }

func FuzzHTTPBroker(f *testing.F) {
	for _, s := range []string{
		`{"entity":"foo-app-01","check":"PING","state":"OK","summary":"3 ms","ttl":30}`,
		`{"entity":"a","check":"b","state":"critical","ttl":-5,"time":12,"tags":["x"],"details":"d"}`,
		`{"condition_name":"CPU","policy_name":"prod","current_state":"alarm","details":"high","incident_acknowledge_url":"http://x"}`,
		snsNotification(`{"AlarmName":"db-cpu","NewStateValue":"ALARM","NewStateReason":"r","Trigger":{"MetricName":"CPU"}}`),
		`{"Type":"SubscriptionConfirmation","SigningCertURL":"https://x","SubscribeURL":"https://sns.example/?Token=1"}`,
		`{"entity":"a","Entity":"b","check":"c","state":"ok"}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		clock := flapjacktest.NewClock(t0)
		rec := &recorder{}
		b := receiver.NewBroker(receiver.BrokerOptions{Sender: rec, Clock: clock, HTTPClient: &http.Client{Transport: refuse{}}})
		w := httptest.NewRecorder()
		b.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/state", strings.NewReader(string(body))))
		states := b.States()
		switch w.Code {
		case http.StatusOK:
			if strings.HasPrefix(w.Body.String(), "Caching state: ") != (len(states) == 1) {
				t.Fatalf("reply %q with %d states cached", w.Body.String(), len(states))
			}
		case http.StatusBadRequest, http.StatusBadGateway, http.StatusRequestEntityTooLarge:
			if len(states) != 0 {
				t.Fatalf("status %d, yet %v cached", w.Code, states)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		get := httptest.NewRecorder()
		b.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/state", nil))
		if !json.Valid(get.Body.Bytes()) {
			t.Fatalf("GET /state: %q", get.Body.String())
		}
		// Every cached state makes a valid event, fresh or stale.
		for _, at := range []time.Duration{0, 24 * time.Hour * 365 * 100} {
			clock.Set(t0.Add(at))
			if err := b.SendAll(context.Background()); err != nil {
				t.Fatalf("SendAll: %v (states %v)", err, states)
			}
		}
		if n := len(rec.take()); n != 2*len(states) {
			t.Fatalf("%d events sent for %d states", n, len(states))
		}
	})
}
