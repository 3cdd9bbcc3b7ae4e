package config_test

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/x/flapjack/config"
)

func TestComponentLogLevels(t *testing.T) {
	cfg, err := config.Parse([]byte(`[logger]
level = "warn"

[processor]
log_level = "debug"

[notifier]
log_level = "ERROR"

[gateways.jsonapi]
log_level = "info"

[gateways.webhook]
enabled = true
log_level = "warning"
`), file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logger.Level != "warn" || cfg.Processor.LogLevel != "debug" || cfg.Notifier.LogLevel != "ERROR" {
		t.Errorf("levels %q %q %q", cfg.Logger.Level, cfg.Processor.LogLevel, cfg.Notifier.LogLevel)
	}
	j, err := cfg.JSONAPI()
	if err != nil || j.LogLevel != "info" {
		t.Errorf("jsonapi log_level %q, %v", j.LogLevel, err)
	}
	var g config.Gateway
	if err := cfg.Gateway("webhook", &g); err != nil || g.LogLevel != "warning" {
		t.Errorf("webhook log_level %q, %v", g.LogLevel, err)
	}
}

func TestUnknownLogLevels(t *testing.T) {
	_, err := config.Parse([]byte(`[logger]
level = "trace"

[processor]
log_level = "loud"

[notifier]
log_level = "fatal"

[gateways.jsonapi]
log_level = "quiet"

[gateways.webhook]
enabled = true
log_level = "verbose"

[gateways.log]
enabled = true
log_level = 3
`), file)
	if err == nil {
		t.Fatal("unknown levels accepted")
	}
	want := []string{
		`flapjack.toml:2: [logger] level "trace" is not debug, info, warn or error`,
		`flapjack.toml:5: [processor] log_level "loud" is not debug, info, warn or error`,
		`flapjack.toml:8: [notifier] log_level "fatal" is not debug, info, warn or error`,
		`flapjack.toml:11: [gateways.jsonapi] log_level "quiet" is not debug, info, warn or error`,
		`flapjack.toml:19: [gateways.log] key "log_level": want string, not a number`,
		`flapjack.toml:15: [gateways.webhook] log_level "verbose" is not debug, info, warn or error`,
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("error:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"": slog.LevelInfo, "info": slog.LevelInfo, "DEBUG": slog.LevelDebug,
		"warn": slog.LevelWarn, "Warning": slog.LevelWarn, "error": slog.LevelError,
	} {
		if got, err := config.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := config.ParseLevel("fatal"); err == nil {
		t.Error(`ParseLevel("fatal") succeeded`)
	}
}
