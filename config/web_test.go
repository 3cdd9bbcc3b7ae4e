package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWeb(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flapjack.toml")
	parseText := func(text string) (*Config, error) { return Parse([]byte(text), path) }
	yes, no := true, false
	cases := []struct {
		name, text string
		want       Web
	}{
		{"defaults", "", Web{}},
		{"every key", `[gateways.web]
enabled = false
auto_refresh = 30
access_log = "logs/web.log"
logo_image_path = "/srv/logo.png"
session_secret = "0123456789abcdef"
show_exceptions = true
`, Web{Enabled: &no, AutoRefresh: 30, AccessLog: filepath.Join(dir, "logs/web.log"), LogoImagePath: "/srv/logo.png",
			SessionSecret: "0123456789abcdef", ShowExceptions: true}},
		{"enabled", "[gateways.web]\nenabled = true\n", Web{Enabled: &yes}},
	}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseText(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			w, err := c.Web()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(w, tc.want) {
				t.Errorf("Web() = %+v, want %+v", w, tc.want)
			}
			if w.On() != (tc.want.Enabled == nil || *tc.want.Enabled) {
				t.Errorf("On() = %t", w.On())
			}
			if w.Refresh() != time.Duration(tc.want.AutoRefresh)*time.Second {
				t.Errorf("Refresh() = %v", w.Refresh())
			}
		})
	}
}

func TestWebProblems(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flapjack.toml")
	cases := []struct {
		name, text string
		want       []string
		never      string
	}{
		{"negative auto_refresh", "[gateways.web]\nauto_refresh = -5\n",
			[]string{"flapjack.toml:2: [gateways.web] auto_refresh must be 0 (off) or more seconds, not -5"}, ""},
		{"short session_secret", "[gateways.web]\nsession_secret = \"hunter2\"\n",
			[]string{"flapjack.toml:2: [gateways.web] session_secret must be at least 16 characters, not 7"}, "hunter2"},
		{"access log in no folder", "[gateways.web]\naccess_log = \"nowhere/web.log\"\n",
			[]string{"flapjack.toml:2: [gateways.web] access_log " + filepath.Join(dir, "nowhere/web.log") + ": the folder " + filepath.Join(dir, "nowhere") + " does not exist"}, ""},
		{"access log is a folder", "[gateways.jsonapi]\naccess_log = \".\"\n",
			[]string{"flapjack.toml:2: [gateways.jsonapi] access_log " + dir + " is a folder"}, ""},
		{"unknown key", "[gateways.web]\nlogo = \"x.png\"\n",
			[]string{`flapjack.toml:2: [gateways.web] unknown key "logo"`}, ""},
		{"wrong type", "[gateways.web]\nshow_exceptions = \"yes\"\n",
			[]string{`[gateways.web] key "show_exceptions": want bool`}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.text), path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := strings.ReplaceAll(err.Error(), path, "flapjack.toml")
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if tc.never != "" && strings.Contains(msg, tc.never) {
				t.Errorf("error %q shows the secret", msg)
			}
		})
	}
}

func TestJSONAPIAccessLog(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte("[gateways.jsonapi]\naccess_log = \"api.log\"\n"), filepath.Join(dir, "flapjack.toml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.JSONAPI()
	if err != nil || j.AccessLog != filepath.Join(dir, "api.log") {
		t.Errorf("JSONAPI() access_log %q, %v", j.AccessLog, err)
	}
}

// TestWebV2Keys: Flapjack v2's keys of its separate web server are accepted
// with a warning each.
func TestWebV2Keys(t *testing.T) {
	c, err := Parse([]byte("[gateways.web]\nenabled = true\nbind_address = \"0.0.0.0\"\nport = 3080\ntimeout = 300\napi_url = \"http://localhost:3081/\"\n"), "flapjack.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"flapjack.toml:6: [gateways.web] api_url is a Flapjack v2 setting with no effect: the web interface is served by [gateways.jsonapi] at /web/; ignored",
		"flapjack.toml:3: [gateways.web] bind_address is a Flapjack v2 setting with no effect: the web interface is served by [gateways.jsonapi] at /web/; ignored",
		"flapjack.toml:4: [gateways.web] port is a Flapjack v2 setting with no effect: the web interface is served by [gateways.jsonapi] at /web/; ignored",
		"flapjack.toml:5: [gateways.web] timeout is a Flapjack v2 setting with no effect: the web interface is served by [gateways.jsonapi] at /web/; ignored",
	}
	if got := c.Warnings(); !reflect.DeepEqual(got, want) {
		t.Errorf("Warnings() = %q\nwant %q", got, want)
	}
	if w := Default().Warnings(); len(w) != 0 {
		t.Errorf("default warnings %q", w)
	}
}
