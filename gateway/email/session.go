package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// session is one SMTP connection of the pool. Only the goroutine that took it
// from the pool uses it.
type session struct {
	conn   net.Conn // the TCP connection under any TLS, for deadlines
	client *smtp.Client
	tls    bool
	// reused is set when the session was taken from the pool's idle ones
	// for the current message, rather than opened for it.
	reused bool
	// broken is set when the connection can no longer be trusted: an I/O
	// error, or a deadline forced by a cancelled context.
	broken bool
}

// sessionError is a failure of one SMTP exchange.
type sessionError struct {
	op        string      // what was being done: "connect", "RCPT TO"…
	reply     *ReplyError // the server's refusal, if it answered
	err       error       // otherwise, the cause
	permanent bool        // retrying cannot help
	lost      bool        // the connection failed, not the server's judgement
	afterData bool        // the server may have taken the message
	note      string      // shown instead of the cause, whose text may not be
}

func (e *sessionError) Error() string {
	switch {
	case e.reply != nil:
		return e.reply.Error()
	case e.note != "":
		return e.op + ": " + e.note
	}
	return e.op + ": " + e.err.Error()
}

func (e *sessionError) Unwrap() error {
	if e.reply != nil {
		return e.reply
	}
	return e.err
}

// ReplyError is an SMTP server's refusal of a command: the errors of Send wrap
// it, so that a caller can tell why a message was refused.
type ReplyError struct {
	// Command is the command refused, such as "RCPT TO" or "AUTH PLAIN";
	// "greeting" for a server refusing the connection.
	Command string
	// Code is the reply code, such as 451 or 550.
	Code int
	// Enhanced is the enhanced status code (RFC 3463) the reply began with,
	// such as "5.1.1"; empty when there was none.
	Enhanced string
	// Text is the rest of the reply. It is empty for replies to AUTH, which
	// may echo credentials, and never holds the password.
	Text string
}

func (e *ReplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: server replied %d", e.Command, e.Code)
	if e.Enhanced != "" {
		b.WriteString(" " + e.Enhanced)
	}
	if e.Text != "" {
		b.WriteString(" " + e.Text)
	}
	return b.String()
}

// Temporary reports whether the reply was a 4xx one, which may not be given
// again.
func (e *ReplyError) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

