package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	redisstore "github.com/x/flapjack/store/redis"
)

// Redis configures the Redis store ([redis]). When the table is present, every
// component — processor, notifier, gateways' delivery and the HTTP intake — keeps
// its records and queues in Redis, shared with Flapjack's producers and any other
// Flapjack process; when it is absent, everything is in memory.
//
// The server is given either as url or with Flapjack v2's keys host, port, db
// and path, never both.
type Redis struct {
	// URL names the server(s) in one string, as store/redis.ParseURL reads it:
	// "redis://[user[:password]@]host[:port][/db]", "rediss://…" (TLS),
	// "unix:///path/to/redis.sock?db=N", with parameters for Sentinel
	// (master_name, addr, sentinel_username, sentinel_password), Redis Cluster
	// (cluster, addr) and tuning. Default: none (use host, port, db, path).
	URL string `toml:"url"`
	// Host is the server's name or address. Default "127.0.0.1".
	Host string `toml:"host"`
	// Port is the server's TCP port. Default 6379.
	Port *int64 `toml:"port"`
	// DB is the database number. Default 0.
	DB *int64 `toml:"db"`
	// Path is the server's unix socket, an absolute path; it replaces host and
	// port. Default: none.
	Path string `toml:"path"`
	// Username and Password authenticate with the server (an ACL user, or the
	// password alone for requirepass). With url they may be given here instead
	// of in the URL, not in both. Default none.
	Username string `toml:"username"`
	Password string `toml:"password"`
	// Prefix is put before every key, queues included. Flapjack's producers push
	// to the bare "events" list, so leave it empty where they feed this daemon.
	// Default "".
	Prefix string `toml:"prefix"`
	// Consumer names this daemon's reservations of queue items, which wait in
	// "<queue>:inflight:<consumer>" until handled. A restarted daemon with the
	// same consumer id takes back at once what it left unfinished; with a new
	// id, another consumer takes the items back only after a minute without a
	// heartbeat from the old one. So give each daemon an id that is stable
	// across restarts and unique to it, such as "flapjack@web-1", or
	// "processor@web-1" and "gateways@web-1" for two daemons on one host. Two
	// running daemons must never share one. Default "<hostname>:<pid>".
	Consumer string `toml:"consumer"`
	// Driver is Flapjack v2's choice of Ruby client library. It means nothing
	// here: it is accepted, so that a v2 [redis] table reads unchanged, and
	// ignored with a warning.
	Driver string `toml:"driver"`
}

// Options returns the store options the table describes.
func (r *Redis) Options() (redisstore.Options, error) {
	o, problems := r.options(nil)
	return o, joinProblems(problems)
}

