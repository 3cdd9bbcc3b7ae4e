package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/x/flapjack/config"
	"github.com/x/flapjack/setup"
	"github.com/x/flapjack/store/memory"
)

// testServer is a server over a memory store, not started.
func testServer(t *testing.T, cfg *config.Config) (*server, *bytes.Buffer) {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	var logs bytes.Buffer
	levels := newLogLevels(cfg, &logs)
	return newServer(st, levels, levels.root()), &logs
}

func parseConfig(t *testing.T, dir, text string) *config.Config {
	t.Helper()
	path := filepath.Join(dir, "flapjack.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestReloadRestartsOnlyWhatChanged builds a plan, then plans of changed
// configurations, and checks which stages apply would restart.
func TestReloadRestartsOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "alert.text"), []byte("{{.CheckName}} is bad"), 0o600); err != nil {
		t.Fatal(err)
	}
	const base = `[gateways.log]
enabled = true

[gateways.webhook]
enabled = true
timeout = 5

[gateways.slack]
enabled = true
endpoint = "http://127.0.0.1:1/hook"
account_sid = "flapjack"
[gateways.slack.templates]
"alert.text" = "alert.text"
`
	cfg := parseConfig(t, dir, base)
	s, _ := testServer(t, cfg)
	first, err := s.build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.apply(nil, first); !slices.Equal(got, []string{"gateway log", "gateway slack", "gateway webhook", "notifier", "processor"}) {
		t.Errorf("at start apply set up %q", got)
	}
	for _, tc := range []struct {
		name  string
		edit  func(string) string
		file  string // rewritten before the build: the slack template
		want  []string
		level slog.Level // of the webhook gateway's logger after the reload
	}{
		{name: "nothing changed", edit: func(s string) string { return s }, want: nil, level: slog.LevelInfo},
		{name: "levels only", edit: func(s string) string {
			return "[logger]\nlevel = \"error\"\n[processor]\nlog_level = \"debug\"\n" +
				strings.Replace(s, "timeout = 5", "timeout = 5\nlog_level = \"warn\"", 1)
		}, want: nil, level: slog.LevelWarn},
		{name: "a gateway's table", edit: func(s string) string { return strings.Replace(s, "timeout = 5", "timeout = 6", 1) },
			want: []string{"gateway webhook"}},
		{name: "a template file", edit: func(s string) string { return s }, file: "{{.CheckName}} is worse",
			want: []string{"gateway slack"}},
		{name: "a delivery table", edit: func(s string) string { return s + "[gateways.webhook.delivery]\nworkers = 2\n" },
			want: []string{"gateway webhook"}},
		{name: "a gateway disabled", edit: func(s string) string {
			return strings.Replace(s, "[gateways.log]\nenabled = true", "[gateways.log]\nenabled = false", 1)
		}, want: []string{"gateway log", "notifier"}},
		{name: "a disabled gateway added", edit: func(s string) string { return s + "[gateways.email]\n" },
			want: nil},
		{name: "a gateway's queue", edit: func(s string) string {
			return strings.Replace(s, "[gateways.log]\nenabled = true", "[gateways.log]\nenabled = true\nqueue = \"log_alerts\"", 1)
		}, want: []string{"gateway log", "notifier"}},
		{name: "processor settings", edit: func(s string) string { return "[processor]\ninitial_failure_delay = 5\n" + s },
			want: []string{"processor"}},
		{name: "notifier settings", edit: func(s string) string { return "[notifier]\ndefault_contact_timezone = \"Europe/Paris\"\n" + s },
			want: []string{"notifier"}},
		{name: "notifier disabled", edit: func(s string) string { return "[notifier]\nenabled = false\n" + s },
			want: []string{"notifier"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "alert.text"), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s.mu.Lock()
			prev := s.cur
			s.mu.Unlock()
			cfg := parseConfig(t, dir, tc.edit(base))
			next, err := s.build(cfg, prev)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.apply(prev, next); !slices.Equal(got, tc.want) {
				t.Errorf("apply restarted %q, want %q", got, tc.want)
			}
			if got := s.levels.logger("gateways.webhook").Enabled(context.Background(), tc.level); !got {
				t.Errorf("the webhook's logger does not log at %s", tc.level)
			}
			if tc.level == slog.LevelWarn && s.levels.logger("gateways.webhook").Enabled(context.Background(), slog.LevelInfo) {
				t.Error("the webhook's logger logs at info with log_level = \"warn\"")
			}
			// Back to the base configuration for the next case.
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "alert.text"), []byte("{{.CheckName}} is bad"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			back, err := s.build(parseConfig(t, dir, base), next)
			if err != nil {
				t.Fatal(err)
			}
			s.apply(next, back)
		})
	}
}

