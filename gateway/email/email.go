// Package email is the "email" gateway: it sends each alert as an email over
// SMTP, with a plain-text and an HTML part, keeping a small pool of SMTP
// connections open between alerts.
//
//	[gateways.email]
//	enabled = true
//	[gateways.email.smtp_config]
//	host = "smtp.example.com"           # default "localhost"
//	port = 587                          # default 25 (465 with tls = true)
//	from = "Flapjack <flapjack@example.com>"   # default flapjack@<this host's FQDN>
//	reply_to = "ops@example.com"        # default: from, display name kept
//	authentication = "plain"            # plain, login, cram_md5 or none
//	username = "flapjack"
//	password = "s3cret"
//	starttls = "auto"                   # auto (the default), always or never
//	tls = false                         # implicit TLS (port 465)
//	ca_file = "/etc/flapjack/smtp-ca.pem"
//	insecure_skip_verify = false
//	helo = "flapjack.example.com"       # default: this host's FQDN
//	timeout = 30                        # seconds per connection set-up and per message
//	max_connections = 4                 # the pool's size
//	idle_timeout = 60                   # seconds an unused connection stays open
//
// The keys are those of Flapjack v2's smtp_config table, which v2 read but partly
// ignored: here starttls and the v2 example's [smtp_config.auth] table (type,
// username, password) are honoured too.
//
// # Messages
//
// Each alert becomes one message to the medium's address (a list of addresses
// separated by commas is allowed), with:
//
//   - From: the configured from, as written; the envelope sender is its bare
//     address;
//   - Reply-To: reply_to, or else from with its display name;
//   - Subject: the "email" family's alert_subject (rollup_subject) template,
//     e.g. "Problem: 'app-01:HTTP' is Critical";
//   - Message-ID: <alert-id@fqdn>, so that a receiver can tell a redelivered
//     alert from a new one;
//   - Date: the alert's time;
//   - multipart/alternative bodies: text/plain from the alert (rollup) text
//     template and text/html from its html template, both UTF-8,
//     quoted-printable. A custom family without an html template sends the
//     text part alone.
//
// # Connections
//
// Connections are pooled: up to max_connections sessions are open at once and
// each is reused for the following alerts. A connection taken from the pool
// after a rest is checked with RSET; one the server has closed is dropped, and
// a message whose reused connection was lost before the server accepted the
// DATA command is sent again, once, on another connection (a new one, or an
// idle one that passes the same check). Connections left unused for
// idle_timeout are closed (by Start's housekeeping, and at the latest when
// next taken). Close ends every session with QUIT.
//
// STARTTLS is used when the server offers it (starttls = "auto"), required
// ("always") or never attempted ("never"); tls = true speaks TLS from the first
// byte instead. Certificates are verified against the system's roots and
// ca_file's, unless insecure_skip_verify is set. The password is only ever sent
// over TLS, or to a server on the loopback interface.
//
// # Failures
//
// An SMTP reply 4xx, a lost connection and a timeout are retryable; a 5xx
// reply, a refused login (535), a server lacking STARTTLS or the login
// mechanism asked for, a certificate that cannot be verified, and an address
// that is not one are permanent. Errors name the SMTP command and the server's
// reply code, and never show the password: the text of a reply to AUTH is left
// out, and the password is blotted out of any other reply.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/puddle/v2"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// Transport is the transport name the gateway registers under.
const Transport = "email"

// The defaults of SMTPConfig.
const (
	DefaultHost           = "localhost"
	DefaultPort           = 25
	DefaultTLSPort        = 465
	DefaultTimeout        = 30 * time.Second
	DefaultMaxConnections = 4
	DefaultIdleTimeout    = 60 * time.Second
)

// Config is the gateway's configuration section.
type Config struct {
	// SMTP is the smtp_config table.
	SMTP SMTPConfig `json:"smtp_config"`
}

