package email_test

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/x/flapjack/gateway/gatewaytest"
)

// fakeSMTP is an in-process SMTP server whose failures a test chooses, for the
// conformance suite and for failures a real server cannot be made to play. It
// requires SMTP AUTH (PLAIN, LOGIN or CRAM-MD5) with its credentials.
//
// Like a careless server, it echoes what it was sent in its refusals: the AUTH
// command (credentials included) in a refused login, and the session's
// username and password in a refused recipient, so that a gateway showing a
// server's reply as it is would be caught leaking them.
type fakeSMTP struct {
	t        testing.TB
	ln       net.Listener
	Addr     string
	Host     string
	Port     int
	User     string
	Password string
	// TLS, when set, is offered with STARTTLS.
	TLS *tls.Config

	mu        sync.Mutex
	failure   string
	delivered []string
	sessions  int
	conns     map[net.Conn]bool
	release   chan struct{} // closed to free stalled sessions
	wg        sync.WaitGroup
}

// The failures a fakeSMTP can play, with the classification a gateway must
// give each.
var fakeFailures = []gatewaytest.Failure{
	{Name: "rcpt 451", Retryable: true}, // first: the delivery sub-test plays it
	{Name: "rcpt 550", Retryable: false},
	{Name: "mail 421", Retryable: true},
	{Name: "mail 530", Retryable: false},
	{Name: "data 451", Retryable: true},
	{Name: "data 554", Retryable: false},
	{Name: "auth 535", Retryable: false},
	{Name: "auth 454", Retryable: true},
	{Name: "greeting 421", Retryable: true},
	{Name: "greeting 554", Retryable: false},
	{Name: "disconnect", Retryable: true},
}

func startFakeSMTP(t testing.TB, user, password string) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{t: t, ln: ln, Addr: ln.Addr().String(), Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		User: user, Password: password, conns: map[net.Conn]bool{}, release: make(chan struct{})}
	f.wg.Go(f.accept)
	t.Cleanup(f.close)
	return f
}

func (f *fakeSMTP) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	for c := range f.conns {
		_ = c.Close()
	}
	select {
	case <-f.release:
	default:
		close(f.release)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// Fail makes every later command fail as the named failure does; besides
// those of fakeFailures, "stall" makes the end of DATA wait until the server
// closes, and "disconnect once" hangs up at the next MAIL FROM only. ""
// makes them succeed.
func (f *fakeSMTP) Fail(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failure = name
}

// Delivered returns the messages accepted, oldest first.
func (f *fakeSMTP) Delivered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.delivered...)
}

// Sessions is the number of connections accepted so far.
func (f *fakeSMTP) Sessions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions
}

func (f *fakeSMTP) failing(stage string) (code string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, c, found := strings.Cut(f.failure, " ")
	if f.failure == stage {
		return "", true
	}
	return c, found && s == stage
}

func (f *fakeSMTP) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.sessions++
		f.conns[c] = true
		f.mu.Unlock()
		f.wg.Go(func() {
			defer func() {
				_ = c.Close()
				f.mu.Lock()
				delete(f.conns, c)
				f.mu.Unlock()
			}()
			f.serve(c)
		})
	}
}

// serve speaks SMTP on one connection.
func (f *fakeSMTP) serve(c net.Conn) {
	tp := textproto.NewConn(c)
	reply := func(format string, args ...any) bool { return tp.PrintfLine(format, args...) == nil }
	if code, ok := f.failing("greeting"); ok {
		reply("%s %s.0.0 not now", code, code[:1])
		return
	}
	reply("220 fake.test ESMTP")
	authed, secure := false, false
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"fake.test", "8BITMIME"}
			if f.TLS != nil && !secure {
				lines = append(lines, "STARTTLS")
			}
			lines = append(lines, "AUTH PLAIN LOGIN CRAM-MD5")
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				reply("250%s%s", sep, l)
			}
		case "HELO", "NOOP", "RSET":
			reply("250 2.0.0 ok")
		case "STARTTLS":
			if f.TLS == nil || secure {
				reply("502 5.5.1 no")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(c, f.TLS)
			if tc.Handshake() != nil {
				return
			}
			tp, secure = textproto.NewConn(tc), true
		case "AUTH":
			ok, goOn := f.auth(tp, line, arg)
			if !goOn {
				return
			}
			authed = authed || ok
		case "MAIL":
			if _, ok := f.failing("disconnect once"); ok {
				f.Fail("")
				return
			}
			if _, ok := f.failing("disconnect"); ok {
				return
			}
			switch code, ok := f.failing("mail"); {
			case ok:
				reply("%s %s.7.0 %s refused", code, code[:1], line)
				if code == "421" {
					return
				}
			case !authed:
				reply("530 5.7.0 authentication required")
			default:
				reply("250 2.1.0 ok")
			}
		case "RCPT":
			if code, ok := f.failing("rcpt"); ok {
				reply("%s %s.1.1 %s refused (session of %s with password %s)", code, code[:1], line, f.User, f.Password)
				continue
			}
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 go ahead")
			body, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			if _, ok := f.failing("stall"); ok {
				<-f.release
				return
			}
			if code, ok := f.failing("data"); ok {
				reply("%s %s.6.0 message refused", code, code[:1])
				continue
			}
			f.mu.Lock()
			f.delivered = append(f.delivered, string(body))
			f.mu.Unlock()
			reply("250 2.0.0 queued")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}

// auth runs one AUTH exchange: ok when the credentials were right, goOn false
// when the connection failed.
func (f *fakeSMTP) auth(tp *textproto.Conn, line, arg string) (ok, goOn bool) {
	mech, initial, _ := strings.Cut(arg, " ")
	read := func(challenge string) (string, bool) {
		if tp.PrintfLine("334 %s", base64.StdEncoding.EncodeToString([]byte(challenge))) != nil {
			return "", false
		}
		l, err := tp.ReadLine()
		if err != nil {
			return "", false
		}
		line += " " + l
		b, err := base64.StdEncoding.DecodeString(l)
		return string(b), err == nil
	}
	var user, pass string
	switch strings.ToUpper(mech) {
	case "PLAIN":
		resp := initial
		if resp == "" {
			var ok bool
			if resp, ok = read(""); !ok {
				return false, false
			}
		} else {
			b, _ := base64.StdEncoding.DecodeString(resp)
			resp = string(b)
		}
		parts := strings.Split(resp, "\x00")
		if len(parts) == 3 {
			user, pass = parts[1], parts[2]
		}
	case "LOGIN":
		var ok bool
		if user, ok = read("Username:"); !ok {
			return false, false
		}
		if pass, ok = read("Password:"); !ok {
			return false, false
		}
	case "CRAM-MD5":
		challenge := "<1896.697170952@fake.test>"
		resp, ok := read(challenge)
		if !ok {
			return false, false
		}
		u, digest, _ := strings.Cut(resp, " ")
		mac := hmac.New(md5.New, []byte(f.Password))
		mac.Write([]byte(challenge))
		if u == f.User && hmac.Equal([]byte(digest), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			user, pass = f.User, f.Password
		}
	default:
		return false, tp.PrintfLine("504 5.5.4 unknown mechanism") == nil
	}
	if code, failing := f.failing("auth"); failing {
		return false, tp.PrintfLine("%s %s.7.8 rejected: %s", code, code[:1], line) == nil
	}
	if user != f.User || pass != f.Password {
		return false, tp.PrintfLine("535 5.7.8 bad credentials: %s", line) == nil
	}
	return true, tp.PrintfLine("235 2.7.0 welcome") == nil
}