func TestReloadRejectsBadGatewayTable(t *testing.T) {
	dir := t.TempDir()
	cfg := parseConfig(t, dir, "[gateways.webhook]\nenabled = true\n")
	s, _ := testServer(t, cfg)
	first, err := s.build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.apply(nil, first)
	bad := parseConfig(t, dir, "[gateways.webhook]\nenabled = true\ntimeout = \"soon\"\n")
	if _, err := s.build(bad, first); err == nil || !strings.Contains(err.Error(), "flapjack.toml:1: [gateways.webhook]") {
		t.Errorf("build of a bad gateway table: %v", err)
	}
}

func TestLogLevelsPerComponent(t *testing.T) {
	cfg := &config.Config{
		Logger:    config.Logger{Level: "warn", Format: "json"},
		Processor: config.Processor{LogLevel: "debug"},
		Gateways:  map[string]map[string]any{"email": {"log_level": "error"}},
	}
	var out bytes.Buffer
	l := newLogLevels(cfg, &out)
	root, proc, notif, email := l.root(), l.logger("processor"), l.logger("notifier"), l.logger("gateways.email")
	root.Info("root info")
	root.Warn("root warn")
	proc.Debug("processor debug")
	notif.Info("notifier info")
	notif.Warn("notifier warn")
	email.Warn("email warn")
	email.Error("email error")
	for _, want := range []string{"root warn", "processor debug", "notifier warn", "email error"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("%q not logged:\n%s", want, out.String())
		}
	}
	for _, never := range []string{"root info", "notifier info", "email warn"} {
		if strings.Contains(out.String(), never) {
			t.Errorf("%q logged:\n%s", never, out.String())
		}
	}

	// A reload changes the levels of the loggers already made.
	l.set(&config.Config{Logger: config.Logger{Level: "debug"}})
	out.Reset()
	proc.Debug("processor debug 2")
	email.Info("email info")
	l.set(&config.Config{Logger: config.Logger{Level: "error"}})
	proc.Warn("processor warn")
	if got := out.String(); !strings.Contains(got, "processor debug 2") || !strings.Contains(got, "email info") || strings.Contains(got, "processor warn") {
		t.Errorf("after reloads:\n%s", got)
	}
}

// TestRemoveDropped: what the set-up data no longer defines is removed from
// the store; what it still defines stays.
func TestRemoveDropped(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	parse := func(text string) *setup.Data {
		d, err := setup.Parse([]byte(text), "setup.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Apply(ctx, st); err != nil {
			t.Fatal(err)
		}
		return d
	}
	old := parse(`contacts:
  - id: a
    media: [{id: a1, transport: log, address: a}, {id: a2, transport: log, address: a}]
    rules: [{id: ra1, strategy: global, media: [a1]}, {id: ra2, strategy: global, media: [a2]}]
  - id: b
    media: [{id: b1, transport: log, address: b}]
    rules: [{id: rb1, strategy: global, media: [b1]}]
`)
	now := parse(`contacts:
  - id: a
    media: [{id: a1, transport: log, address: a}]
    rules: [{id: ra1, strategy: global, media: [a1]}]
`)
	if err := removeDropped(ctx, st, old, now); err != nil {
		t.Fatal(err)
	}
	rt, err := st.Routing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range rt.Contacts {
		ids = append(ids, "contact "+id)
	}
	for id := range rt.Media {
		ids = append(ids, "medium "+id)
	}
	for _, r := range rt.Rules {
		ids = append(ids, "rule "+r.ID)
	}
	slices.Sort(ids)
	if want := []string{"contact a", "medium a1", "rule ra1"}; !slices.Equal(ids, want) {
		t.Errorf("the store holds %q, want %q", ids, want)
	}
	// Removing again finds nothing to remove, and that is no error.
	if err := removeDropped(ctx, st, old, now); err != nil {
		t.Errorf("a second removal: %v", err)
	}
}
