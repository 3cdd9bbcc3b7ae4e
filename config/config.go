// Package config reads Flapjack's TOML configuration, laid out like Flapjack v2's
// file: [logger], [redis], [processor], [notifier], [setup] and one
// [gateways.<name>] table per gateway. Every key has a documented default, so an
// empty file — or none at all — is a working configuration: the embedded default
// runs the processor, the notifier, the HTTP event intake on 127.0.0.1:3081 and
// the log gateway, in memory. A [redis] table puts everything in Redis instead.
//
// Unknown or misspelt keys are errors that name the file and line.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Config is the whole configuration.
type Config struct {
	Logger Logger `toml:"logger"`
	// Redis, when the [redis] table is present, keeps records and queues in
	// Redis; nil keeps them in memory.
	Redis     *Redis    `toml:"redis"`
	Processor Processor `toml:"processor"`
	Notifier  Notifier  `toml:"notifier"`
	Setup     Setup     `toml:"setup"`
	// Gateways holds one table per gateway, keyed by name: "jsonapi" is the HTTP
	// API (and event intake); the others are notification gateways keyed by
	// transport ("log", "webhook", "email"…).
	Gateways map[string]map[string]any `toml:"gateways"`
	// NagiosReceiver and NSCAReceiver configure "flapjack receiver nagios" and
	// "flapjack receiver nsca" (see receivers.go).
	NagiosReceiver NagiosReceiver `toml:"nagios-receiver"`
	NSCAReceiver   NSCAReceiver   `toml:"nsca-receiver"`

	// Path is the file the configuration was read from; empty for the default.
	Path string `toml:"-"`

	// lines maps each table's and key's dotted path to its line in the file.
	lines map[string]int
}

// Logger configures logging.
type Logger struct {
	// Level is debug, info, warn or error. It is the level of every component
	// without a log_level of its own ([processor], [notifier],
	// [gateways.<name>]). Default "info".
	Level string `toml:"level"`
	// Format is "text" (coloured when writing to a terminal), "json", or "auto":
	// text on a terminal, JSON otherwise. Default "auto".
	Format string `toml:"format"`
}

// Processor configures the event processor.
type Processor struct {
	// Enabled runs the processor. Default true.
	Enabled *bool `toml:"enabled"`
	// Queue is the events queue. Default "events".
	Queue string `toml:"queue"`
	// NotifierQueue is where notifications go. Default "notifications".
	NotifierQueue string `toml:"notifier_queue"`
	// Delays in seconds used when neither an event nor its check gives one.
	// Defaults 30, 60 and 0.
	InitialFailureDelay  *int64 `toml:"initial_failure_delay"`
	RepeatFailureDelay   *int64 `toml:"repeat_failure_delay"`
	InitialRecoveryDelay *int64 `toml:"initial_recovery_delay"`
	// NewCheckScheduledMaintenanceDuration puts checks first seen into scheduled
	// maintenance for this long: a number of seconds or words such as "100 years"
	// or "2 hours, 30 minutes". Default "0 seconds": off, new checks alert at once.
	NewCheckScheduledMaintenanceDuration any `toml:"new_check_scheduled_maintenance_duration"`
	// NewCheckScheduledMaintenanceIgnoreRegex exempts matching check names.
	// Default: none.
	NewCheckScheduledMaintenanceIgnoreRegex string `toml:"new_check_scheduled_maintenance_ignore_regex"`
	// LogLevel is the processor's log level. Default: [logger] level.
	LogLevel string `toml:"log_level"`
	// BatchSize is how many events the processor takes off the queue and writes
	// at a time. Default 100 in memory, 500 on Redis (one round trip each way
	// per batch).
	BatchSize int `toml:"batch_size"`
	// ArchiveEvents keeps a copy of every valid event on hourly lists
	// "<queue>_archive:YYYYMMDDHH" (UTC). Default false.
	ArchiveEvents bool `toml:"archive_events"`
	// EventsArchiveMaxAge is how many seconds an archive list is kept after its
	// last event. Required when ArchiveEvents is on (Flapjack v2's example used
	// 10800).
	EventsArchiveMaxAge int64 `toml:"events_archive_maxage"`
	// DecisionLog records, per check, what the processor made of its events
	// and why (shown by GET /checks/<id>/decisions and the check's web page).
	// Default true.
	DecisionLog *bool `toml:"decision_log"`
}

