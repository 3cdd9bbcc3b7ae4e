package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/config"
)

const file = "flapjack.toml"

func parse(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(text), file)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return c
}

func TestEmptyFileHasTheDocumentedDefaults(t *testing.T) {
	for _, text := range []string{"", "\n", "# only a comment\n"} {
		c := parse(t, text)
		if c.Path != file {
			t.Errorf("Path = %q, want %q", c.Path, file)
		}
		if !c.ProcessorEnabled() || !c.NotifierEnabled() {
			t.Errorf("%q: processor enabled %v, notifier enabled %v; both default to true", text, c.ProcessorEnabled(), c.NotifierEnabled())
		}
		// Unset delays are nil so that the processor's own defaults (30, 60, 0) apply.
		p := c.Processor
		if p.InitialFailureDelay != nil || p.RepeatFailureDelay != nil || p.InitialRecoveryDelay != nil {
			t.Errorf("%q: delays %v %v %v, want all unset", text, p.InitialFailureDelay, p.RepeatFailureDelay, p.InitialRecoveryDelay)
		}
		if p.Queue != "" || p.NotifierQueue != "" || c.Notifier.Queue != "" {
			t.Errorf("%q: queues %q %q %q, want unset (the components' defaults)", text, p.Queue, p.NotifierQueue, c.Notifier.Queue)
		}
		if d, err := c.NewCheckMaintenance(); d != 0 || err != nil {
			t.Errorf("%q: NewCheckMaintenance() = %v, %v; want 0 (off)", text, d, err)
		}
		if c.Logger.Level != "" || c.Logger.Format != "" {
			t.Errorf("%q: logger %+v, want unset (info, auto)", text, c.Logger)
		}
		if c.SetupFile() != "" {
			t.Errorf("%q: SetupFile() = %q, want none", text, c.SetupFile())
		}
		j, err := c.JSONAPI()
		if err != nil {
			t.Fatalf("%q: JSONAPI(): %v", text, err)
		}
		// A file without a [gateways.jsonapi] table runs no intake.
		if j.Enabled == nil || *j.Enabled || j.BindAddress != "127.0.0.1" || j.Port != 3081 || j.ProcessorQueue != "" {
			t.Errorf("%q: JSONAPI() = %+v (enabled %v), want disabled on 127.0.0.1:3081", text, j, deref(j.Enabled))
		}
	}
}

func TestEmbeddedDefault(t *testing.T) {
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate(): %v", err)
	}
	if c.Path != "" {
		t.Errorf("Path = %q, want empty", c.Path)
	}
	j, err := c.JSONAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !deref(j.Enabled) || j.BindAddress != "127.0.0.1" || j.Port != 3081 {
		t.Errorf("JSONAPI() = %+v, want enabled on 127.0.0.1:3081", j)
	}
	var g config.Gateway
	if err := c.Gateway("log", &g); err != nil || !g.Enabled {
		t.Errorf("log gateway = %+v, %v; want enabled", g, err)
	}
	if !c.ProcessorEnabled() || !c.NotifierEnabled() {
		t.Error("processor and notifier must run in the embedded default")
	}
}

