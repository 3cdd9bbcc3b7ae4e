package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lmittmann/tint"

	"github.com/x/flapjack/config"
)

// newLogger builds a logger at c's level: coloured text on a terminal, JSON otherwise.
func newLogger(c config.Logger, w io.Writer) *slog.Logger {
	level, _ := config.ParseLevel(c.Level) // validated with the configuration
	return slog.New(&levelHandler{h: logHandler(c.Format, w), level: level})
}

// logHandler writes every record it is given, whatever its level, as format says:
// "text" (coloured), "json", or "auto" (text on a terminal, JSON otherwise). A
// levelHandler in front of it picks the records.
func logHandler(format string, w io.Writer) slog.Handler {
	if format == "" || format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return tint.NewHandler(w, &tint.Options{Level: slog.LevelDebug, TimeFormat: time.DateTime})
	}
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
}

// levelHandler lets through the records at or above its level, so that loggers
// with different levels share one output.
type levelHandler struct {
	h     slog.Handler
	level slog.Leveler
}

func (l *levelHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= l.level.Level()
}

func (l *levelHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }

func (l *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{h: l.h.WithAttrs(attrs), level: l.level}
}

func (l *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{h: l.h.WithGroup(name), level: l.level}
}

// logLevels are the daemon's log levels, which a reload changes in place:
// [logger] level for the daemon itself and each component without a level of
// its own, and the log_level of [processor], [notifier] and [gateways.<name>]
// for that component (a gateway's level covers its delivery and its helpers;
// [gateways.jsonapi]'s the HTTP server). The output and its format are fixed at
// start.
type logLevels struct {
	out  slog.Handler
	base slog.LevelVar

	mu   sync.Mutex
	cfg  *config.Config
	vars map[string]*slog.LevelVar // by section: "processor", "notifier", "gateways.<name>"
}

func newLogLevels(cfg *config.Config, w io.Writer) *logLevels {
	l := &logLevels{out: logHandler(cfg.Logger.Format, w), vars: map[string]*slog.LevelVar{}}
	l.set(cfg)
	return l
}

// root returns the daemon's own logger, at [logger] level.
func (l *logLevels) root() *slog.Logger {
	return slog.New(&levelHandler{h: l.out, level: &l.base})
}

// logger returns the logger of a section's component.
func (l *logLevels) logger(section string) *slog.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.vars[section]
	if !ok {
		v = new(slog.LevelVar)
		v.Set(sectionLevel(l.cfg, section))
		l.vars[section] = v
	}
	return slog.New(&levelHandler{h: l.out, level: v})
}

// set applies cfg's levels to every logger made so far and to come.
func (l *logLevels) set(cfg *config.Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg
	l.base.Set(sectionLevel(cfg, ""))
	for section, v := range l.vars {
		v.Set(sectionLevel(cfg, section))
	}
}

// sectionLevel is the level of a section's component: its log_level when set,
// else [logger] level.
func sectionLevel(cfg *config.Config, section string) slog.Level {
	var s string
	switch section {
	case "processor":
		s = cfg.Processor.LogLevel
	case "notifier":
		s = cfg.Notifier.LogLevel
	default:
		if name, ok := strings.CutPrefix(section, "gateways."); ok {
			s, _ = cfg.Gateways[name]["log_level"].(string)
		}
	}
	if s != "" {
		if level, err := config.ParseLevel(s); err == nil {
			return level
		}
	}
	level, _ := config.ParseLevel(cfg.Logger.Level) // validated with the configuration
	return level
}
