package receiver_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/receiver"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// queued takes everything waiting on q.
func queued(t *testing.T, q store.Queue) []string {
	t.Helper()
	items, err := q.Reserve(context.Background(), 100, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, string(it.Payload))
	}
	if err := q.Ack(context.Background(), items...); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSenders(t *testing.T) {
	st := memory.New()
	defer st.Close()
	queue := st.Queue("events")

	intake := httptest.NewServer(api.EventsHandler(st.Queue("events"), nil))
	defer intake.Close()
	viaHTTP, err := receiver.NewHTTPSender(intake.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name   string
		sender receiver.Sender
	}{
		{"queue", receiver.NewQueueSender(queue)},
		{"HTTP intake", viaHTTP},
	} {
		t.Run(s.name, func(t *testing.T) {
			ctx := context.Background()
			before := time.Now().Unix()
			if err := s.sender.Send(ctx, flapjack.Event{Entity: "web-01", Check: "HTTP", State: "CRITICAL", Summary: " 502 ", Time: 1454900000}); err != nil {
				t.Fatal(err)
			}
			if err := s.sender.Send(ctx, flapjack.Event{Check: "web-01:HTTP", State: "ok"}); err != nil {
				t.Fatal(err)
			}
			got := queued(t, queue)
			if len(got) != 2 || got[0] != `{"state":"critical","check":"HTTP","entity":"web-01","time":1454900000,"summary":"502"}` {
				t.Fatalf("queued %q", got)
			}
			// An event without a time gets the current one.
			ev, err := flapjack.ParseEvent([]byte(got[1]))
			if err != nil || ev.Check != "web-01:HTTP" || ev.Time < before || ev.Time > time.Now().Unix() {
				t.Errorf("second event %s (%v): want the time of sending", got[1], err)
			}

			err = s.sender.Send(ctx, flapjack.Event{Entity: "web-01", State: "down"})
			if !errors.Is(err, flapjack.ErrInvalidEvent) || !strings.Contains(err.Error(), "check: missing") || !strings.Contains(err.Error(), `state: "down" is not one of`) {
				t.Errorf("invalid event: %v, want every problem", err)
			}
			if got := queued(t, queue); len(got) != 0 {
				t.Errorf("invalid event queued: %q", got)
			}
		})
	}
}

func TestHTTPSenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		want    string
		invalid bool
	}{
		{"rejected by the intake", 422, `{"accepted":0,"rejected":[{"index":0,"errors":["state: missing"]}]}`, "invalid event: state: missing", true},
		{"intake cannot queue", 503, `{"error":"events could not be queued; try again"}`, "503 Service Unavailable: events could not be queued; try again", false},
		{"not an intake", 404, "404 page not found\n", "404 Not Found", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/base/events" || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("%s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			s, err := receiver.NewHTTPSender(srv.URL+"/base/", nil)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), flapjack.Event{Check: "a", State: "ok"})
			if err == nil || !strings.Contains(err.Error(), "POST "+srv.URL+"/base/events: "+tc.want) {
				t.Errorf("Send = %v, want an error saying %q", err, tc.want)
			}
			if errors.Is(err, flapjack.ErrInvalidEvent) != tc.invalid {
				t.Errorf("errors.Is(%v, ErrInvalidEvent) = %v", err, !tc.invalid)
			}
		})
	}

	// A password in the URL never shows.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	s, err := receiver.NewHTTPSender(strings.Replace(srv.URL, "http://", "http://flapjack:s3cret@", 1)+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(s.URL(), "/events") || strings.Contains(s.URL(), "/events/events") {
		t.Errorf("URL %s", s.URL())
	}
	err = s.Send(context.Background(), flapjack.Event{Check: "a", State: "ok"})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "connect: connection refused") {
		t.Errorf("Send to a closed port = %v, want a refusal without the password", err)
	}

	for _, bad := range []string{"127.0.0.1:3081", "ftp://127.0.0.1/", "http://", "http://%zz"} {
		if _, err := receiver.NewHTTPSender(bad, nil); err == nil {
			t.Errorf("NewHTTPSender(%q) accepted", bad)
		}
	}
}
