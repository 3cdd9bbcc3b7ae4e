package oobetet_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/oobetet"
)

func TestPagerDutyBodies(t *testing.T) {
	in := oobetet.Incident{
		Key:     "Flapjack Self Monitoring from mon-01",
		Summary: critical(problemBreach, start),
		Host:    "mon-01",
	}
	long := strings.Repeat("é", 1100)
	for _, tc := range []struct {
		name string
		call func(context.Context, *oobetet.PagerDuty) error
		want string
	}{
		{"trigger", func(ctx context.Context, p *oobetet.PagerDuty) error { return p.Trigger(ctx, in) },
			fmt.Sprintf(triggerBody, in.Summary)},
		{"resolve", func(ctx context.Context, p *oobetet.PagerDuty) error { return p.Resolve(ctx, in) },
			resolveBody},
		{"trigger without host", func(ctx context.Context, p *oobetet.PagerDuty) error {
			return p.Trigger(ctx, oobetet.Incident{Key: "k", Summary: "s <&>"})
		}, `POST /v2/enqueue {"routing_key":"R0UT1NGKEY","event_action":"trigger","dedup_key":"k",` +
			`"payload":{"summary":"s <&>","source":"flapjack oobetet","severity":"critical"}}`},
		{"long summary cut to 1024 characters", func(ctx context.Context, p *oobetet.PagerDuty) error {
			return p.Trigger(ctx, oobetet.Incident{Key: "k", Summary: long, Host: "h"})
		}, `POST /v2/enqueue {"routing_key":"R0UT1NGKEY","event_action":"trigger","dedup_key":"k",` +
			`"payload":{"summary":"` + long[:2*1021] + `...","source":"h","severity":"critical"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newPD(t)
			if err := tc.call(context.Background(), srv.pager()); err != nil {
				t.Fatal(err)
			}
			if got := srv.take(); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
			if got := srv.header[0].Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
		})
	}
}

func TestPagerDutyErrors(t *testing.T) {
	in := oobetet.Incident{Key: "Flapjack Self Monitoring from mon-01", Summary: "s", Host: "mon-01"}
	for _, tc := range []struct {
		name   string
		status int
		pager  func(*pd) *oobetet.PagerDuty
		in     oobetet.Incident
		want   string // substring of the error; "": success
		posts  int
	}{
		{name: "202", status: http.StatusAccepted, posts: 1},
		{name: "200", status: http.StatusOK, posts: 1},
		{name: "400", status: http.StatusBadRequest, want: "pagerduty: trigger: HTTP 400", posts: 1},
		{name: "500", status: http.StatusInternalServerError, want: "HTTP 500", posts: 1},
		{name: "no routing key", pager: func(p *pd) *oobetet.PagerDuty {
			q := p.pager()
			q.RoutingKey = ""
			return q
		}, want: "no routing key"},
		{name: "no incident key", in: oobetet.Incident{Summary: "s"}, want: "no incident key"},
		{name: "unreachable", pager: func(p *pd) *oobetet.PagerDuty {
			q := p.pager()
			q.EventsURL = "http://user:secret@127.0.0.1:1/v2/enqueue"
			return q
		}, want: "pagerduty: trigger:"},
		{name: "bad URL", pager: func(p *pd) *oobetet.PagerDuty {
			q := p.pager()
			q.EventsURL = "http://secret@[::1"
			return q
		}, want: "invalid events URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newPD(t)
			if tc.status != 0 {
				srv.setStatus(tc.status)
			}
			p := srv.pager()
			if tc.pager != nil {
				p = tc.pager(srv)
			}
			if tc.in.Summary == "" {
				tc.in = in
			}
			err := p.Trigger(context.Background(), tc.in)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Trigger() = %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Trigger() = %v; want an error containing %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "R0UT1NGKEY") || strings.Contains(err.Error(), "secret")) {
				t.Errorf("the error shows a credential: %v", err)
			}
			if got := len(srv.take()); got != tc.posts {
				t.Errorf("%d posts; want %d", got, tc.posts)
			}
		})
	}
}

func TestPagerDutyTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	p := &oobetet.PagerDuty{RoutingKey: "R0UT1NGKEY", EventsURL: srv.URL, Client: srv.Client()}
	p.Timeout = 50 * time.Millisecond
	begun := time.Now()
	err := p.Resolve(context.Background(), oobetet.Incident{Key: "k"})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("Resolve() = %v; want a deadline error", err)
	}
	if d := time.Since(begun); d > 5*time.Second {
		t.Errorf("Resolve took %s", d)
	}
}
