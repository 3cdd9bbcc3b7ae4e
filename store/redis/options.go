package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Options configure a Store. The zero value talks to 127.0.0.1:6379, database 0,
// without a key prefix.
type Options struct {
	// Addrs are the servers. One "host:port" (or a unix socket path starting with
	// "/") names a single server; with MasterName they are the Sentinels to ask
	// for the master; otherwise several addresses are the seeds of a Redis
	// Cluster. Default ["127.0.0.1:6379"].
	Addrs []string
	// MasterName is the name of the Sentinel-managed master. Default "" (no
	// Sentinel).
	MasterName string
	// Cluster talks to a Redis Cluster even when Addrs holds a single seed.
	// Several Addrs without MasterName imply it. A cluster needs a Prefix holding
	// a hash tag, such as "{flapjack}:", because every record and queue the store
	// changes in one transaction must live in one hash slot. Default false.
	Cluster bool

	// Username and Password authenticate with the Redis servers (an ACL user, or
	// the password alone for requirepass). Default none.
	Username string
	Password string
	// SentinelUsername and SentinelPassword authenticate with the Sentinels,
	// which may be set up apart from the servers. Default none.
	SentinelUsername string
	SentinelPassword string
	// DB is the database number; a cluster has only database 0. Default 0.
	DB int
	// TLSConfig, when not nil, makes every connection use TLS. Default nil.
	TLSConfig *tls.Config

	// Prefix is put before every key, queues included, so that several
	// deployments or test runs can share a server. Flapjack's producers push to
	// the bare queue names, so leave it empty where they feed this store.
	// Default "".
	Prefix string

	// ConsumerID names this store's reservations: items it takes off a queue
	// wait in "<queue>:inflight:<ConsumerID>" until acknowledged. New pushes back
	// whatever an earlier process with the same ID left there, so a stable ID
	// (such as "processor@web-1") brings unacknowledged items back as soon as the
	// process restarts. Two live stores must never share one. Default
	// "<hostname>:<pid>", with "/<n>" appended for the n-th store of the process
	// after the first.
	ConsumerID string
	// ConsumerTimeout is how long a consumer may go without a heartbeat before
	// another one pushes its reserved items back onto their queues. Heartbeats
	// are sent every third of it, and with every reservation. Default 1 minute.
	ConsumerTimeout time.Duration
	// BlockTimeout is how long one blocking wait for a queue item lasts on the
	// server before Reserve looks around again, in whole seconds (less than one
	// counts as one). Cancellation and Close do not wait for it: they interrupt
	// the wait with CLIENT UNBLOCK, and only where an ACL forbids that command
	// does a cancelled Reserve return at the end of the wait. Default 1 second.
	BlockTimeout time.Duration
	// WakeTokens makes Push also push one "+" per item onto "<queue>_actions", in
	// the same transaction, as Flapjack v2's producers do, for Flapjack v2
	// processes consuming what this store pushes. This store's own consumers do
	// not need the tokens. Default false.
	WakeTokens bool

	// TxRetries bounds the attempts of an optimistic transaction (UpdateCheck,
	// UpdateMediumState, routing writes) that keeps meeting concurrent writers
	// of the same record. Default 100.
	TxRetries int

	// DialTimeout bounds establishing a connection. Default 5 seconds.
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for a reply (a blocking wait gets BlockTimeout
	// plus 10 seconds instead). Default 3 seconds.
	ReadTimeout time.Duration
	// WriteTimeout bounds sending a command. Default ReadTimeout.
	WriteTimeout time.Duration
	// PoolSize is the most connections kept per server for ordinary commands,
	// and again for the scripts that move queue items. A blocking Reserve in
	// progress holds one more connection of its own. Default 10 per CPU.
	PoolSize int
	// MaxRetries is how often an ordinary command is retried after a network
	// error; -1 disables retries. Commands that move queue items are never
	// retried, since a lost reply would move them twice. Default 3.
	MaxRetries int

	// Logger receives problems of the background heartbeat and recovery. Default
	// discard.
	Logger *slog.Logger
}

const (
	defaultConsumerTimeout = time.Minute
	defaultBlockTimeout    = time.Second
	defaultTxRetries       = 100
)

// storesMade numbers the stores of this process, for default consumer ids.
var storesMade atomic.Int64

// withDefaults returns o with every unset field at its default.
func (o Options) withDefaults() Options {
	if len(o.Addrs) == 0 {
		o.Addrs = []string{"127.0.0.1:6379"}
	}
	if o.ConsumerID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		o.ConsumerID = host + ":" + strconv.Itoa(os.Getpid())
		if n := storesMade.Add(1); n > 1 {
			o.ConsumerID += "/" + strconv.FormatInt(n, 10)
		}
	}
	if o.ConsumerTimeout <= 0 {
		o.ConsumerTimeout = defaultConsumerTimeout
	}
	// BLMOVE takes fractions, but go-redis sends whole seconds; the default is
	// also the least.
	o.BlockTimeout = max(o.BlockTimeout.Truncate(time.Second), defaultBlockTimeout)
	if o.TxRetries <= 0 {
		o.TxRetries = defaultTxRetries
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// clusterMode reports whether o selects a Redis Cluster, as go-redis decides it.
func (o *Options) clusterMode() bool {
	return o.MasterName == "" && (o.Cluster || len(o.Addrs) > 1)
}

func (o *Options) validate() error {
	var errs []error
	if o.clusterMode() {
		if !hasHashTag(o.Prefix) {
			errs = append(errs, fmt.Errorf("cluster: Prefix %q holds no hash tag such as \"{flapjack}:\"; every key must share one slot", o.Prefix))
		}
		if o.DB != 0 {
			errs = append(errs, fmt.Errorf("cluster: DB %d, but a cluster has only database 0", o.DB))
		}
	}
	return errors.Join(errs...)
}

// hasHashTag reports whether s holds a Redis Cluster hash tag: a "{" followed
// later by a "}" with something between them.
func hasHashTag(s string) bool {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(s[i+1:], '}')
	return j > 0
}

// universal translates o into go-redis' options. maxRetries overrides
// MaxRetries, for the client whose commands must not be retried.
func (o *Options) universal(maxRetries int) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:            o.Addrs,
		MasterName:       o.MasterName,
		IsClusterMode:    o.Cluster && o.MasterName == "",
		Username:         o.Username,
		Password:         o.Password,
		SentinelUsername: o.SentinelUsername,
		SentinelPassword: o.SentinelPassword,
		DB:               o.DB,
		TLSConfig:        o.TLSConfig,
		DialTimeout:      o.DialTimeout,
		ReadTimeout:      o.ReadTimeout,
		WriteTimeout:     o.WriteTimeout,
		PoolSize:         o.PoolSize,
		MaxRetries:       maxRetries,
		// go-redis' automatic mode asks every new connection whether the server
		// sends maintenance notifications (a Redis Cloud feature), and on a "no"
		// rewrites options that the dedicated connections of blocking waits
		// share without a lock: a data race, for a feature Flapjack does not use.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// maxWaits bounds the blocking waits in progress at once, each of which holds a
// connection; it is far above any sensible number of consumer goroutines.
const maxWaits = 1024

// waits translates o into go-redis' options for the connections of blocking
// waits: never retried, and a pool that only they use.
func (o *Options) waits() *redis.UniversalOptions {
	u := o.universal(-1)
	u.PoolSize = maxWaits
	return u
}

// ParseURL builds Options from a URL:
//
//	redis://[[user]:password@]host[:port][/db][?param=value&…]
//	rediss://…     the same over TLS
//	unix://[[user]:password@]/path/to/redis.sock[?db=N&…]
//
// The user and password of the URL authenticate with the Redis servers. The port
// defaults to 6379 and the database to 0. Parameters:
//
//	addr=host:port         another address (repeatable): a Sentinel with master_name, else a cluster seed
//	master_name=NAME       use Sentinel: the addresses are Sentinels watching master NAME
//	cluster=true           a Redis Cluster even with a single seed
//	sentinel_username=U    credentials for the Sentinels
//	sentinel_password=P
//	db=N                   the database (instead of the path)
//	prefix=P               Options.Prefix
//	consumer=ID            Options.ConsumerID
//	consumer_timeout=D     Options.ConsumerTimeout
//	block_timeout=D        Options.BlockTimeout
//	wake_tokens=true       Options.WakeTokens
//	tx_retries=N           Options.TxRetries
//	dial_timeout=D, read_timeout=D, write_timeout=D, pool_size=N, max_retries=N
//	skip_verify=true       rediss:// without checking the server's certificate
//
// A duration D is a Go duration ("500ms") or a number of seconds. An unknown
// parameter is an error, so that a misspelt one is not ignored.
func ParseURL(rawURL string) (Options, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Options{}, fmt.Errorf("redis URL: %w", err)
	}
	var o Options
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	var pathDB string
	switch u.Scheme {
	case "redis", "rediss":
		host, port := u.Hostname(), u.Port()
		if host == "" {
			host = "localhost"
		}
		if port == "" {
			port = "6379"
		}
		o.Addrs = []string{net.JoinHostPort(host, port)}
		if p := strings.Trim(u.Path, "/"); p != "" {
			pathDB = p
		}
		if u.Scheme == "rediss" {
			o.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
	case "unix":
		if u.Path == "" {
			return Options{}, errors.New("redis URL: unix:// needs a socket path")
		}
		o.Addrs = []string{u.Path}
	default:
		return Options{}, fmt.Errorf("redis URL: unknown scheme %q, want redis, rediss or unix", u.Scheme)
	}

	q := u.Query()
	var errs []error
	take := func(name string) (string, bool) {
		vs, ok := q[name]
		delete(q, name)
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[len(vs)-1], true
	}
	intParam := func(name string, dst *int) {
		if v, ok := take(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, v))
			}
			*dst = n
		}
	}
	boolParam := func(name string, dst *bool) {
		if v, ok := take(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
			}
			*dst = b
		}
	}
	durationParam := func(name string, dst *time.Duration) {
		if v, ok := take(name); ok {
			d, err := parseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*dst = d
		}
	}
	stringParam := func(name string, dst *string) {
		if v, ok := take(name); ok {
			*dst = v
		}
	}

	for _, a := range q["addr"] {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("addr: %q is not host:port", a))
			continue
		}
		o.Addrs = append(o.Addrs, a)
	}
	delete(q, "addr")
	if v, ok := take("db"); ok {
		pathDB = v
	}
	if pathDB != "" {
		n, err := strconv.Atoi(pathDB)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("database %q is not a number", pathDB))
		}
		o.DB = n
	}
	stringParam("master_name", &o.MasterName)
	boolParam("cluster", &o.Cluster)
	stringParam("sentinel_username", &o.SentinelUsername)
	stringParam("sentinel_password", &o.SentinelPassword)
	stringParam("prefix", &o.Prefix)
	stringParam("consumer", &o.ConsumerID)
	durationParam("consumer_timeout", &o.ConsumerTimeout)
	durationParam("block_timeout", &o.BlockTimeout)
	boolParam("wake_tokens", &o.WakeTokens)
	intParam("tx_retries", &o.TxRetries)
	durationParam("dial_timeout", &o.DialTimeout)
	durationParam("read_timeout", &o.ReadTimeout)
	durationParam("write_timeout", &o.WriteTimeout)
	intParam("pool_size", &o.PoolSize)
	intParam("max_retries", &o.MaxRetries)
	var skipVerify bool
	boolParam("skip_verify", &skipVerify)
	if skipVerify {
		if o.TLSConfig == nil {
			errs = append(errs, errors.New("skip_verify: only for rediss://"))
		} else {
			o.TLSConfig.InsecureSkipVerify = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		errs = append(errs, fmt.Errorf("unknown parameter %q", name))
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("redis URL: %w", err)
	}
	return o, nil
}

func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a duration nor a number of seconds", s)
	}
	return d, nil
}
