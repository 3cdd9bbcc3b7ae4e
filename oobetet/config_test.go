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

// TestConfigCheckInterval: check_interval sets the tick; it must be more than
// 0 seconds and at most max_latency (300 s when unset).
func TestConfigCheckInterval(t *testing.T) {
	for _, tc := range []struct {
		name    string
		section gateway.MapConfig
		tick    time.Duration // 0: the default
		want    string        // "": no error
	}{
		{"unset", gateway.MapConfig{}, 0, ""},
		{"unset with a short max_latency", gateway.MapConfig{"max_latency": 5}, 0, ""},
		{"whole seconds", gateway.MapConfig{"check_interval": 2, "max_latency": 20}, 2 * time.Second, ""},
		{"fraction", gateway.MapConfig{"check_interval": 0.5}, 500 * time.Millisecond, ""},
		{"equal to max_latency", gateway.MapConfig{"check_interval": 20, "max_latency": 20}, 20 * time.Second, ""},
		{"equal to the default max_latency", gateway.MapConfig{"check_interval": 300}, 300 * time.Second, ""},
		{"zero", gateway.MapConfig{"check_interval": 0}, 0, "check_interval: 0: want more than 0 seconds"},
		{"negative", gateway.MapConfig{"check_interval": -10}, 0, "check_interval: -10: want more than 0 seconds"},
		{"below a nanosecond", gateway.MapConfig{"check_interval": 1e-12}, 0, "check_interval: 1e-12: want more than 0 seconds"},
		{"too large", gateway.MapConfig{"check_interval": 1e300}, 0, "check_interval: 1e+300 is not a number of seconds"},
		{"above max_latency", gateway.MapConfig{"check_interval": 30, "max_latency": 20}, 0,
			"check_interval: 30: want at most max_latency (20 seconds)"},
		{"above the default max_latency", gateway.MapConfig{"check_interval": 301}, 0,
			"check_interval: 301: want at most max_latency (300 seconds)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.section["watched_check"] = check
			var c oobetet.Config
			if err := tc.section.Decode(&c); err != nil {
				t.Fatal(err)
			}
			opts, err := c.Options(http.DefaultClient)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("Options() = %v; want an error with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opts.Tick != tc.tick {
				t.Errorf("Tick = %s, want %s", opts.Tick, tc.tick)
			}
			if _, err := oobetet.New(opts); err != nil {
				t.Errorf("New() = %v", err)
			}
		})
	}
	var c oobetet.Config
	if err := (gateway.MapConfig{"watched_check": check, "check_interval": "10"}).Decode(&c); err == nil {
		t.Error("a check_interval given as a string was accepted")
	}
}