// Notifier configures the notifier.
type Notifier struct {
	// Enabled runs the notifier. Default true.
	Enabled *bool `toml:"enabled"`
	// Queue is the notifications queue. Default "notifications".
	Queue string `toml:"queue"`
	// DefaultContactTimezone is the zone of contacts without one. Default: $TZ,
	// else UTC.
	DefaultContactTimezone string `toml:"default_contact_timezone"`
	// LogLevel is the notifier's log level. Default: [logger] level.
	LogLevel string `toml:"log_level"`
	// DecisionLog records, per check, whom each notification alerted and why
	// other media were not. Default true.
	DecisionLog *bool `toml:"decision_log"`
}

// Setup names the set-up data file (checks, contacts, media, rules) loaded at start.
type Setup struct {
	// File is the path of the YAML set-up data, relative to the configuration
	// file's folder. Default: none.
	File string `toml:"file"`
}

// JSONAPI configures the HTTP API and event intake ([gateways.jsonapi]).
type JSONAPI struct {
	// Enabled serves the API. Default true when the [gateways.jsonapi] table is
	// present or no configuration file is used (the embedded default); a file
	// without the table runs no intake.
	Enabled *bool `json:"enabled"`
	// BindAddress is the address to listen on. Default "127.0.0.1".
	BindAddress string `json:"bind_address"`
	// Port is the port to listen on. Default 3081.
	Port int `json:"port"`
	// ProcessorQueue is where submitted events go. Default: the processor's queue.
	ProcessorQueue string `json:"processor_queue"`
	// LogLevel is the level of the HTTP server's log. Default: [logger] level.
	LogLevel string `json:"log_level"`
	// TokensRead and TokensWrite are bearer tokens: a read token allows GET,
	// HEAD and OPTIONS requests, a write token every request. With none, the
	// server needs no token, which is only allowed on a loopback address
	// (127.0.0.0/8, ::1, localhost). Default: none.
	TokensRead  []string `json:"tokens_read"`
	TokensWrite []string `json:"tokens_write"`
	// TLSCertFile and TLSKeyFile, given together, serve HTTPS with this PEM
	// certificate (chain) and key. Relative paths are resolved against the
	// configuration file's folder. Default: plain HTTP.
	TLSCertFile string `json:"tls_cert_file"`
	TLSKeyFile  string `json:"tls_key_file"`
	// AccessLog, when set, is a file each request to the server (but those of
	// the web interface, which [gateways.web] access_log logs) is appended
	// to, in the Combined Log Format. A relative path is resolved against the
	// configuration file's folder; the file is opened again at every reload
	// (SIGHUP), for log rotation. Default: none.
	AccessLog string `json:"access_log"`
}

// AuthRequired reports whether requests need a bearer token.
func (j JSONAPI) AuthRequired() bool { return len(j.TokensRead)+len(j.TokensWrite) > 0 }

// TLS reports whether the server serves HTTPS.
func (j JSONAPI) TLS() bool { return j.TLSCertFile != "" && j.TLSKeyFile != "" }

// IsLoopback reports whether a bind address only accepts local connections:
// localhost or an address of 127.0.0.0/8 or ::1.
func IsLoopback(addr string) bool {
	if strings.EqualFold(addr, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(addr, "[]"))
	return err == nil && ip.IsLoopback()
}

// Gateway is a notification gateway's table, with the keys every gateway shares.
type Gateway struct {
	// Enabled runs the gateway. Default false, except for "log" in the embedded
	// default.
	Enabled bool `json:"enabled"`
	// Queue is the queue of the transport's alerts. Default "<transport>_notifications".
	Queue string `json:"queue"`
	// LogLevel is the level of the log of the gateway, its delivery and its
	// helpers (such as PagerDuty's acknowledgement poller). Default: [logger]
	// level.
	LogLevel string `json:"log_level"`
}