func TestFullFile(t *testing.T) {
	c := parse(t, `
[logger]
level = "debug"
format = "json"

[processor]
enabled = true
queue = "ev"
notifier_queue = "notes"
initial_failure_delay = 10
repeat_failure_delay = 0
initial_recovery_delay = 5
new_check_scheduled_maintenance_duration = "2 hours, 30 minutes"
new_check_scheduled_maintenance_ignore_regex = "^test:"

[notifier]
enabled = false
queue = "notes"
default_contact_timezone = "Europe/Rome"

[setup]
file = "setup.yaml"

[gateways.jsonapi]
bind_address = "0.0.0.0"
port = 8080
processor_queue = "intake"
tokens_write = ["s3cret"]

[gateways.log]
enabled = true
queue = "logq"

[gateways.webhook]
enabled = false
url = "https://hooks.example.com/x"
timeout = 3
[gateways.webhook.headers]
Authorization = "Bearer x"
`)
	if c.Logger != (config.Logger{Level: "debug", Format: "json"}) {
		t.Errorf("Logger = %+v", c.Logger)
	}
	p := c.Processor
	if p.Queue != "ev" || p.NotifierQueue != "notes" || deref64(p.InitialFailureDelay) != 10 ||
		p.RepeatFailureDelay == nil || *p.RepeatFailureDelay != 0 || deref64(p.InitialRecoveryDelay) != 5 ||
		p.NewCheckScheduledMaintenanceIgnoreRegex != "^test:" {
		t.Errorf("Processor = %+v", p)
	}
	if d, err := c.NewCheckMaintenance(); d != 150*time.Minute || err != nil {
		t.Errorf("NewCheckMaintenance() = %v, %v; want 2h30m", d, err)
	}
	if !c.ProcessorEnabled() || c.NotifierEnabled() {
		t.Errorf("enabled: processor %v notifier %v, want true false", c.ProcessorEnabled(), c.NotifierEnabled())
	}
	if c.Notifier.Queue != "notes" || c.Notifier.DefaultContactTimezone != "Europe/Rome" {
		t.Errorf("Notifier = %+v", c.Notifier)
	}
	j, err := c.JSONAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !deref(j.Enabled) || j.BindAddress != "0.0.0.0" || j.Port != 8080 || j.ProcessorQueue != "intake" {
		t.Errorf("JSONAPI() = %+v", j)
	}
	var g config.Gateway
	if err := c.Gateway("log", &g); err != nil || g != (config.Gateway{Enabled: true, Queue: "logq"}) {
		t.Errorf("log gateway = %+v, %v", g, err)
	}
	var wh struct {
		Enabled bool              `json:"enabled"`
		URL     string            `json:"url"`
		Timeout float64           `json:"timeout"`
		Headers map[string]string `json:"headers"`
	}
	if err := c.Gateway("webhook", &wh); err != nil {
		t.Fatal(err)
	}
	if wh.Enabled || wh.URL != "https://hooks.example.com/x" || wh.Timeout != 3 || wh.Headers["Authorization"] != "Bearer x" {
		t.Errorf("webhook gateway = %+v", wh)
	}
	if err := c.Gateway("webhook", &g); err == nil || !strings.Contains(err.Error(), `unknown key "url"`) {
		t.Errorf("decoding the webhook table into a struct without url: %v, want an unknown key error", err)
	}
}

func TestNewCheckScheduledMaintenanceDuration(t *testing.T) {
	for _, tc := range []struct {
		value string // as written in the file
		want  time.Duration
		err   string
	}{
		{value: `100`, want: 100 * time.Second},
		{value: `0`, want: 0},
		{value: `"100 years"`, want: 100 * 8766 * time.Hour},
		{value: `"0 seconds"`, want: 0},
		{value: `"2 hours, 30 minutes"`, want: 150 * time.Minute},
		{value: `"1 day and 4 hours"`, want: 28 * time.Hour},
		{value: `"90"`, want: 90 * time.Second},
		{value: `"1h30m"`, want: 90 * time.Minute},
		{value: `-1`, err: "must be 0 or more seconds, not -1"},
		{value: `9223372036854775807`, err: "too long"},
		{value: `"forever"`, err: `"forever" is not a number and a unit`},
		{value: `"2 fortnights"`, err: `unknown unit "fortnights"`},
		{value: `"300 years"`, err: "too long"},
		{value: `""`, err: "empty duration"},
		{value: `1.5`, err: `want seconds or words such as "2 hours", not 1.5`},
		{value: `true`, err: `want seconds or words such as "2 hours", not true`},
	} {
		text := "[processor]\nnew_check_scheduled_maintenance_duration = " + tc.value + "\n"
		c, err := config.Parse([]byte(text), file)
		if tc.err != "" {
			want := file + ":2: [processor] new_check_scheduled_maintenance_duration: "
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q…%q", tc.value, err, want, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.value, err)
			continue
		}
		if got, err := c.NewCheckMaintenance(); got != tc.want || err != nil {
			t.Errorf("%s: NewCheckMaintenance() = %v, %v; want %v", tc.value, got, err, tc.want)
		}
	}
}