// options builds the store options and lists every problem of the table. lines,
// when not nil, maps keys to their lines, to point from one key to another.
// No message ever holds a password.
func (r *Redis) options(lines map[string]int) (redisstore.Options, []keyProblem) {
	var problems []keyProblem
	problem := func(key, format string, args ...any) {
		problems = append(problems, keyProblem{key, fmt.Sprintf(format, args...)})
	}
	named := func(key string) string {
		if line := lines["redis."+key]; line > 0 {
			return fmt.Sprintf("%s (line %d)", key, line)
		}
		return key
	}

	if r.URL != "" {
		var conflicts []string
		for _, k := range []struct {
			name string
			set  bool
		}{{"host", r.Host != ""}, {"port", r.Port != nil}, {"db", r.DB != nil}, {"path", r.Path != ""}} {
			if k.set {
				conflicts = append(conflicts, named(k.name))
			}
		}
		if len(conflicts) > 0 {
			problem("url", "url cannot be combined with %s: give the server either as url or with host, port, db and path",
				strings.Join(conflicts, ", "))
		}
		o, err := parseRedisURL(r.URL)
		if err != nil {
			for _, msg := range strings.Split(err.Error(), "\n") {
				problem("url", "url %s: %s", redactURL(r.URL), msg)
			}
			return o, problems
		}
		for _, k := range []struct {
			name, value string
			dst         *string
		}{
			{"username", r.Username, &o.Username},
			{"password", r.Password, &o.Password},
			{"prefix", r.Prefix, &o.Prefix},
			{"consumer", r.Consumer, &o.ConsumerID},
		} {
			if k.value == "" {
				continue
			}
			if *k.dst != "" {
				problem(k.name, "%s is also given in url; give it in one place", k.name)
				continue
			}
			*k.dst = k.value
		}
		return o, problems
	}

	o := redisstore.Options{
		Username: r.Username, Password: r.Password,
		Prefix: r.Prefix, ConsumerID: r.Consumer,
	}
	port := int64(6379)
	if r.Port != nil {
		port = *r.Port
		if port < 1 || port > 65535 {
			problem("port", "port %d is not between 1 and 65535", port)
		}
	}
	if r.DB != nil {
		if *r.DB < 0 || *r.DB > math.MaxInt32 {
			problem("db", "db %d is not a database number (0 or more)", *r.DB)
		} else {
			o.DB = int(*r.DB)
		}
	}
	if r.Path != "" {
		if !filepath.IsAbs(r.Path) {
			problem("path", "path %q is not absolute: name the unix socket by its full path", r.Path)
		}
		var conflicts []string
		if r.Host != "" {
			conflicts = append(conflicts, named("host"))
		}
		if r.Port != nil {
			conflicts = append(conflicts, named("port"))
		}
		if len(conflicts) > 0 {
			problem("path", "path (a unix socket) cannot be combined with %s", strings.Join(conflicts, ", "))
		}
		o.Addrs = []string{r.Path}
		return o, problems
	}
	host := r.Host
	if host == "" {
		host = "127.0.0.1"
	} else if _, p, err := net.SplitHostPort(host); err == nil && net.ParseIP(host) == nil {
		problem("host", "host %q holds a port: give the port with port = %s", host, p)
	} else if strings.ContainsAny(host, "/ \t") {
		problem("host", "host %q is not a host name or address", host)
	}
	o.Addrs = []string{net.JoinHostPort(host, strconv.FormatInt(port, 10))}
	return o, problems
}

// Redacted is the server's address as a URL, with every password replaced by
// "xxxxx", for logs and messages. Prefix and consumer are not part of it.
func (r *Redis) Redacted() string {
	if r.URL != "" {
		u, err := url.Parse(r.URL)
		if err != nil {
			s, _ := strconv.Unquote(redactURL(r.URL))
			return s
		}
		if r.Username != "" || r.Password != "" { // merge the keys into the URL's user info
			user, hasPassword := r.Username, r.Password != ""
			if u.User != nil {
				if name := u.User.Username(); name != "" {
					user = name
				}
				_, inURL := u.User.Password()
				hasPassword = hasPassword || inURL
			}
			u.User = url.User(user)
			if hasPassword {
				u.User = url.UserPassword(user, "xxxxx")
			}
		}
		u.RawQuery = sentinelPassword.ReplaceAllString(u.RawQuery, "${1}xxxxx")
		return u.Redacted()
	}
	u := &url.URL{Scheme: "redis"}
	db := int64(0)
	if r.DB != nil {
		db = *r.DB
	}
	if r.Path != "" {
		u.Scheme, u.Path, u.RawQuery = "unix", r.Path, "db="+strconv.FormatInt(db, 10)
	} else {
		host, port := r.Host, int64(6379)
		if host == "" {
			host = "127.0.0.1"
		}
		if r.Port != nil {
			port = *r.Port
		}
		u.Host, u.Path = net.JoinHostPort(host, strconv.FormatInt(port, 10)), "/"+strconv.FormatInt(db, 10)
	}
	switch {
	case r.Password != "":
		u.User = url.UserPassword(r.Username, "xxxxx")
	case r.Username != "":
		u.User = url.User(r.Username)
	}
	return u.String()
}

// String is Redacted, so that printing the table never shows a password.
func (r Redis) String() string { return r.Redacted() }

// LogValue is Redacted, so that logging the table never shows a password.
func (r Redis) LogValue() slog.Value { return slog.StringValue(r.Redacted()) }