// Default returns the embedded default configuration.
func Default() *Config {
	return &Config{Gateways: map[string]map[string]any{
		"jsonapi": {"enabled": true},
		"log":     {"enabled": true},
	}}
}

// Load reads the configuration at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path)
}

// Parse reads a configuration's content; path is used in errors and to resolve
// relative file names.
func Parse(data []byte, path string) (*Config, error) {
	c := &Config{Path: path}
	dec := toml.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		var strict *toml.StrictMissingError
		if !errors.As(err, &strict) {
			return nil, tomlError(path, err)
		}
		// The rest of the file was decoded: report its problems too.
		c.lines = keyLines(data)
		return nil, errors.Join(tomlError(path, err), c.Validate())
	}
	c.lines = keyLines(data)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// keyLines maps the dotted path of every table and key of a TOML document to the
// line where it first appears, so that problems found after decoding name it.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = recordKey(&p, lines, nil, e.Key())
		case unstable.KeyValue:
			recordKeyValue(&p, lines, table, e)
		}
	}
	return lines
}

func recordKeyValue(p *unstable.Parser, lines map[string]int, prefix []string, kv *unstable.Node) {
	path := recordKey(p, lines, prefix, kv.Key())
	if v := kv.Value(); v.Kind == unstable.InlineTable {
		it := v.Children()
		for it.Next() {
			if it.Node().Kind == unstable.KeyValue {
				recordKeyValue(p, lines, path, it.Node())
			}
		}
	}
}

// recordKey records the line of every prefix of a dotted key and returns its path.
func recordKey(p *unstable.Parser, lines map[string]int, prefix []string, key unstable.Iterator) []string {
	path := slices.Clone(prefix)
	for key.Next() {
		k := key.Node()
		path = append(path, string(k.Data))
		if dotted := strings.Join(path, "."); lines[dotted] == 0 {
			lines[dotted] = p.Shape(k.Raw).Start.Line
		}
	}
	return path
}