// TestErrors checks that each problem is reported, in full, with its file and line.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string // every line of the error, in order
	}{{
		name: "unknown key",
		text: "[processor]\ninitial_failure_delai = 3\n",
		want: []string{`flapjack.toml:2: unknown key "processor.initial_failure_delai"`},
	}, {
		name: "unknown table",
		text: "[logger]\nlevel = \"info\"\n\n[procesor]\nqueue = \"x\"\n",
		want: []string{`flapjack.toml:4: unknown key "procesor"`},
	}, {
		name: "unknown top-level key",
		text: "verbose = true\n",
		want: []string{`flapjack.toml:1: unknown key "verbose"`},
	}, {
		name: "unknown keys and bad values together",
		text: "[processor]\nfoo = 1\nbar = 2\n[logger]\nlevel = \"loud\"\n",
		want: []string{
			`flapjack.toml:2: unknown key "processor.foo"`,
			`flapjack.toml:3: unknown key "processor.bar"`,
			`flapjack.toml:5: [logger] level "loud" is not debug, info, warn or error`,
		},
	}, {
		name: "negative delays",
		text: "[processor]\ninitial_failure_delay = -1\nrepeat_failure_delay = -2\ninitial_recovery_delay = -3\n",
		want: []string{
			`flapjack.toml:2: [processor] initial_failure_delay must be 0 or more seconds, not -1`,
			`flapjack.toml:3: [processor] repeat_failure_delay must be 0 or more seconds, not -2`,
			`flapjack.toml:4: [processor] initial_recovery_delay must be 0 or more seconds, not -3`,
		},
	}, {
		name: "bad level and format",
		text: "[logger]\nlevel = \"verbose\"\nformat = \"xml\"\n",
		want: []string{
			`flapjack.toml:2: [logger] level "verbose" is not debug, info, warn or error`,
			`flapjack.toml:3: [logger] format "xml" is not auto, text or json`,
		},
	}, {
		name: "bad ignore regex",
		text: "[processor]\nnew_check_scheduled_maintenance_ignore_regex = \"(\"\n",
		want: []string{"flapjack.toml:2: [processor] new_check_scheduled_maintenance_ignore_regex: error parsing regexp: missing closing ): `(`"},
	}, {
		name: "bad time zone",
		text: "[notifier]\ndefault_contact_timezone = \"Mars/Olympus\"\n",
		want: []string{`flapjack.toml:2: [notifier] default_contact_timezone "Mars/Olympus" is not a known time zone`},
	}, {
		name: "port too large",
		text: "[gateways.jsonapi]\nport = 70000\n",
		want: []string{`flapjack.toml:2: [gateways.jsonapi] port 70000 is not between 1 and 65535`},
	}, {
		name: "port zero",
		text: "[gateways.jsonapi]\nport = 0\n",
		want: []string{`flapjack.toml:2: [gateways.jsonapi] port 0 is not between 1 and 65535`},
	}, {
		name: "negative port",
		text: "[gateways.jsonapi]\nport = -1\n",
		want: []string{`flapjack.toml:2: [gateways.jsonapi] port -1 is not between 1 and 65535`},
	}, {
		name: "port of the wrong type",
		text: "[gateways.jsonapi]\nenabled = true\nport = \"http\"\n",
		want: []string{`flapjack.toml:3: [gateways.jsonapi] key "port": want int, not a string`},
	}, {
		name: "unknown jsonapi keys",
		text: "[gateways.jsonapi]\nprot = 3081\nbind = \"::1\"\n",
		want: []string{
			`flapjack.toml:3: [gateways.jsonapi] unknown key "bind" (known: enabled, bind_address, port, processor_queue, log_level, tokens_read, tokens_write, tls_cert_file, tls_key_file, access_log)`,
			`flapjack.toml:2: [gateways.jsonapi] unknown key "prot" (known: enabled, bind_address, port, processor_queue, log_level, tokens_read, tokens_write, tls_cert_file, tls_key_file, access_log)`,
		},
	}, {
		name: "jsonapi as an inline table",
		text: "[gateways]\njsonapi = {port = 99999}\n",
		want: []string{`flapjack.toml:2: [gateways.jsonapi] port 99999 is not between 1 and 65535`},
	}, {
		name: "gateway enabled of the wrong type",
		text: "[gateways.log]\nenabled = \"yes\"\n",
		want: []string{`flapjack.toml:2: [gateways.log] key "enabled": want bool, not a string`},
	}, {
		name: "gateways sorted by name",
		text: "[gateways.webhook]\nqueue = 1\n[gateways.log]\nenabled = \"yes\"\n",
		want: []string{
			`flapjack.toml:4: [gateways.log] key "enabled": want bool, not a string`,
			`flapjack.toml:2: [gateways.webhook] key "queue": want string, not a number`,
		},
	}, {
		name: "three problems in three tables",
		text: "[logger]\nformat = \"yaml\"\n[processor]\nrepeat_failure_delay = -60\n[notifier]\ndefault_contact_timezone = \"Nowhere\"\n",
		want: []string{
			`flapjack.toml:2: [logger] format "yaml" is not auto, text or json`,
			`flapjack.toml:4: [processor] repeat_failure_delay must be 0 or more seconds, not -60`,
			`flapjack.toml:6: [notifier] default_contact_timezone "Nowhere" is not a known time zone`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.text), file)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want %d problems", tc.text, len(tc.want))
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) error:\n%s\nwant:\n%s", tc.text, err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestDecodeErrors covers what the TOML decoder itself rejects: it stops at the
// first such problem, so only its line is checked.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"string for a number", "[processor]\ninitial_failure_delay = \"30\"\n", "flapjack.toml:2: "},
		{"number for a string", "[logger]\n\nlevel = 3\n", "flapjack.toml:3: "},
		{"string for a bool", "[processor]\nenabled = \"yes\"\n", "flapjack.toml:2: "},
		{"table for a string", "[setup]\nfile = {path = \"x\"}\n", "flapjack.toml:2: "},
		{"gateway that is not a table", "[gateways]\nlog = true\n", "flapjack.toml:2: "},
		{"unclosed table", "[logger\nlevel = \"info\"\n", "flapjack.toml:1: "},
		{"duplicate key", "[logger]\nlevel = \"info\"\nlevel = \"debug\"\n", "flapjack.toml:3: "},
		{"missing value", "[logger]\nlevel =\n", "flapjack.toml:2: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.text), file)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Parse(%q) error %v, want it to start with %q", tc.text, err, tc.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	const year = 8766 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "0", want: 0},
		{in: "45", want: 45 * time.Second},
		{in: " 45 ", want: 45 * time.Second},
		{in: "0 seconds", want: 0},
		{in: "1 second", want: time.Second},
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5 hours", want: 90 * time.Minute},
		{in: "5 mins", want: 5 * time.Minute},
		{in: "2 hours, 30 minutes", want: 150 * time.Minute},
		{in: "2 Hours, 30 Minutes", want: 150 * time.Minute},
		{in: "1 day and 4 hours", want: 28 * time.Hour},
		{in: "1d 4h", want: 28 * time.Hour},
		{in: "2 weeks", want: 14 * 24 * time.Hour},
		{in: "100 years", want: 100 * year},
		{in: "1 year", want: year},
		{in: "", err: "empty duration"},
		{in: "   ", err: "empty duration"},
		{in: ",", err: "no number and unit"},
		{in: "-5", err: "must be 0 or more seconds, not -5"},
		{in: "-1h", err: "negative"},
		{in: "-5 minutes", err: `"-5minutes" is not a number and a unit`},
		{in: "forever", err: `"forever" is not a number and a unit`},
		{in: "five minutes", err: `"five" is not a number and a unit`},
		{in: "3 fortnights", err: `unknown unit "fortnights"`},
		{in: "2 hours and", err: `"and" is not a number and a unit`},
		{in: "1.5", err: `"1.5" is not a number and a unit`},
		{in: "300 years", err: "too long"},
		{in: "200 years, 200 years", err: "too long"},
		{in: "9223372036854775807", err: "too long"},
	} {
		got, err := config.ParseDuration(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDuration(%q) = %v, %v; want an error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if got != tc.want || err != nil {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestSetupFile(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "setup.yaml")
	for _, tc := range []struct {
		path, file, want string
	}{
		{path: "/etc/flapjack/flapjack.toml", file: "setup.yaml", want: filepath.Join("/etc/flapjack", "setup.yaml")},
		{path: "/etc/flapjack/flapjack.toml", file: "data/setup.yaml", want: filepath.Join("/etc/flapjack", "data", "setup.yaml")},
		{path: "/etc/flapjack/flapjack.toml", file: "../setup.yaml", want: filepath.Join("/etc", "setup.yaml")},
		{path: "conf/flapjack.toml", file: "setup.yaml", want: filepath.Join("conf", "setup.yaml")},
		{path: "flapjack.toml", file: "setup.yaml", want: "setup.yaml"},
		{path: "/etc/flapjack/flapjack.toml", file: abs, want: abs},
		{path: "/etc/flapjack/flapjack.toml", file: "", want: ""},
	} {
		c := &config.Config{Path: tc.path, Setup: config.Setup{File: tc.file}}
		if got := c.SetupFile(); got != tc.want {
			t.Errorf("config %q, file %q: SetupFile() = %q, want %q", tc.path, tc.file, got, tc.want)
		}
	}
	// The embedded default has no folder: the name is used as given.
	c := config.Default()
	c.Setup.File = "setup.yaml"
	if got := c.SetupFile(); got != "setup.yaml" {
		t.Errorf("default: SetupFile() = %q, want setup.yaml", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flapjack.toml")
	if err := os.WriteFile(path, []byte("[setup]\nfile = \"setup.yaml\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path || c.SetupFile() != filepath.Join(dir, "setup.yaml") {
		t.Errorf("Load: Path %q, SetupFile %q", c.Path, c.SetupFile())
	}

	if err := os.WriteFile(path, []byte("[setup]\nfiel = \"setup.yaml\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path); err == nil || !strings.HasPrefix(err.Error(), path+":2: ") {
		t.Errorf("Load of a file with an unknown key: %v, want an error starting with %q", err, path+":2: ")
	}

	missing := filepath.Join(dir, "missing.toml")
	if _, err := config.Load(missing); !os.IsNotExist(err) {
		t.Errorf("Load(%q) = %v, want a not-exist error", missing, err)
	}
}

func TestWhere(t *testing.T) {
	c := parse(t, "[processor]\n\nqueue = \"q\"\n\n[gateways.log]\nenabled = true\n")
	for key, want := range map[string]string{
		"processor.queue":          file + ":3",
		"processor":                file + ":1",
		"processor.notifier_queue": file + ":1", // not written: its table's line
		"gateways.log.enabled":     file + ":6",
		"gateways.log":             file + ":5",
		"notifier.queue":           file, // neither key nor table written
	} {
		if got := c.Where(key); got != want {
			t.Errorf("Where(%q) = %q, want %q", key, got, want)
		}
	}
	if got := config.Default().Where("processor.queue"); got != "configuration" {
		t.Errorf("Default().Where() = %q, want %q", got, "configuration")
	}
}

func deref(b *bool) bool { return b != nil && *b }

func deref64(n *int64) int64 {
	if n == nil {
		return -1
	}
	return *n
}

func TestProcessorArchiveAndBatch(t *testing.T) {
	for _, c := range []struct {
		name, toml, want string
	}{
		{"archive without max age", "[processor]\narchive_events = true\n", "archive_events needs events_archive_maxage"},
		{"negative batch", "[processor]\nbatch_size = -1\n", "batch_size must be positive"},
		{"archive with max age", "[processor]\narchive_events = true\nevents_archive_maxage = 10800\nbatch_size = 250\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(c.toml), "f.toml")
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error = %v, want one containing %q", err, c.want)
			case c.want == "" && (cfg.Processor.BatchSize != 250 || cfg.Processor.EventsArchiveMaxAge != 10800):
				t.Errorf("processor = %+v", cfg.Processor)
			}
		})
	}
}