// Scrub replaces the table's passwords wherever they occur in msg, for errors
// that come from talking to the server.
func (r *Redis) Scrub(msg string) string {
	if r.URL != "" {
		msg = strings.ReplaceAll(msg, r.URL, r.Redacted())
	}
	msg = scrubURL(msg, r.URL)
	if r.Password != "" {
		msg = strings.ReplaceAll(msg, r.Password, "xxxxx")
	}
	return msg
}

// sentinelPassword matches the value of a sentinel_password URL parameter.
var sentinelPassword = regexp.MustCompile(`((?:^|[?&])sentinel_password=)[^&#]*`)

// parseRedisURL is redisstore.ParseURL with the URL's passwords taken out of
// its errors: url.Parse repeats the whole URL, or parts of it.
func parseRedisURL(raw string) (redisstore.Options, error) {
	o, err := redisstore.ParseURL(raw)
	if err == nil {
		return o, nil
	}
	hint := ""
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the URL, which the caller shows redacted
		if len(secretSpans(raw)) > 0 {
			hint = " (in a password, percent-encode / ? # % and spaces, such as %2F for /)"
		}
	}
	return redisstore.Options{}, errors.New(scrubURL(strings.TrimPrefix(err.Error(), "redis URL: "), raw) + hint)
}

// redactURL shows a URL, quoted, with its passwords replaced by "xxxxx"; a URL
// that does not parse loses everything that might be a password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		b := []byte(raw)
		spans := secretSpans(raw)
		for i := len(spans) - 1; i >= 0; i-- {
			b = append(b[:spans[i][0]], append([]byte("xxxxx"), b[spans[i][1]:]...)...)
		}
		return strconv.Quote(string(b))
	}
	u.RawQuery = sentinelPassword.ReplaceAllString(u.RawQuery, "${1}xxxxx")
	return strconv.Quote(u.Redacted())
}

// secretSpans returns the byte ranges of raw that may hold a password, sorted
// and apart, found without parsing the URL, which may not parse: from the first
// ":" of what follows the scheme to the last "@", and the values of
// sentinel_password. They err on the side of covering too much.
func secretSpans(raw string) [][2]int {
	var spans [][2]int
	userEnd := -1
	if i := strings.Index(raw, "://"); i >= 0 {
		start := i + len("://")
		if at := strings.LastIndexByte(raw, '@'); at > start {
			if c := strings.IndexByte(raw[start:at], ':'); c >= 0 {
				spans = append(spans, [2]int{start + c + 1, at})
				userEnd = at
			}
		}
	}
	for _, m := range sentinelPassword.FindAllStringSubmatchIndex(raw, -1) {
		if m[3] >= userEnd { // else inside the span above
			spans = append(spans, [2]int{m[3], m[1]})
		}
	}
	return spans
}

// quoted matches a Go-quoted string in an error message.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// scrubURL takes out of msg every password of the URL raw: the passwords as
// written and decoded, and every quoted fragment (as in `invalid port ":pa"`)
// that overlaps one in raw or is part of a decoded one.
func scrubURL(msg, raw string) string {
	spans := secretSpans(raw)
	if len(spans) == 0 {
		return msg
	}
	var secrets []string
	for _, sp := range spans {
		s := raw[sp[0]:sp[1]]
		secrets = append(secrets, s)
		if d, err := url.QueryUnescape(s); err == nil {
			secrets = append(secrets, d)
		}
	}
	overlaps := func(text string) bool {
		for from := 0; ; {
			i := strings.Index(raw[from:], text)
			if i < 0 {
				return false
			}
			i += from
			for _, sp := range spans {
				if i < sp[1] && i+len(text) > sp[0] {
					return true
				}
			}
			from = i + 1
		}
	}
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		text, err := strconv.Unquote(q)
		if err != nil || text == "" {
			return q
		}
		if overlaps(text) {
			return `"xxxxx"`
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(s, text) {
				return `"xxxxx"`
			}
		}
		return q
	})
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}
