// Package prosodytest starts a real Prosody XMPP server for tests: on a free
// loopback port, with its own temporary configuration and data directory, a
// self-signed certificate made by the test for StartTLS, a virtual host and a
// multi-user chat component, and stopped when the test ends.
//
// Where prosody is not installed the test is skipped with a message saying so,
// unless the environment variable FLAPJACK_TEST_REQUIRE_SERVERS is non-empty (as
// in CI), in which case it fails: a missing server must not pass silently.
//
// The server runs in the foreground (prosody -F --config <file>), so that it is
// the test's child and stops with it. Accounts are written straight into the
// data directory in the form of Prosody's internal storage, which is quicker
// than running prosodyctl and works whatever user the test runs as.
package prosodytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/x/flapjack/internal/servertest"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireServersEnv names the environment variable that turns a missing server
// binary from a skip into a failure.
const RequireServersEnv = servertest.RequireServersEnv

// Binary is the server program looked up in PATH.
const Binary = "prosody"

// Domain is the server's virtual host, and MUCDomain its multi-user chat
// component.
const (
	Domain    = "localhost"
	MUCDomain = "conference." + Domain
)

// startTimeout bounds how long the server may take to accept connections, and
// to exit once asked to.
const startTimeout = 15 * time.Second

// Config says how to start a server.
type Config struct {
	// Users maps the local part of each account of Domain to its password.
	Users map[string]string
}

// Server is a running prosody. Its methods may be called from the test's
// goroutine only.
type Server struct {
	t      testing.TB
	path   string
	dir    string
	port   int
	caFile string
	pool   *x509.CertPool

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts a server on a free 127.0.0.1 port with a fresh temporary
// directory and the accounts of cfg, waits until it accepts connections, and
// stops it when t ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	path := Lookup(t)
	s := &Server{t: t, path: path, dir: t.TempDir()}
	t.Cleanup(s.Stop)
	if err := s.writeCertificate(); err != nil {
		t.Fatalf("prosodytest: certificate: %v", err)
	}
	for user, pass := range cfg.Users {
		s.AddUser(user, pass)
	}
	// Another process may take the free port between our probe and the
	// server's bind; try a few ports before giving up.
	var err error
	for range 3 {
		if s.port, err = freePort(); err != nil {
			t.Fatalf("prosodytest: find a free port: %v", err)
		}
		if err = s.writeConfig(); err != nil {
			t.Fatalf("prosodytest: write the configuration: %v", err)
		}
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("prosodytest: %v", err)
	return nil
}

// Lookup returns the path of prosody, or skips (or fails, see the package doc)
// the test when it is not installed.
func Lookup(t testing.TB) string {
	t.Helper()
	return servertest.LookPath(t, "install the prosody package", Binary)
}

// Addr is the client-to-server listener's "host:port"; it stays the same across
// Stop and Restart.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the client-to-server listener's TCP port.
func (s *Server) Port() int { return s.port }

// CAFile is the path of the PEM file holding the server's self-signed
// certificate, for clients that verify it.
func (s *Server) CAFile() string { return s.caFile }

// CertPool holds the server's self-signed certificate.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// TLSConfig is a client TLS configuration that trusts the server.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{ServerName: Domain, RootCAs: s.pool, MinVersion: tls.VersionTLS12}
}

// Dir is the server's directory: configuration, data, certificate and log.
func (s *Server) Dir() string { return s.dir }

// JID is the bare JID of the account user of Domain.
func (s *Server) JID(user string) string { return user + "@" + Domain }

// AddUser creates (or replaces) the account user@Domain with password. It may
// be called while the server runs: Prosody reads accounts from its storage when
// a client authenticates.
func (s *Server) AddUser(user, password string) {
	s.t.Helper()
	if user == "" || strings.ContainsAny(user, `@/"\`+"\n") {
		s.t.Fatalf("prosodytest: invalid user name %q", user)
	}
	dir := filepath.Join(s.dir, "data", storeName(Domain), "accounts")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.t.Fatalf("prosodytest: %v", err)
	}
	text := "return {\n\t[\"password\"] = " + luaString(password) + ";\n};\n"
	if err := os.WriteFile(filepath.Join(dir, storeName(user)+".dat"), []byte(text), 0o600); err != nil {
		s.t.Fatalf("prosodytest: %v", err)
	}
}

// Stop asks the server to stop (SIGTERM) and waits for it to exit, killing it
// when it takes too long. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	if servertest.Terminate(s.cmd, s.done, startTimeout, false) {
		s.t.Logf("prosodytest: %s did not exit within %s of SIGTERM; killed it", Binary, startTimeout)
	}
	s.cmd = nil
}

// Restart stops the server, if it runs, and starts it again on the same port,
// with the same directory and accounts.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("prosodytest: restart: %v", err)
	}
}

// Log returns what the server logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "prosody.log"))
	return string(b)
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("server already running")
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.path, "-F", "--config", filepath.Join(s.dir, "prosody.cfg.lua"))
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", s.path, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("%s on port %d exited at start-up: %s", Binary, s.port, s.tail())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			s.cmd = nil
			return fmt.Errorf("%s on port %d did not accept connections within %s: %s", Binary, s.port, startTimeout, s.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tail is the end of the server's console output and log, for error messages.
func (s *Server) tail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "console.log"))
	text := string(b) + s.Log()
	if len(text) > 2000 {
		text = "…" + text[len(text)-2000:]
	}
	return strings.TrimSpace(text)
}

func (s *Server) writeConfig() error {
	q := func(name string) string { return luaString(filepath.Join(s.dir, name)) }
	var b strings.Builder
	if os.Geteuid() == 0 {
		// Prosody refuses to run as root unless told to; the test's temporary
		// directory belongs to root, so dropping privileges would not work.
		b.WriteString("run_as_root = true\n")
	}
	fmt.Fprintf(&b, `daemonize = false
pidfile = %s
data_path = %s
log = { { levels = { min = "debug" }, to = "file", filename = %s } }
use_ipv6 = false
interfaces = { "127.0.0.1" }
c2s_ports = { %d }
network_settings = { nagle = false }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "offline" }
modules_disabled = { "s2s" }
c2s_require_encryption = true
allow_registration = false
authentication = "internal_plain"
storage = "internal"
ssl = { certificate = %s, key = %s }

VirtualHost %s
	ssl = { certificate = %s, key = %s }

Component %s "muc"
	muc_room_locking = false
	ssl = { certificate = %s, key = %s }
`, q("prosody.pid"), q("data"), q("prosody.log"), s.port,
		q("cert.pem"), q("key.pem"),
		luaString(Domain), q("cert.pem"), q("key.pem"),
		luaString(MUCDomain), q("cert.pem"), q("key.pem"))
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, "prosody.cfg.lua"), []byte(b.String()), 0o600)
}

// writeCertificate makes a self-signed certificate for Domain and MUCDomain.
func (s *Server) writeCertificate() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: Domain},
		DNSNames:              []string{Domain, MUCDomain},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s.caFile = filepath.Join(s.dir, "cert.pem")
	if err := os.WriteFile(s.caFile, certPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	s.pool = x509.NewCertPool()
	s.pool.AppendCertsFromPEM(certPEM)
	return nil
}

// storeName encodes a name as Prosody's internal storage names its files and
// directories: every byte but ASCII letters and digits as %xx.
func storeName(name string) string {
	var b strings.Builder
	for i := range len(name) {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
