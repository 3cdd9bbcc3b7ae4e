package email_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"github.com/x/flapjack/internal/servertest"
	"io"
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

// wait bounds every wait of these tests.
const wait = 10 * time.Second

// smtpd is a real SMTP server, aiosmtpd's, run by testdata/smtpd.py: it
// writes each message it accepts to a file of its directory.
type smtpd struct {
	t     testing.TB
	Addr  string // 127.0.0.1:port
	Host  string
	Port  int
	dir   string
	stdin io.WriteCloser
	done  chan struct{}
	log   *syncBuffer // the server's standard error
}

// smtpdOptions are the command-line switches of testdata/smtpd.py.
type smtpdOptions struct {
	Cert            *testCert // for the TLS switches
	StartTLS        bool      // offer STARTTLS
	RequireStartTLS bool
	ImplicitTLS     bool
	Auth            string // "user:password": AUTH is required
	Refuse          int    // RCPT commands refused; -1: all
	RefuseCode      string // their reply code; default 451
}

// received is one message the server accepted.
type received struct {
	MailFrom string   `json:"mail_from"`
	RcptTos  []string `json:"rcpt_tos"`
	Data     []byte   `json:"data"`
	TLS      bool     `json:"tls"`
	Login    *string  `json:"login"`
	HELO     string   `json:"helo"`
}

var findPython = sync.OnceValue(func() string {
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/python3")
	for _, p := range candidates {
		if exec.Command(p, "-c", "import aiosmtpd").Run() == nil {
			return p
		}
	}
	return ""
})

// startSMTPD starts a server on a free loopback port, stopped when t ends. It
// skips t where Python's aiosmtpd is missing, or fails it when
// FLAPJACK_TEST_REQUIRE_SERVERS is set.
func startSMTPD(t testing.TB, o smtpdOptions) *smtpd {
	t.Helper()
	python := findPython()
	if python == "" {
		servertest.Missing(t, "python3 with aiosmtpd", "install Debian's python3-aiosmtpd")
	}
	dir := t.TempDir()
	args := []string{filepath.Join("testdata", "smtpd.py"), "--dir", dir}
	if o.Cert != nil {
		args = append(args, "--cert", o.Cert.CertFile, "--key", o.Cert.KeyFile)
	}
	if o.StartTLS {
		args = append(args, "--starttls")
	}
	if o.RequireStartTLS {
		args = append(args, "--require-starttls")
	}
	if o.ImplicitTLS {
		args = append(args, "--implicit-tls")
	}
	if o.Auth != "" {
		args = append(args, "--auth", o.Auth)
	}
	if o.Refuse != 0 {
		args = append(args, "--refuse", strconv.Itoa(o.Refuse))
	}
	if o.RefuseCode != "" {
		args = append(args, "--refuse-code", o.RefuseCode)
	}
	cmd := exec.Command(python, args...)
	s := &smtpd{t: t, dir: dir, done: make(chan struct{}), log: &syncBuffer{}}
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	cmd.Stdout = &firstLine{ready: ready}
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", python, err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() { s.stop(cmd) })

	select {
	case line := <-ready:
		port, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "READY ")))
		if err != nil {
			t.Fatalf("smtpd did not start: %q\n%s", line, s.log)
		}
		s.Host, s.Port = "127.0.0.1", port
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(port))
	case <-s.done:
		t.Fatalf("smtpd exited at start-up:\n%s", s.log)
	case <-time.After(wait):
		t.Fatalf("smtpd did not start within %s:\n%s", wait, s.log)
	}
	return s
}

// stop closes the server's standard input, which ends it, and kills it if it
// does not end promptly.
func (s *smtpd) stop(cmd *exec.Cmd) {
	_ = s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-s.done
	}
}

// Messages returns the messages accepted so far, oldest first.
func (s *smtpd) Messages() []received {
	s.t.Helper()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []received
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			s.t.Fatal(err)
		}
		var r received
		if err := json.Unmarshal(b, &r); err != nil {
			s.t.Fatalf("%s: %v", e.Name(), err)
		}
		out = append(out, r)
	}
	return out
}

// WaitMessages waits until the server has accepted n messages and returns
// them.
func (s *smtpd) WaitMessages(n int) []received {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		got := s.Messages()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the server accepted %d messages within %s, want %d", len(got), wait, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// firstLine hands the first line written to it to ready, and drops the rest.
type firstLine struct {
	buf   []byte
	ready chan<- string
}

func (w *firstLine) Write(p []byte) (int, error) {
	if w.ready != nil {
		w.buf = append(w.buf, p...)
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
			w.ready <- string(w.buf[:i])
			w.ready = nil
		}
	}
	return len(p), nil
}

// syncBuffer is a buffer written by one goroutine and read by another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testCert is a self-signed certificate for 127.0.0.1 and localhost, which is
// its own certificate authority.
type testCert struct {
	CertFile, KeyFile string
}

func newTestCert(t testing.TB) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "flapjack test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &testCert{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(c.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// proxy forwards TCP connections to a server and counts them, as SMTP
// sessions; it can also drop them all, as a server closing idle connections
// does.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string
	Addr   string
	Host   string
	Port   int

	mu       sync.Mutex
	sessions int
	open     map[net.Conn]net.Conn // client side → server side
	wg       sync.WaitGroup
}

func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, Addr: ln.Addr().String(), Host: "127.0.0.1",
		Port: ln.Addr().(*net.TCPAddr).Port, open: map[net.Conn]net.Conn{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.Drop()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, wait)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.sessions++
		p.open[c] = s
		p.mu.Unlock()
		var pair sync.WaitGroup
		pair.Go(func() { _, _ = io.Copy(s, c); _ = s.Close() })
		pair.Go(func() { _, _ = io.Copy(c, s); _ = c.Close() })
		p.wg.Go(func() {
			pair.Wait()
			p.mu.Lock()
			delete(p.open, c)
			p.mu.Unlock()
		})
	}
}

// Sessions is the number of connections made through the proxy so far.
func (p *proxy) Sessions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions
}

// Open is the number of connections open now.
func (p *proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.open)
}

// Drop closes every open connection.
func (p *proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, s := range p.open {
		_ = c.Close()
		_ = s.Close()
	}
}

// poll waits until cond holds, failing t after wait.
func poll(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", wait, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