// SMTPConfig says how to reach the SMTP server and what to send as.
type SMTPConfig struct {
	// Host is the SMTP server's name or address. Default: "localhost".
	Host string `json:"host"`
	// Port is the SMTP server's port. Default: 25, or 465 when TLS is true.
	Port int `json:"port"`
	// From is the sender, with or without a display name ("Flapjack
	// <flapjack@example.com>"); the envelope sender is its bare address.
	// Default: "flapjack@<this host's FQDN>".
	From string `json:"from"`
	// ReplyTo is the Reply-To address. Default: From, display name kept.
	ReplyTo string `json:"reply_to"`
	// Authentication is the SMTP AUTH mechanism: "plain", "login",
	// "cram_md5" (or "cram-md5") or "none". Default: "plain" when a Username
	// or Password is set, otherwise "none".
	Authentication string `json:"authentication"`
	// Username and Password are the SMTP AUTH credentials.
	Username string `json:"username"`
	Password string `json:"password"`
	// Auth is the [smtp_config.auth] table of Flapjack v2's example
	// configuration, another way to give the three settings above.
	Auth *AuthConfig `json:"auth"`
	// StartTLS is when to upgrade a plain connection with STARTTLS: "auto"
	// (when the server offers it), "always" (fail when it does not) or
	// "never". true and false are read as "always" and "never", as v2's
	// example wrote it. Default: "auto".
	StartTLS StartTLS `json:"starttls"`
	// TLS speaks TLS from the start of the connection (implicit TLS, SMTPS),
	// instead of upgrading with STARTTLS. Default: true when Port is 465,
	// otherwise false.
	TLS *bool `json:"tls"`
	// CAFile is a PEM file of certificate authorities trusted besides the
	// system's, for a server with a private CA. Default: none.
	CAFile string `json:"ca_file"`
	// InsecureSkipVerify accepts any server certificate. Only for tests.
	// Default: false.
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
	// HELO is the name the gateway introduces itself with in EHLO. Default:
	// this host's FQDN.
	HELO string `json:"helo"`
	// Timeout bounds, in seconds, the set-up of a connection and the sending
	// of one message. Default: 30.
	Timeout float64 `json:"timeout"`
	// MaxConnections is how many SMTP connections may be open at once; a
	// send waits for a free one. Default: 4.
	MaxConnections int `json:"max_connections"`
	// IdleTimeout is how long, in seconds, an unused connection is kept open.
	// Default: 60.
	IdleTimeout float64 `json:"idle_timeout"`
}

