package gatewaytest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Logs captures every log line written through its Logger, at every level, for
// [AssertNoSecrets]. Each line holds the message and every attribute (those
// added with With and WithGroup too) with its value as it is, unquoted and
// unescaped, so that no encoding can hide a secret from the check. A Logs is safe
// for concurrent use.
type Logs struct {
	mu    sync.Mutex
	lines []string
}

// NewLogs returns an empty capture.
func NewLogs() *Logs { return &Logs{} }

// Logger returns a logger writing to l.
func (l *Logs) Logger() *slog.Logger { return slog.New(&logHandler{logs: l}) }

// Handler returns a handler writing to l, to combine with others by
// slog.NewMultiHandler.
func (l *Logs) Handler() slog.Handler { return &logHandler{logs: l} }

// Lines returns the lines captured so far, oldest first.
func (l *Logs) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Contains reports whether a captured line contains every part.
func (l *Logs) Contains(parts ...string) bool {
	for _, line := range l.Lines() {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

type logHandler struct {
	logs   *Logs
	prefix string // attributes from With, already formatted
	group  string // group from WithGroup, dot-terminated
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "level=%s msg=%s%s", r.Level, r.Message, h.prefix)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, h.group, a)
		return true
	})
	h.logs.mu.Lock()
	h.logs.lines = append(h.logs.lines, b.String())
	h.logs.mu.Unlock()
	return nil
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range attrs {
		writeAttr(&b, h.group, a)
	}
	return &logHandler{logs: h.logs, prefix: b.String(), group: h.group}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &logHandler{logs: h.logs, prefix: h.prefix, group: h.group + name + "."}
}

func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range v.Group() {
			writeAttr(b, g, ga)
		}
		return
	}
	fmt.Fprintf(b, " %s%s=%s", group, a.Key, v.String())
}