var enhancedCode = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}\b`)

// maxReplyText bounds the reply text kept in an error.
const maxReplyText = 200

// replyError reads the server's reply out of a textproto error, leaving out
// what must not be shown.
func (g *Gateway) replyError(op string, te *textproto.Error) *ReplyError {
	r := &ReplyError{Command: op, Code: te.Code}
	text := strings.Join(strings.Fields(te.Msg), " ")
	if m := enhancedCode.FindString(text); m != "" {
		r.Enhanced = m
		text = strings.TrimSpace(text[len(m):])
	}
	if strings.HasPrefix(op, "AUTH") {
		return r
	}
	if g.auth != nil && len(g.auth.password) >= 3 {
		text = replaceFold(text, g.auth.password, "[password]")
	}
	if len(text) > maxReplyText {
		text = strings.ToValidUTF8(text[:maxReplyText], "") + "…"
	}
	r.Text = text
	return r
}

// replaceFold replaces every occurrence of old in s, in any letter case.
func replaceFold(s, old, repl string) string {
	lower, lold := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) || len(lold) != len(old) || !strings.Contains(lower, lold) {
		if strings.Contains(s, old) {
			return strings.ReplaceAll(s, old, repl)
		}
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lold)
		if i < 0 {
			break
		}
		b.WriteString(s[:i] + repl)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
	b.WriteString(s)
	return b.String()
}

// classify turns the error of one SMTP exchange into a sessionError.
func (g *Gateway) classify(s *session, op string, err error) *sessionError {
	se := &sessionError{op: op, err: err}
	var te *textproto.Error
	switch {
	case errors.As(err, &te):
		se.reply = g.replyError(op, te)
		se.permanent = te.Code >= 500 && te.Code < 600
		// 421: the server is closing the connection.
		se.lost = te.Code == 421
	case certificateError(err):
		se.permanent = true
		se.lost = true
	case errors.Is(err, smtp.ErrUnencrypted):
		se.permanent = true
		se.note = "the connection is not encrypted; the password is only sent over TLS (set starttls or tls)"
	case strings.HasPrefix(op, "AUTH"):
		// Anything but a reply or a network error: a challenge the
		// mechanism did not expect, whose text may echo credentials.
		if connectionError(err) {
			se.lost = true
		} else {
			se.permanent = true
			se.note = "unexpected exchange with the server"
		}
	default:
		se.lost = true
	}
	if se.lost || se.reply == nil {
		s.broken = true
	}
	return se
}

// connectionError reports whether err is a failure of the connection itself.
func connectionError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

// certificateError reports whether err comes from a TLS handshake that cannot
// succeed by trying again: an unverifiable certificate, a server that does not
// speak TLS, a handshake the server refused.
func certificateError(err error) bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
		rh tls.RecordHeaderError
		ae tls.AlertError
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &rh) || errors.As(err, &ae)
}

// refusal is a permanent failure found by the gateway itself, such as a
// server lacking a required extension.
func refusal(op, format string, args ...any) *sessionError {
	return &sessionError{op: op, err: fmt.Errorf(format, args...), permanent: true}
}

// longAgo is a deadline in the past, which makes every blocked I/O return.
var longAgo = time.Unix(1, 0)

// guard sets the connection's deadline to timeout from now and, until the
// returned stop is called, makes ctx's end interrupt any I/O. When ctx ended
// first, stop marks the session broken.
func (s *session) guard(ctx context.Context, timeout time.Duration) (stop func()) {
	_ = s.conn.SetDeadline(time.Now().Add(timeout))
	cancel := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(longAgo) })
	return func() {
		if !cancel() {
			// The deadline was forced, or is being: the connection may
			// fail at any moment now.
			s.broken = true
		}
	}
}

// dial opens, greets, secures and logs in a new connection: the pool's
// constructor.
func (g *Gateway) dial(ctx context.Context) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	conn, err := g.dialer.DialContext(ctx, "tcp", g.addr)
	if err != nil {
		return nil, &sessionError{op: "connect to " + g.addr, err: err, lost: true}
	}
	s := &session{conn: conn}
	stop := s.guard(ctx, g.timeout)
	err = g.greet(ctx, s)
	stop()
	if err == nil && s.broken {
		err = &sessionError{op: "connect to " + g.addr, err: ctx.Err(), lost: true}
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	g.log.Debug("SMTP connection opened", "server", g.addr, "tls", s.tls, "auth", g.auth != nil)
	return s, nil
}

// greet runs the opening of a session, up to a successful login.
func (g *Gateway) greet(ctx context.Context, s *session) error {
	var conn net.Conn = s.conn
	if g.implicitTLS {
		tc := tls.Client(conn, g.tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return g.classify(s, "TLS handshake", err)
		}
		conn, s.tls = tc, true
	}
	c, err := smtp.NewClient(conn, g.host)
	if err != nil {
		return g.classify(s, "greeting", err)
	}
	s.client = c
	if err := c.Hello(g.helo); err != nil {
		return g.classify(s, "EHLO", err)
	}
	if !g.implicitTLS && g.startTLS != StartTLSNever {
		offered, _ := c.Extension("STARTTLS")
		switch {
		case offered:
			if err := c.StartTLS(g.tlsConfig); err != nil {
				return g.classify(s, "STARTTLS", err)
			}
			s.tls = true
		case g.startTLS == StartTLSAlways:
			return refusal("STARTTLS", "the server does not offer STARTTLS, and starttls is %q", StartTLSAlways)
		}
	}
	if a := g.auth; a != nil {
		op := "AUTH " + a.mechanism
		offered, mechs := c.Extension("AUTH")
		if !offered {
			return refusal(op, "the server offers no SMTP AUTH")
		}
		if !slices.Contains(strings.Fields(strings.ToUpper(mechs)), a.mechanism) {
			return refusal(op, "the server does not offer %s (it offers %s)", a.mechanism, mechs)
		}
		if err := c.Auth(a.auth(g.host)); err != nil {
			return g.classify(s, op, err)
		}
	}
	return nil
}

// auth is the go-mail mechanism for a's settings; a new one per login, since
// mechanisms keep state.
func (a *credentials) auth(host string) smtp.Auth {
	switch a.mechanism {
	case "LOGIN":
		return smtp.LoginAuth(a.username, a.password, host, false)
	case "CRAM-MD5":
		return smtp.CRAMMD5Auth(a.username, a.password)
	}
	return smtp.PlainAuth("", a.username, a.password, host, false)
}

// check makes sure a pooled connection still works, and that no transaction is
// left open on it: an RSET.
func (s *session) check(ctx context.Context, timeout time.Duration) error {
	stop := s.guard(ctx, timeout)
	err := s.client.Reset()
	stop()
	if err == nil && s.broken {
		err = ctx.Err()
	}
	if err != nil {
		s.broken = true
	}
	return err
}

// reset ends a refused transaction, so that the connection can serve the next
// message.
func (s *session) reset(timeout time.Duration) error {
	return s.check(context.Background(), timeout)
}

// send runs one mail transaction for m, within g's timeout.
func (s *session) send(ctx context.Context, g *Gateway, m *message) error {
	stop := s.guard(ctx, g.timeout)
	defer stop()
	if err := s.client.Mail(m.envelopeFrom); err != nil {
		return g.classify(s, "MAIL FROM", err)
	}
	for _, rcpt := range m.recipients {
		if err := s.client.Rcpt(rcpt); err != nil {
			return g.classify(s, "RCPT TO", err)
		}
	}
	w, err := s.client.Data()
	if err != nil {
		return g.classify(s, "DATA", err)
	}
	if _, err := m.msg.WriteTo(w); err != nil {
		// Not ending the DATA: the server must not take half a message.
		// The session is dropped instead, which aborts the transaction.
		se := g.classify(s, "message", err)
		se.afterData = true
		return se
	}
	if err := w.Close(); err != nil {
		se := g.classify(s, "end of DATA", err)
		se.afterData = true
		return se
	}
	return nil
}

// hangUp ends a session, politely when it still works: the pool's destructor.
func (g *Gateway) hangUp(s *session) {
	if !s.broken && s.client != nil {
		_ = s.conn.SetDeadline(time.Now().Add(g.quitDeadline))
		_ = s.client.Quit()
	}
	_ = s.conn.Close()
	g.log.Debug("SMTP connection closed", "server", g.addr)
}