// AuthConfig is the [smtp_config.auth] table.
type AuthConfig struct {
	// Type is the mechanism, as Authentication.
	Type     string `json:"type"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// StartTLS is the starttls setting.
type StartTLS string

// The starttls settings.
const (
	StartTLSAuto   StartTLS = "auto"
	StartTLSAlways StartTLS = "always"
	StartTLSNever  StartTLS = "never"
)

// UnmarshalJSON reads a setting name, or a boolean as v2's example wrote it.
func (s *StartTLS) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New(`starttls: want "auto", "always" or "never"`)
	}
	switch v := v.(type) {
	case nil:
	case bool:
		*s = StartTLSNever
		if v {
			*s = StartTLSAlways
		}
	case string:
		*s = StartTLS(strings.ToLower(strings.TrimSpace(v)))
	default:
		return errors.New(`starttls: want "auto", "always" or "never"`)
	}
	return nil
}

func init() {
	gateway.Register(Transport, func(cfg gateway.Config, env gateway.Env) (gateway.Gateway, error) {
		var c Config
		if err := cfg.Decode(&c); err != nil {
			return nil, err
		}
		return New(c, env)
	})
}

// Gateway sends alerts as email. It implements [gateway.Starter] and
// [gateway.Closer]; Send works without Start, opening connections as it needs
// them.
type Gateway struct {
	host         string
	addr         string // host:port
	from         *mail.Address
	fromHeader   string // From as configured, display name kept
	replyTo      string
	auth         *credentials // nil: no SMTP AUTH
	startTLS     StartTLS
	implicitTLS  bool
	tlsConfig    *tls.Config
	helo         string
	domain       string // of Message-IDs
	timeout      time.Duration
	idleTimeout  time.Duration
	maxConns     int32
	templates    *gateway.Templates
	clock        flapjack.Clock
	log          *slog.Logger
	dialer       net.Dialer
	quitDeadline time.Duration

	mu      sync.Mutex
	pool    *puddle.Pool[*session]
	closed  bool
	reaping bool
	stop    chan struct{} // closed by Close to stop the housekeeping
	reaper  sync.WaitGroup
}

// credentials are the SMTP AUTH settings.
type credentials struct {
	mechanism string // as the server advertises it: PLAIN, LOGIN, CRAM-MD5
	username  string
	password  string
}

// New returns an email gateway, or an error listing every problem of cfg. The
// errors never show the password.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	c := cfg.SMTP
	fqdn := hostFQDN()
	g := &Gateway{
		host: c.Host, startTLS: c.StartTLS, helo: c.HELO, domain: fqdn,
		timeout: DefaultTimeout, idleTimeout: DefaultIdleTimeout, maxConns: DefaultMaxConnections,
		templates: env.Templates, clock: env.Clock, log: env.Logger,
	}
	var errs []error
	if g.host == "" {
		g.host = DefaultHost
	}
	if g.helo == "" {
		g.helo = fqdn
	}
	if strings.ContainsAny(g.helo, " \r\n") {
		errs = append(errs, fmt.Errorf("helo: %q is not a host name", c.HELO))
	}

	port := c.Port
	implicit := c.TLS != nil && *c.TLS
	switch {
	case port < 0 || port > 65535:
		errs = append(errs, fmt.Errorf("port: %d is not a TCP port", port))
	case port == 0 && implicit:
		port = DefaultTLSPort
	case port == 0:
		port = DefaultPort
	}
	if c.TLS == nil {
		implicit = port == DefaultTLSPort
	}
	g.implicitTLS = implicit
	g.addr = net.JoinHostPort(g.host, strconv.Itoa(port))

	switch g.startTLS {
	case "":
		g.startTLS = StartTLSAuto
	case StartTLSAuto, StartTLSAlways, StartTLSNever:
	default:
		errs = append(errs, fmt.Errorf(`starttls: %q is not "auto", "always" or "never"`, string(c.StartTLS)))
	}

	from := c.From
	if from == "" {
		from = "flapjack@" + fqdn
	}
	if a, err := mail.ParseAddress(from); err != nil {
		errs = append(errs, fmt.Errorf("from: %q is not an email address", from))
	} else {
		g.from, g.fromHeader = a, a.String()
	}
	g.replyTo = g.fromHeader
	if c.ReplyTo != "" {
		if a, err := mail.ParseAddress(c.ReplyTo); err != nil {
			errs = append(errs, fmt.Errorf("reply_to: %q is not an email address", c.ReplyTo))
		} else {
			g.replyTo = a.String()
		}
	}

	auth, err := authSettings(c)
	errs = append(errs, err...)
	g.auth = auth

	g.tlsConfig = &tls.Config{ServerName: g.host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		roots, err := loadRoots(c.CAFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("ca_file: %w", err))
		}
		g.tlsConfig.RootCAs = roots
	}

	seconds := func(key string, v float64, dst *time.Duration) {
		switch {
		case v < 0:
			errs = append(errs, fmt.Errorf("%s: %g seconds is negative", key, v))
		case v > 0:
			*dst = time.Duration(v * float64(time.Second))
		}
	}
	seconds("timeout", c.Timeout, &g.timeout)
	seconds("idle_timeout", c.IdleTimeout, &g.idleTimeout)
	switch {
	case c.MaxConnections < 0:
		errs = append(errs, fmt.Errorf("max_connections: %d is negative", c.MaxConnections))
	case c.MaxConnections > 1000:
		errs = append(errs, fmt.Errorf("max_connections: %d is more than 1000", c.MaxConnections))
	case c.MaxConnections > 0:
		g.maxConns = int32(c.MaxConnections)
	}
	g.quitDeadline = min(g.timeout, 2*time.Second)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g.pool = g.newPool()
	return g, nil
}

// authSettings reads the SMTP AUTH settings, given directly or in the auth
// table.
func authSettings(c SMTPConfig) (*credentials, []error) {
	var errs []error
	mech, user, pass := c.Authentication, c.Username, c.Password
	if a := c.Auth; a != nil {
		merge := func(key string, dst *string, v string) {
			switch {
			case v == "":
			case *dst == "":
				*dst = v
			case *dst != v:
				errs = append(errs, fmt.Errorf("auth.%s: differs from the %s given beside it", key, map[string]string{
					"type": "authentication", "username": "username", "password": "password",
				}[key]))
			}
		}
		merge("type", &mech, a.Type)
		merge("username", &user, a.Username)
		merge("password", &pass, a.Password)
	}
	mech = strings.ToLower(strings.TrimSpace(mech))
	if mech == "" && (user != "" || pass != "") {
		mech = "plain"
	}
	var wire string
	switch mech {
	case "", "none":
		if user != "" || pass != "" {
			errs = append(errs, errors.New("authentication: none, but a username or password is set"))
		}
		return nil, errs
	case "plain":
		wire = "PLAIN"
	case "login":
		wire = "LOGIN"
	case "cram_md5", "cram-md5":
		wire = "CRAM-MD5"
	default:
		errs = append(errs, fmt.Errorf(`authentication: %q is not "plain", "login", "cram_md5" or "none"`, mech))
		return nil, errs
	}
	if user == "" {
		errs = append(errs, fmt.Errorf("username: required with authentication %s", mech))
	}
	if pass == "" {
		errs = append(errs, fmt.Errorf("password: required with authentication %s", mech))
	}
	return &credentials{mechanism: wire, username: user, password: pass}, errs
}

// loadRoots returns the system's roots plus those of the PEM file at path.
func loadRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return roots, nil
}

// hostFQDN is this host's fully qualified name, for the default sender, EHLO
// and Message-IDs: the host name, completed by the resolver when it has no
// dot; "localhost" when even the host name is unknown.
var hostFQDN = sync.OnceValue(func() string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return "localhost"
	}
	if strings.Contains(name, ".") {
		return name
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if cname, err := net.DefaultResolver.LookupCNAME(ctx, name); err == nil {
		if cname = strings.TrimSuffix(cname, "."); strings.HasPrefix(cname, name+".") {
			return cname
		}
	}
	return name
})

// Send sends a as one email, on a pooled connection. A template that cannot
// render a, an address that is not one, and an SMTP 5xx reply are permanent
// failures; see the package documentation.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	msg, err := g.message(a)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("email: %w", err))
	}
	p, err := g.currentPool()
	if err != nil {
		return err
	}
	for retried := false; ; retried = true {
		res, err := g.acquire(ctx, p)
		if err != nil {
			return err
		}
		s := res.Value()
		err = s.send(ctx, g, msg)
		g.putBack(res, err)
		if err == nil {
			return nil
		}
		// A pooled connection the server closed meanwhile: once more on
		// another, checked or new, if the server cannot have taken the
		// message.
		var se *sessionError
		if !retried && s.reused && errors.As(err, &se) && se.lost && !se.afterData && ctx.Err() == nil {
			g.log.Debug("pooled SMTP connection lost; sending again on a new one", "server", g.addr, "alert", a.ID, "err", err)
			continue
		}
		return g.fail(ctx, err)
	}
}

// acquire takes a connection from the pool: a new one, or an idle one that
// passes its check.
func (g *Gateway) acquire(ctx context.Context, p *puddle.Pool[*session]) (*puddle.Resource[*session], error) {
	for range int(g.maxConns) + 2 {
		asked := time.Now()
		res, err := p.Acquire(ctx)
		if err != nil {
			switch {
			case errors.Is(err, puddle.ErrClosedPool):
				return nil, fmt.Errorf("email: %w", gateway.ErrNotConnected)
			case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
				return nil, fmt.Errorf("email: %w (%w)", ctx.Err(), err)
			}
			return nil, g.fail(ctx, err)
		}
		s := res.Value()
		// Opened for this call (or for one that gave up waiting): nothing
		// to check.
		if !res.CreationTime().Before(asked) {
			s.reused = false
			return res, nil
		}
		if idle := res.IdleDuration(); idle >= g.idleTimeout {
			g.log.Debug("SMTP connection idle too long; closing it", "server", g.addr, "idle", idle)
			res.Destroy()
			continue
		}
		if err := s.check(ctx, g.timeout); err != nil {
			g.log.Debug("pooled SMTP connection failed its check; closing it", "server", g.addr, "err", err)
			res.Destroy()
			if ctx.Err() != nil {
				return nil, g.fail(ctx, err)
			}
			continue
		}
		s.reused = true
		return res, nil
	}
	return nil, fmt.Errorf("email: no healthy connection to %s", g.addr)
}

// putBack returns a connection to the pool after a send that ended in err, or
// closes it when it may not be in a state to send another message.
func (g *Gateway) putBack(res *puddle.Resource[*session], err error) {
	s := res.Value()
	var se *sessionError
	switch {
	case err == nil && !s.broken:
		res.Release()
	case s.broken, !errors.As(err, &se), se.reply == nil:
		res.Destroy()
	default:
		// The server refused the message and is still talking: start
		// afresh for the next one.
		if s.reset(g.timeout) != nil {
			res.Destroy()
			return
		}
		res.Release()
	}
}

// fail is the error Send returns for err: wrapping the context's error when
// the context ended, marked permanent when retrying cannot help.
func (g *Gateway) fail(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("email: %w (%w)", ctx.Err(), err)
	}
	var se *sessionError
	if errors.As(err, &se) && se.permanent {
		return gateway.Permanent(fmt.Errorf("email: %w", err))
	}
	return fmt.Errorf("email: %w", err)
}

// Start opens the pool, if Close closed it, opens one connection to check the
// server and the credentials, and keeps closing connections left idle for
// longer than idle_timeout until ctx ends or Close is called. A refused login
// or certificate is a permanent error.
func (g *Gateway) Start(ctx context.Context) error {
	g.mu.Lock()
	if g.closed {
		g.pool, g.closed = g.newPool(), false
	}
	p := g.pool
	if !g.reaping {
		g.reaping = true
		stop := make(chan struct{})
		g.stop = stop
		g.reaper.Go(func() { g.reap(ctx, p, stop) })
	}
	g.mu.Unlock()
	if p.Stat().TotalResources() > 0 {
		return nil
	}
	switch err := p.CreateResource(ctx); {
	case err == nil, errors.Is(err, puddle.ErrNotAvailable):
		return nil
	case errors.Is(err, puddle.ErrClosedPool):
		return fmt.Errorf("email: %w", gateway.ErrNotConnected)
	default:
		return g.fail(ctx, err)
	}
}

// reap closes the connections left idle too long, until ctx ends or stop is
// closed.
func (g *Gateway) reap(ctx context.Context, p *puddle.Pool[*session], stop <-chan struct{}) {
	defer func() {
		g.mu.Lock()
		g.reaping = false
		g.mu.Unlock()
	}()
	every := min(max(g.idleTimeout/2, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-t.C:
		}
		for _, res := range p.AcquireAllIdle() {
			if res.IdleDuration() >= g.idleTimeout {
				g.log.Debug("closing idle SMTP connection", "server", g.addr, "idle", res.IdleDuration())
				res.Destroy()
			} else {
				res.ReleaseUnused()
			}
		}
	}
}

// Close ends every pooled session with QUIT and stops the housekeeping. It
// waits for connections in use to come back, so it is called once no Send is
// running. A later Start opens the pool again; a Send before that fails with
// [gateway.ErrNotConnected].
func (g *Gateway) Close() error {
	g.mu.Lock()
	p := g.pool
	g.closed = true
	if g.reaping && g.stop != nil {
		close(g.stop)
		g.stop = nil
	}
	g.mu.Unlock()
	g.reaper.Wait()
	p.Close()
	return nil
}

func (g *Gateway) currentPool() (*puddle.Pool[*session], error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, fmt.Errorf("email: %w", gateway.ErrNotConnected)
	}
	return g.pool, nil
}

func (g *Gateway) newPool() *puddle.Pool[*session] {
	p, err := puddle.NewPool(&puddle.Config[*session]{
		Constructor: g.dial,
		Destructor:  g.hangUp,
		MaxSize:     g.maxConns,
	})
	if err != nil {
		panic("email: " + err.Error()) // MaxSize is at least 1
	}
	return p
}

var (
	_ gateway.Gateway = (*Gateway)(nil)
	_ gateway.Starter = (*Gateway)(nil)
	_ gateway.Closer  = (*Gateway)(nil)
)