// Where names the file and line of a dotted key such as "processor.queue" (or of
// the nearest enclosing table written in the file) for error messages: "FILE:LINE",
// "FILE" when the key is not in the file, "configuration" for the embedded default.
func (c *Config) Where(key string) string {
	if c.Path == "" {
		return "configuration"
	}
	for k := key; k != ""; {
		if line := c.lines[k]; line > 0 {
			return fmt.Sprintf("%s:%d", c.Path, line)
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return c.Path
}

func tomlError(path string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var msgs []string
		for _, e := range strict.Errors {
			row, _ := e.Position()
			msgs = append(msgs, fmt.Sprintf("%s:%d: unknown key %q", path, row, strings.Join(e.Key(), ".")))
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return fmt.Errorf("%s:%d: %s", path, row, de.Error())
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Validate reports every problem of the configuration at once, each with the file
// and line of the key it concerns.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{c.Where(key)}, args...)...))
	}
	if _, err := ParseLevel(c.Logger.Level); err != nil {
		add("logger.level", "[logger] level %v", err)
	}
	if _, err := ParseLevel(c.Processor.LogLevel); err != nil {
		add("processor.log_level", "[processor] log_level %v", err)
	}
	if _, err := ParseLevel(c.Notifier.LogLevel); err != nil {
		add("notifier.log_level", "[notifier] log_level %v", err)
	}
	switch c.Logger.Format {
	case "", "auto", "text", "json":
	default:
		add("logger.format", "[logger] format %q is not auto, text or json", c.Logger.Format)
	}
	for _, d := range []struct {
		name string
		v    *int64
	}{
		{"initial_failure_delay", c.Processor.InitialFailureDelay},
		{"repeat_failure_delay", c.Processor.RepeatFailureDelay},
		{"initial_recovery_delay", c.Processor.InitialRecoveryDelay},
	} {
		if d.v != nil && *d.v < 0 {
			add("processor."+d.name, "[processor] %s must be 0 or more seconds, not %d", d.name, *d.v)
		}
	}
	if c.Redis != nil {
		_, problems := c.Redis.options(c.lines)
		for _, p := range problems {
			add("redis."+p.key, "[redis] %s", p.msg)
		}
	}
	if c.Processor.BatchSize < 0 {
		add("processor.batch_size", "[processor] batch_size must be positive, not %d", c.Processor.BatchSize)
	}
	if c.Processor.EventsArchiveMaxAge < 0 || (c.Processor.ArchiveEvents && c.Processor.EventsArchiveMaxAge == 0) {
		add("processor.events_archive_maxage", "[processor] archive_events needs events_archive_maxage, a positive number of seconds")
	}
	if _, err := c.NewCheckMaintenance(); err != nil {
		add("processor.new_check_scheduled_maintenance_duration", "[processor] new_check_scheduled_maintenance_duration: %v", err)
	}
	if r := c.Processor.NewCheckScheduledMaintenanceIgnoreRegex; r != "" {
		if _, err := regexp.Compile(r); err != nil {
			add("processor.new_check_scheduled_maintenance_ignore_regex", "[processor] new_check_scheduled_maintenance_ignore_regex: %v", err)
		}
	}
	if z := c.Notifier.DefaultContactTimezone; z != "" {
		if _, err := time.LoadLocation(z); err != nil {
			add("notifier.default_contact_timezone", "[notifier] default_contact_timezone %q is not a known time zone", z)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Gateways)) {
		var problems []keyProblem
		var level string
		switch name {
		case "jsonapi":
			var j JSONAPI
			j, problems = c.jsonAPI()
			level = j.LogLevel
		case "web":
			_, problems = c.web()
		default:
			var g Gateway
			problems = decodeTable(c.Gateways[name], &g, false)
			level = g.LogLevel
		}
		if _, err := ParseLevel(level); err != nil && len(problems) == 0 {
			problems = append(problems, keyProblem{"log_level", "log_level " + err.Error()})
		}
		for _, p := range problems {
			key := "gateways." + name
			if p.key != "" {
				key += "." + p.key
			}
			add(key, "[gateways.%s] %s", name, p.msg)
		}
	}
	return errors.Join(errs...)
}

// ParseLevel reads a log level: debug, info, warn (or warning) or error, in any
// case. The empty string is info, the default; the caller decides what it
// stands for.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
}

// Warnings lists settings that are accepted but have no effect, each with its
// file and line, for the daemon to log.
func (c *Config) Warnings() []string {
	var w []string
	if c.Redis != nil && c.Redis.Driver != "" {
		w = append(w, fmt.Sprintf("%s: [redis] driver %q is a Flapjack v2 setting with no meaning here; ignored",
			c.Where("redis.driver"), c.Redis.Driver))
	}
	w = append(w, c.webWarnings()...)
	return w
}

// NewCheckMaintenance is the new-check scheduled maintenance duration (0 = off).
func (c *Config) NewCheckMaintenance() (time.Duration, error) {
	switch v := c.Processor.NewCheckScheduledMaintenanceDuration.(type) {
	case nil:
		return 0, nil
	case int64:
		return seconds(v)
	case string:
		return ParseDuration(v)
	default:
		return 0, fmt.Errorf("want seconds or words such as \"2 hours\", not %v", v)
	}
}

// JSONAPI returns the [gateways.jsonapi] table with its defaults.
func (c *Config) JSONAPI() (JSONAPI, error) {
	j, problems := c.jsonAPI()
	return j, joinProblems(problems)
}

func (c *Config) jsonAPI() (JSONAPI, []keyProblem) {
	j := JSONAPI{BindAddress: "127.0.0.1", Port: 3081}
	if t, ok := c.Gateways["jsonapi"]; ok {
		if problems := decodeTable(t, &j, true); len(problems) > 0 {
			return j, problems
		}
	}
	if j.Enabled == nil {
		on := c.Path == "" // the embedded default serves the intake
		if _, ok := c.Gateways["jsonapi"]; ok {
			on = true
		}
		j.Enabled = &on
	}
	if j.Port <= 0 || j.Port > 65535 {
		return j, []keyProblem{{"port", fmt.Sprintf("port %d is not between 1 and 65535", j.Port)}}
	}
	j.TLSCertFile, j.TLSKeyFile = c.resolve(j.TLSCertFile), c.resolve(j.TLSKeyFile)
	j.AccessLog = c.resolve(j.AccessLog)
	problems := j.securityProblems(*j.Enabled)
	if p := accessLogProblem(j.AccessLog); p != nil {
		problems = append(problems, *p)
	}
	return j, problems
}

// securityProblems checks the tokens and the TLS files. Tokens are never part
// of a message: they are named by their position.
func (j JSONAPI) securityProblems(enabled bool) []keyProblem {
	var problems []keyProblem
	for _, list := range []struct {
		key    string
		tokens []string
	}{{"tokens_read", j.TokensRead}, {"tokens_write", j.TokensWrite}} {
		for i, tok := range list.tokens {
			switch {
			case tok == "":
				problems = append(problems, keyProblem{list.key, fmt.Sprintf("%s: token %d is empty", list.key, i+1)})
			case strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
				problems = append(problems, keyProblem{list.key, fmt.Sprintf("%s: token %d has a space, a control or a non-ASCII character", list.key, i+1)})
			}
		}
	}
	if enabled && !j.AuthRequired() && !IsLoopback(j.BindAddress) {
		problems = append(problems, keyProblem{"bind_address", fmt.Sprintf(
			"tokens are required when listening on %q: set tokens_read and/or tokens_write, or bind to 127.0.0.1", j.BindAddress)})
	}
	switch {
	case j.TLSCertFile != "" && j.TLSKeyFile == "":
		problems = append(problems, keyProblem{"tls_cert_file", "tls_cert_file needs tls_key_file"})
	case j.TLSKeyFile != "" && j.TLSCertFile == "":
		problems = append(problems, keyProblem{"tls_key_file", "tls_key_file needs tls_cert_file"})
	case j.TLS():
		for _, f := range []struct{ key, path string }{{"tls_cert_file", j.TLSCertFile}, {"tls_key_file", j.TLSKeyFile}} {
			if _, err := os.ReadFile(f.path); err != nil {
				problems = append(problems, keyProblem{f.key, fmt.Sprintf("%s: %v", f.key, err)})
			}
		}
		if len(problems) == 0 {
			if _, err := tls.LoadX509KeyPair(j.TLSCertFile, j.TLSKeyFile); err != nil {
				problems = append(problems, keyProblem{"tls_cert_file", "tls_cert_file and tls_key_file: " + err.Error()})
			}
		}
	}
	return problems
}

// resolve makes a file name relative to the configuration file's folder.
func (c *Config) resolve(f string) string {
	if f == "" || filepath.IsAbs(f) || c.Path == "" {
		return f
	}
	return filepath.Join(filepath.Dir(c.Path), f)
}

// Gateway decodes the table of gateway name into v (a struct with json tags),
// rejecting keys v does not have.
func (c *Config) Gateway(name string, v any) error {
	return joinProblems(decodeTable(c.Gateways[name], v, true))
}

// ProcessorEnabled and NotifierEnabled report whether those components run.
func (c *Config) ProcessorEnabled() bool { return c.Processor.Enabled == nil || *c.Processor.Enabled }

// NotifierEnabled reports whether the notifier runs.
func (c *Config) NotifierEnabled() bool { return c.Notifier.Enabled == nil || *c.Notifier.Enabled }

// SetupFile is the set-up data path resolved against the configuration's folder.
func (c *Config) SetupFile() string {
	f := c.Setup.File
	if f == "" || filepath.IsAbs(f) || c.Path == "" {
		return f
	}
	return filepath.Join(filepath.Dir(c.Path), f)
}
