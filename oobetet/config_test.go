package oobetet_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/oobetet"
)

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name       string
		section    gateway.MapConfig
		maxLatency time.Duration
		pagerURL   string // "": no pager
		want       []string
	}{
		{"v2 example", gateway.MapConfig{
			"jabberid": "flapjacktest@jabber.example.org", "password": "nuther-good-password", "alias": "oobetet",
			"rooms": []string{"flapjacktest@conference.jabber.example.org"}, "watched_check": check,
			"watched_entity": "flapper.example.org", "max_latency": 300, "pagerduty_contact": "11111111111111111111111111111111",
			"server": "jabber.example.org", "port": 5222,
		}, 300 * time.Second, oobetet.DefaultEventsURL, nil},
		{"minimal", gateway.MapConfig{"watched_check": check}, 0, "", nil},
		{"fractional latency, own endpoint", gateway.MapConfig{
			"watched_check": check, "max_latency": 90.5, "pagerduty_contact": "k",
			"pagerduty_events_url": "http://127.0.0.1:8080/v2/enqueue",
		}, 90500 * time.Millisecond, "http://127.0.0.1:8080/v2/enqueue", nil},
		{"nothing", gateway.MapConfig{}, 0, "", []string{"watched_check is required"}},
		{"bad values", gateway.MapConfig{
			"watched_check": check, "max_latency": -1, "pagerduty_events_url": "ftp://user:secret@x",
		}, 0, "", []string{"max_latency: -1 is not a number of seconds", "pagerduty_events_url: want an https URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c oobetet.Config
			if err := tc.section.Decode(&c); err != nil {
				t.Fatal(err)
			}
			opts, err := c.Options(http.DefaultClient)
			if tc.want != nil {
				if err == nil {
					t.Fatal("Options() succeeded; want an error")
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error shows a credential: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.WatchedCheck != check || opts.MaxLatency != tc.maxLatency {
				t.Errorf("Options() = %+v", opts)
			}
			switch p := opts.Pager.(type) {
			case nil:
				if tc.pagerURL != "" {
					t.Error("no pager")
				}
			case *oobetet.PagerDuty:
				url := p.EventsURL
				if url == "" {
					url = oobetet.DefaultEventsURL
				}
				if url != tc.pagerURL || p.RoutingKey == "" || p.Client != http.DefaultClient {
					t.Errorf("pager %+v", p)
				}
			default:
				t.Errorf("pager %T", p)
			}
			if _, err := oobetet.New(opts); err != nil {
				t.Errorf("New() = %v", err)
			}
		})
	}
	var c oobetet.Config
	if err := (gateway.MapConfig{"watched_chekc": check}).Decode(&c); err == nil {
		t.Error("a misspelt key was accepted")
	}
}
