package email_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/email"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/store/memory"
)

// newGateway builds a gateway closed when t ends.
func newGateway(t testing.TB, c email.SMTPConfig, env gateway.Env) *email.Gateway {
	t.Helper()
	g, err := email.New(email.Config{SMTP: c}, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

// part is one body of a message, decoded.
type part struct {
	ContentType string
	Charset     string
	Encoding    string
	Body        string // line ends as \n
}

// parsed is a message as a mail client reads it.
type parsed struct {
	Header  mail.Header
	Subject string
	Type    string // the message's media type
	Parts   []part
}

func parseMessage(t testing.TB, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, data)
	}
	p := parsed{Header: m.Header}
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject %q: %v", m.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	p.Type = mt
	if !strings.HasPrefix(mt, "multipart/") {
		p.Parts = []part{readPart(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)}
		return p
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		mp, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		p.Parts = append(p.Parts, readPart(t, mp.Header.Get("Content-Type"), mp.Header.Get("Content-Transfer-Encoding"), mp))
	}
	return p
}

func readPart(t testing.TB, contentType, encoding string, body io.Reader) part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("part Content-Type %q: %v", contentType, err)
	}
	p := part{ContentType: mt, Charset: params["charset"], Encoding: encoding}
	if strings.EqualFold(encoding, "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("part %s: %v", mt, err)
	}
	p.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	return p
}

// The texts of each kind of alert, as gatewaytest.NewAlert builds them.
var wantTexts = map[string]struct{ subject, text, html string }{
	"problem": {"Problem: 'app-01:HTTP' is Critical", `Hi Ada Lovelace

Monitoring has detected the following:

Check:            app-01:HTTP
State:            Critical
Summary:          HTTP 500
Details:          upstream refused the connection
Time:             2016-02-01 12:00:00 +0000
Duration:         2 mins 5 secs
Previous State:   OK

Cheers,
Flapjack
`, "<tr><td><strong>State</strong></td><td>Critical</td></tr>"},
	"recovery": {"Recovery: 'app-01:HTTP' is OK", `Hi Ada Lovelace

Monitoring has detected the following:

Check:            app-01:HTTP
State:            OK
Summary:          HTTP 200
Details:          upstream refused the connection
Time:             2016-02-01 12:00:00 +0000
Duration:         2 mins 5 secs
Previous State:   Critical
Previous Summary: HTTP 500

Cheers,
Flapjack
`, "<tr><td><strong>Previous Summary</strong></td><td>HTTP 500</td></tr>"},
	"acknowledgement": {"Acknowledgement: 'app-01:HTTP'", `Hi Ada Lovelace

Monitoring has detected the following:

Check:            app-01:HTTP
State:            Acknowledgement
Summary:          on it
Details:          upstream refused the connection
Time:             2016-02-01 12:00:00 +0000
Duration:         2 mins 5 secs

Cheers,
Flapjack
`, "<tr><td><strong>State</strong></td><td>Acknowledgement</td></tr>"},
	"test": {"Test: 'app-01:HTTP'", `Hi Ada Lovelace

Monitoring has detected the following:

Check:            app-01:HTTP
State:            Test Notifications
Summary:          testing
Details:          upstream refused the connection
Time:             2016-02-01 12:00:00 +0000
Duration:         2 mins 5 secs

Cheers,
Flapjack
`, "<tr><td><strong>State</strong></td><td>Test Notifications</td></tr>"},
	"rollup problem": {"Problem summary: Critical: 2, Warning: 1", `Hi Ada Lovelace

You have 3 alerting checks as follows:

  * app-01:HTTP is Critical
  * app-02:HTTP is Critical
  * db-01:disk is Warning

Your email alerts are being summarised as your email summary threshold is set to 3. You'll receive summary emails like this one until your number of alerting checks falls below 3.

Cheers,
Flapjack
`, "<tr><td>db-01:disk</td><td>Warning</td></tr>"},
	"rollup recovery": {"Problem summaries finishing: Warning: 1", `Hi Ada Lovelace

You have 1 alerting check as follows:

  * db-01:disk is Warning

As your email summary threshold is 3, we're taking your email alerts out of summary mode now. You'll now be emailed individually for each alerting check.

Cheers,
Flapjack
`, "<tr><td>db-01:disk</td><td>Warning</td></tr>"},
}

// TestMessages checks each kind of alert as a real SMTP server received it:
// envelope, headers, MIME structure and both bodies.
func TestMessages(t *testing.T) {
	srv := startSMTPD(t, smtpdOptions{})
	g := newGateway(t, email.SMTPConfig{
		Host: srv.Host, Port: srv.Port, From: "Flapjack Alerts <flapjack@example.com>", HELO: "flapjack.example.net",
	}, gateway.Env{})
	kinds := gatewaytest.Kinds()
	for _, kind := range kinds {
		if err := g.Send(context.Background(), gatewaytest.NewAlert(kind, email.Transport, "ada@example.com")); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	got := srv.WaitMessages(len(kinds))
	for i, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			want := wantTexts[kind]
			a := gatewaytest.NewAlert(kind, email.Transport, "ada@example.com")
			r := got[i]
			if r.MailFrom != "flapjack@example.com" || !slices.Equal(r.RcptTos, []string{"ada@example.com"}) {
				t.Errorf("envelope from %q to %q, want flapjack@example.com to ada@example.com", r.MailFrom, r.RcptTos)
			}
			if r.HELO != "flapjack.example.net" {
				t.Errorf("EHLO %q, want the configured helo", r.HELO)
			}
			m := parseMessage(t, r.Data)
			h := m.Header
			for key, wantValue := range map[string]string{
				"To":           "<ada@example.com>",
				"From":         `"Flapjack Alerts" <flapjack@example.com>`,
				"Reply-To":     `"Flapjack Alerts" <flapjack@example.com>`,
				"Mime-Version": "1.0",
			} {
				if v := h.Get(key); v != wantValue {
					t.Errorf("%s: %q, want %q", key, v, wantValue)
				}
			}
			if m.Subject != want.subject {
				t.Errorf("Subject %q, want %q", m.Subject, want.subject)
			}
			if id, re := h.Get("Message-Id"), regexp.MustCompile(`^<`+regexp.QuoteMeta(a.ID)+`@[^<>@\s]+>$`); !re.MatchString(id) {
				t.Errorf("Message-ID %q, want <%s@fqdn>", id, a.ID)
			}
			if d, err := h.Date(); err != nil || !d.Equal(a.Time) {
				t.Errorf("Date %q (%v), want the alert's time %s", h.Get("Date"), err, a.Time)
			}
			if m.Type != "multipart/alternative" || len(m.Parts) != 2 {
				t.Fatalf("a %s message with %d parts, want multipart/alternative with 2", m.Type, len(m.Parts))
			}
			text, html := m.Parts[0], m.Parts[1]
			if text.ContentType != "text/plain" || text.Charset != "UTF-8" || html.ContentType != "text/html" || html.Charset != "UTF-8" {
				t.Errorf("parts %s;charset=%s and %s;charset=%s, want text/plain then text/html, UTF-8",
					text.ContentType, text.Charset, html.ContentType, html.Charset)
			}
			if text.Body != want.text {
				t.Errorf("text part\n got %q\nwant %q", text.Body, want.text)
			}
			if !strings.Contains(html.Body, want.html) || !strings.Contains(html.Body, "<p>Hi Ada Lovelace</p>") {
				t.Errorf("html part lacks %q:\n%s", want.html, html.Body)
			}
			if a.Rollup != flapjack.NoRollup {
				note := strings.Split(want.text, "\n\n")[3]
				if !strings.Contains(html.Body, note) {
					t.Errorf("html part lacks the summary note %q:\n%s", note, html.Body)
				}
			}
		})
	}
}

// TestMessageDetails checks Reply-To, UTF-8 text, several recipients and a
// redelivered alert's Message-ID.
func TestMessageDetails(t *testing.T) {
	srv := startSMTPD(t, smtpdOptions{})
	g := newGateway(t, email.SMTPConfig{
		Host: srv.Host, Port: srv.Port, From: "flapjack@example.com", ReplyTo: "On call <oncall@example.com>",
	}, gateway.Env{})
	a := gatewaytest.NewAlert("problem", email.Transport, "Ada <ada@example.com>, bob@example.com")
	a.CheckName, a.Summary = "Zürich-01:Temperatur", "Überhitzung ✓ 95 °C"
	for range 2 {
		if err := g.Send(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.WaitMessages(2)
	if !slices.Equal(got[0].RcptTos, []string{"ada@example.com", "bob@example.com"}) {
		t.Errorf("recipients %q, want both addresses", got[0].RcptTos)
	}
	m := parseMessage(t, got[0].Data)
	if to := m.Header.Get("To"); to != `"Ada" <ada@example.com>, <bob@example.com>` {
		t.Errorf("To %q", to)
	}
	if v := m.Header.Get("From"); v != "<flapjack@example.com>" {
		t.Errorf("From %q, want the bare address", v)
	}
	if v := m.Header.Get("Reply-To"); v != `"On call" <oncall@example.com>` {
		t.Errorf("Reply-To %q, want the configured reply_to", v)
	}
	if want := "Problem: 'Zürich-01:Temperatur' is Critical"; m.Subject != want {
		t.Errorf("Subject %q, want %q", m.Subject, want)
	}
	if !strings.Contains(m.Parts[0].Body, "Summary:          Überhitzung ✓ 95 °C\n") ||
		!strings.Contains(m.Parts[1].Body, "<td>Überhitzung ✓ 95 °C</td>") {
		t.Errorf("UTF-8 summary not delivered intact:\n%s\n%s", m.Parts[0].Body, m.Parts[1].Body)
	}
	again := parseMessage(t, got[1].Data)
	if id := m.Header.Get("Message-Id"); id == "" || again.Header.Get("Message-Id") != id {
		t.Errorf("Message-IDs %q and %q: a redelivered alert keeps its Message-ID", id, again.Header.Get("Message-Id"))
	}
}

func TestAuth(t *testing.T) {
	const user, password = "flapjack", "s3cr3t-Passw0rd"
	srv := startSMTPD(t, smtpdOptions{Auth: user + ":" + password})
	for _, tc := range []struct {
		name      string
		mech      string
		user      string
		password  string
		permanent bool
		reply     int    // the code of the refusal
		command   string // the command refused
	}{
		{name: "plain", mech: "plain", user: user, password: password},
		{name: "login", mech: "login", user: user, password: password},
		{name: "default plain", user: user, password: password},
		{name: "wrong password", mech: "plain", user: user, password: "not-" + password, permanent: true, reply: 535, command: "AUTH PLAIN"},
		{name: "wrong login password", mech: "login", user: user, password: "not-" + password, permanent: true, reply: 535, command: "AUTH LOGIN"},
		{name: "no login", permanent: true, reply: 530, command: "MAIL FROM"},
		{name: "mechanism not offered", mech: "cram_md5", user: user, password: password, permanent: true, command: "AUTH CRAM-MD5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Messages())
			logs := gatewaytest.NewLogs()
			g := newGateway(t, email.SMTPConfig{
				Host: srv.Host, Port: srv.Port, From: "flapjack@example.com",
				Authentication: tc.mech, Username: tc.user, Password: tc.password,
			}, gateway.Env{Logger: logs.Logger()})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
			if tc.command == "" {
				if err != nil {
					t.Fatal(err)
				}
				got := srv.WaitMessages(before + 1)
				if l := got[before].Login; l == nil || *l != user {
					t.Errorf("the server saw login %v, want %q", l, user)
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if gateway.IsPermanent(err) != tc.permanent {
				t.Errorf("%v: permanent %v, want %v", err, gateway.IsPermanent(err), tc.permanent)
			}
			if !strings.Contains(err.Error(), tc.command+": ") {
				t.Errorf("error %q does not name %s", err, tc.command)
			}
			var re *email.ReplyError
			if tc.reply != 0 && (!errors.As(err, &re) || re.Code != tc.reply || re.Command != tc.command) {
				t.Errorf("error %v, want a %d reply to %s", err, tc.reply, tc.command)
			}
			if re != nil && strings.HasPrefix(re.Command, "AUTH") && re.Text != "" {
				t.Errorf("the reply to AUTH is shown: %q", re.Text)
			}
			if n := len(srv.Messages()); n != before {
				t.Errorf("%d messages delivered, want none", n-before)
			}
			gatewaytest.AssertNoSecrets(t, []string{password, "not-" + password}, append(logs.Lines(), err.Error())...)
		})
	}
}

func TestTLS(t *testing.T) {
	cert := newTestCert(t)
	other := newTestCert(t) // an authority that did not sign the server's certificate
	starttls := startSMTPD(t, smtpdOptions{Cert: cert, StartTLS: true})
	required := startSMTPD(t, smtpdOptions{Cert: cert, StartTLS: true, RequireStartTLS: true, Auth: "flapjack:tls-Passw0rd"})
	implicit := startSMTPD(t, smtpdOptions{Cert: cert, ImplicitTLS: true})
	plain := startSMTPD(t, smtpdOptions{})
	yes := true
	for _, tc := range []struct {
		name    string
		srv     *smtpd
		cfg     email.SMTPConfig
		tls     bool   // the message travelled encrypted
		failure string // a permanent error containing this
	}{
		{name: "starttls auto with ca_file", srv: starttls, cfg: email.SMTPConfig{CAFile: cert.CertFile}, tls: true},
		{name: "starttls always", srv: starttls, cfg: email.SMTPConfig{StartTLS: email.StartTLSAlways, CAFile: cert.CertFile}, tls: true},
		{name: "insecure_skip_verify", srv: starttls, cfg: email.SMTPConfig{InsecureSkipVerify: true}, tls: true},
		{name: "starttls never", srv: starttls, cfg: email.SMTPConfig{StartTLS: email.StartTLSNever}},
		{name: "starttls auto, not offered", srv: plain, cfg: email.SMTPConfig{}},
		{name: "login after starttls", srv: required, cfg: email.SMTPConfig{CAFile: cert.CertFile,
			Authentication: "plain", Username: "flapjack", Password: "tls-Passw0rd"}, tls: true},
		{name: "implicit tls", srv: implicit, cfg: email.SMTPConfig{TLS: &yes, CAFile: cert.CertFile}, tls: true},
		{name: "unknown authority", srv: starttls, cfg: email.SMTPConfig{}, failure: "certificate"},
		{name: "wrong authority", srv: implicit, cfg: email.SMTPConfig{TLS: &yes, CAFile: other.CertFile}, failure: "certificate"},
		{name: "starttls always, not offered", srv: plain, cfg: email.SMTPConfig{StartTLS: email.StartTLSAlways},
			failure: `STARTTLS: the server does not offer STARTTLS, and starttls is "always"`},
		{name: "tls to a plain server", srv: plain, cfg: email.SMTPConfig{TLS: &yes}, failure: "TLS handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.srv.Messages())
			cfg := tc.cfg
			cfg.Host, cfg.Port, cfg.From = tc.srv.Host, tc.srv.Port, "flapjack@example.com"
			g := newGateway(t, cfg, gateway.Env{})
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
			if tc.failure != "" {
				if err == nil || !gateway.IsPermanent(err) || !strings.Contains(err.Error(), tc.failure) {
					t.Fatalf("Send: %v; want a permanent error about %q", err, tc.failure)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := tc.srv.WaitMessages(before + 1)[before]
			if r.TLS != tc.tls {
				t.Errorf("the message travelled with TLS %v, want %v", r.TLS, tc.tls)
			}
		})
	}
}

// runDelivery runs g under a Delivery on an in-memory store until stop is
// called, with back-off waits skipped.
func runDelivery(t *testing.T, g gateway.Gateway, maxAttempts int) (d *gateway.Delivery, push func(*flapjack.Alert), stop func()) {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	const queue = "email_notifications"
	d = gateway.NewDelivery(st, email.Transport, queue, g, gateway.DeliveryOptions{
		MaxAttempts: maxAttempts,
		Sleep:       func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Delivery.Run: %v", err)
				}
			case <-time.After(wait):
				t.Errorf("Delivery.Run did not return within %s", wait)
			}
		})
	}
	t.Cleanup(stop)
	push = func(a *flapjack.Alert) {
		b, err := a.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Queue(queue).Push(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	return d, push, stop
}

// TestRetriedThenDelivered: a server refusing the first two recipients with
// 451 gets the alert on the third attempt.
func TestRetriedThenDelivered(t *testing.T) {
	srv := startSMTPD(t, smtpdOptions{Refuse: 2, RefuseCode: "451"})
	g, err := email.New(email.Config{SMTP: email.SMTPConfig{Host: srv.Host, Port: srv.Port, From: "flapjack@example.com"}}, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	d, push, stop := runDelivery(t, g, 5)
	push(gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
	poll(t, "the delivery", func() bool { return d.Metrics().Snapshot().Sent == 1 })
	stop()
	if got := srv.Messages(); len(got) != 1 {
		t.Fatalf("%d messages, want exactly 1", len(got))
	}
	if m := d.Metrics().Snapshot(); m.Failed != 2 || m.Retried != 2 || m.DeadLettered != 0 {
		t.Errorf("metrics %+v, want 2 failed attempts, 2 retries, no dead letter", m)
	}
}

// TestDeadLettered: a server that keeps refusing ends with the alert in the
// dead-letter queue, at once for a 5xx refusal.
func TestDeadLettered(t *testing.T) {
	for _, tc := range []struct {
		code      string
		attempts  int
		permanent bool
	}{{"451", 3, false}, {"550", 1, true}} {
		t.Run(tc.code, func(t *testing.T) {
			srv := startSMTPD(t, smtpdOptions{Refuse: -1, RefuseCode: tc.code})
			g, err := email.New(email.Config{SMTP: email.SMTPConfig{Host: srv.Host, Port: srv.Port, From: "flapjack@example.com"}}, gateway.Env{})
			if err != nil {
				t.Fatal(err)
			}
			d, push, stop := runDelivery(t, g, 3)
			push(gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
			poll(t, "the dead letter", func() bool { return d.Metrics().Snapshot().DeadLettered == 1 })
			dead, err := d.DeadLetters(context.Background(), 0)
			stop()
			if err != nil || len(dead) != 1 {
				t.Fatalf("dead letters %v, %v; want 1", dead, err)
			}
			dl := dead[0]
			if dl.Attempts != tc.attempts || dl.Permanent != tc.permanent || !strings.Contains(dl.Error, "RCPT TO: server replied "+tc.code) {
				t.Errorf("dead letter %+v; want %d attempts, permanent %v, the RCPT refusal", dl, tc.attempts, tc.permanent)
			}
			if m := d.Metrics().Snapshot(); m.Sent != 0 || len(srv.Messages()) != 0 {
				t.Errorf("sent %d, delivered %d; want none", m.Sent, len(srv.Messages()))
			}
		})
	}
}

// TestPoolReuse: a burst of alerts shares the pool's few connections.
func TestPoolReuse(t *testing.T) {
	srv := startSMTPD(t, smtpdOptions{})
	t.Run("burst", func(t *testing.T) {
		px := startProxy(t, srv.Addr)
		before := len(srv.Messages())
		g := newGateway(t, email.SMTPConfig{Host: px.Host, Port: px.Port, From: "flapjack@example.com", MaxConnections: 2}, gateway.Env{})
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				a := gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")
				a.ID = a.ID + "-" + string(rune('a'+i))
				if err := g.Send(context.Background(), a); err != nil {
					t.Errorf("Send: %v", err)
				}
			})
		}
		wg.Wait()
		srv.WaitMessages(before + 20)
		if n := px.Sessions(); n < 1 || n > 2 {
			t.Errorf("%d SMTP sessions for 20 alerts with max_connections 2", n)
		}
	})
	t.Run("one after another", func(t *testing.T) {
		px := startProxy(t, srv.Addr)
		g := newGateway(t, email.SMTPConfig{Host: px.Host, Port: px.Port, From: "flapjack@example.com"}, gateway.Env{})
		for range 5 {
			if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
				t.Fatal(err)
			}
		}
		if n := px.Sessions(); n != 1 {
			t.Errorf("%d SMTP sessions for 5 alerts in turn, want 1", n)
		}
	})
}

// TestConnectionClosedByServer: a pooled connection the server closed is
// replaced without failing the alert.
func TestConnectionClosedByServer(t *testing.T) {
	srv := startSMTPD(t, smtpdOptions{})
	px := startProxy(t, srv.Addr)
	g := newGateway(t, email.SMTPConfig{Host: px.Host, Port: px.Port, From: "flapjack@example.com"}, gateway.Env{})
	send := func() {
		t.Helper()
		if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
			t.Fatal(err)
		}
	}
	send()
	px.Drop()
	poll(t, "the connection to close", func() bool { return px.Open() == 0 })
	send()
	srv.WaitMessages(2)
	if n := px.Sessions(); n != 2 {
		t.Errorf("%d sessions, want 2: the closed one and its replacement", n)
	}

	// The same for the connection Start opened and no alert used yet.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	poll(t, "Start to open a connection", func() bool { return px.Sessions() == 3 })
	px.Drop()
	poll(t, "the connection to close", func() bool { return px.Open() == 0 })
	send()
	srv.WaitMessages(3)
	if n := px.Sessions(); n != 4 {
		t.Errorf("%d sessions, want 4", n)
	}
}

// TestLostBeforeTransaction: a connection that passes its check but is lost
// at MAIL FROM is replaced, and the message sent on the new one.
func TestLostBeforeTransaction(t *testing.T) {
	srv := startFakeSMTP(t, fakeUser, fakePassword)
	g := newGateway(t, email.SMTPConfig{Host: srv.Host, Port: srv.Port, From: "flapjack@example.com",
		Username: fakeUser, Password: fakePassword}, gateway.Env{})
	for _, failure := range []string{"", "disconnect once"} {
		srv.Fail(failure)
		if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
			t.Fatalf("Send after %q: %v", failure, err)
		}
	}
	if n, s := len(srv.Delivered()), srv.Sessions(); n != 2 || s != 2 {
		t.Errorf("%d messages over %d sessions, want 2 over 2", n, s)
	}
	// A lost fresh connection is not tried again at once: the delivery
	// layer decides.
	srv.Fail("disconnect")
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
	if err == nil || gateway.IsPermanent(err) {
		t.Errorf("Send to a server hanging up: %v, want a retryable error", err)
	}
}

func TestIdleConnectionsClosed(t *testing.T) {
	srv := startSMTPD(t, smtpdOptions{})
	px := startProxy(t, srv.Addr)
	g := newGateway(t, email.SMTPConfig{Host: px.Host, Port: px.Port, From: "flapjack@example.com", IdleTimeout: 0.05}, gateway.Env{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n := px.Sessions(); n != 1 {
		t.Fatalf("Start opened %d connections, want 1", n)
	}
	poll(t, "the idle connection to be closed", func() bool { return px.Open() == 0 })
	if err := g.Send(ctx, gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	srv.WaitMessages(1)
	poll(t, "the idle connection to be closed", func() bool { return px.Open() == 0 })
}

func TestCloseAndRestart(t *testing.T) {
	srv := startSMTPD(t, smtpdOptions{})
	px := startProxy(t, srv.Addr)
	g := newGateway(t, email.SMTPConfig{Host: px.Host, Port: px.Port, From: "flapjack@example.com"}, gateway.Env{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
				t.Errorf("Send: %v", err)
			}
		})
	}
	wg.Wait()
	if px.Open() == 0 {
		t.Fatal("no connection kept open after sending")
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	poll(t, "Close to end every session", func() bool { return px.Open() == 0 })

	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
	if !errors.Is(err, gateway.ErrNotConnected) || gateway.IsPermanent(err) {
		t.Fatalf("Send after Close: %v, want a retryable error wrapping ErrNotConnected", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.Send(ctx, gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
		t.Fatalf("Send after Start: %v", err)
	}
	srv.WaitMessages(4)
}

func TestServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	g := newGateway(t, email.SMTPConfig{Host: "127.0.0.1", Port: port, From: "flapjack@example.com"}, gateway.Env{})
	err = g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
	if err == nil || gateway.IsPermanent(err) || !strings.Contains(err.Error(), "connect to 127.0.0.1:") {
		t.Errorf("Send to a closed port: %v, want a retryable connection error", err)
	}
	if err := g.Start(context.Background()); err == nil || gateway.IsPermanent(err) {
		t.Errorf("Start with the server down: %v, want a retryable error", err)
	}
}

// TestStartRefusedLogin: Start finds a refused login before any alert.
func TestStartRefusedLogin(t *testing.T) {
	srv := startFakeSMTP(t, fakeUser, fakePassword)
	logs := gatewaytest.NewLogs()
	g := newGateway(t, email.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: fakeUser, Password: "wrong-" + fakePassword},
		gateway.Env{Logger: logs.Logger()})
	err := g.Start(context.Background())
	var re *email.ReplyError
	if !gateway.IsPermanent(err) || !errors.As(err, &re) || re.Code != 535 || re.Enhanced != "5.7.8" || re.Text != "" {
		t.Errorf("Start: %v (%#v), want a permanent 535 without the reply's text", err, re)
	}
	if want := "email: AUTH PLAIN: server replied 535 5.7.8"; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	gatewaytest.AssertNoSecrets(t, []string{fakePassword, "wrong-" + fakePassword}, append(logs.Lines(), err.Error())...)
}

// TestReplyError: a refusal names the command and the code, and shows the
// server's text without the password.
func TestReplyError(t *testing.T) {
	srv := startFakeSMTP(t, fakeUser, fakePassword)
	g := newGateway(t, email.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: fakeUser, Password: fakePassword}, gateway.Env{})
	srv.Fail("rcpt 550")
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
	var re *email.ReplyError
	if !gateway.IsPermanent(err) || !errors.As(err, &re) {
		t.Fatalf("Send: %v, want a permanent ReplyError", err)
	}
	if re.Command != "RCPT TO" || re.Code != 550 || re.Enhanced != "5.1.1" || re.Temporary() {
		t.Errorf("reply %#v, want a 550 5.1.1 to RCPT TO", re)
	}
	if want := "RCPT TO:<ada@example.com> refused (session of flapjack with password [password])"; re.Text != want {
		t.Errorf("reply text %q, want %q", re.Text, want)
	}
	gatewaytest.AssertNoSecrets(t, []string{fakePassword}, err.Error())
}

// TestCancelled: a stalled server does not hold Send beyond its context, and
// the stalled connection is not used again.
func TestCancelled(t *testing.T) {
	srv := startFakeSMTP(t, fakeUser, fakePassword)
	g := newGateway(t, email.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: fakeUser, Password: fakePassword}, gateway.Env{})
	srv.Fail("stall")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := g.Send(ctx, gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
	if !errors.Is(err, context.DeadlineExceeded) || gateway.IsPermanent(err) {
		t.Errorf("Send to a stalled server: %v, want a retryable error wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %s after its context ended", d)
	}
	srv.Fail("")
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := srv.Sessions(); n != 2 {
		t.Errorf("%d sessions, want 2: the stalled one is not reused", n)
	}
}

// TestTimeout: the timeout setting bounds a stalled exchange.
func TestTimeout(t *testing.T) {
	srv := startFakeSMTP(t, fakeUser, fakePassword)
	g := newGateway(t, email.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: fakeUser, Password: fakePassword, Timeout: 0.1}, gateway.Env{})
	srv.Fail("stall")
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com"))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || gateway.IsPermanent(err) {
		t.Errorf("Send to a stalled server: %v, want a retryable timeout", err)
	}
}

func TestCustomTemplates(t *testing.T) {
	srv := startFakeSMTP(t, fakeUser, fakePassword)
	cfg := email.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: fakeUser, Password: fakePassword}
	send := func(tpl *gateway.Templates) parsed {
		t.Helper()
		g := newGateway(t, cfg, gateway.Env{Templates: tpl})
		if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); err != nil {
			t.Fatal(err)
		}
		got := srv.Delivered()
		return parseMessage(t, []byte(got[len(got)-1]))
	}

	tpl := gateway.DefaultTemplates()
	for key, text := range map[string]string{
		"alert_subject.text": "[{{.StateTitleCase}}] {{.CheckName}}\n",
		"alert.text":         "{{.CheckName}} is {{.StateTitleCase}}.",
		"alert.html":         "<b>{{.CheckName}}</b>",
	} {
		if err := tpl.Override(email.Transport, key, text); err != nil {
			t.Fatal(err)
		}
	}
	m := send(tpl)
	if m.Subject != "[Critical] app-01:HTTP" || len(m.Parts) != 2 || m.Parts[0].Body != "app-01:HTTP is Critical." || m.Parts[1].Body != "<b>app-01:HTTP</b>" {
		t.Errorf("custom templates: subject %q, parts %+v", m.Subject, m.Parts)
	}

	// Without an html template, the text part alone.
	textOnly := &gateway.Templates{}
	for key, text := range map[string]string{"alert_subject.text": "{{.CheckName}}", "alert.text": "{{.Summary}}"} {
		if err := textOnly.Override(email.Transport, key, text); err != nil {
			t.Fatal(err)
		}
	}
	m = send(textOnly)
	if m.Type != "text/plain" || len(m.Parts) != 1 || m.Parts[0].Charset != "UTF-8" || strings.TrimSuffix(m.Parts[0].Body, "\n") != "HTTP 500" {
		t.Errorf("text-only message: %s, parts %+v", m.Type, m.Parts)
	}

	// A template that cannot render the alert is a permanent failure.
	broken := gateway.DefaultTemplates()
	if err := broken.Override(email.Transport, "alert.text", "{{.NoSuchField}}"); err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, cfg, gateway.Env{Templates: broken})
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, "ada@example.com")); !gateway.IsPermanent(err) {
		t.Errorf("Send with a broken template: %v, want a permanent error", err)
	}
}

func TestBadAddress(t *testing.T) {
	srv := startFakeSMTP(t, fakeUser, fakePassword)
	g := newGateway(t, email.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: fakeUser, Password: fakePassword}, gateway.Env{})
	for _, address := range []string{"", "not an address", "ada@"} {
		err := g.Send(context.Background(), gatewaytest.NewAlert("problem", email.Transport, address))
		if !gateway.IsPermanent(err) || !strings.Contains(err.Error(), "not an email address") {
			t.Errorf("address %q: %v, want a permanent error", address, err)
		}
	}
	if n := srv.Sessions(); n != 0 {
		t.Errorf("%d connections for alerts that cannot be sent", n)
	}
}

func TestConfig(t *testing.T) {
	const password = "cfg-s3cret-pw"
	ca := newTestCert(t)
	notPEM := t.TempDir() + "/not.pem"
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  gateway.MapConfig
		want []string // errors; none: valid
	}{
		{name: "empty", cfg: nil},
		{name: "v2 keys", cfg: gateway.MapConfig{"smtp_config": map[string]any{
			"host": "smtp.example.com", "port": 587, "from": "Flapjack <flapjack@example.com>", "reply_to": "ops@example.com",
			"authentication": "login", "username": "flapjack", "password": password, "starttls": "always",
		}}},
		{name: "v2 example's auth table and boolean starttls", cfg: gateway.MapConfig{"smtp_config": map[string]any{
			"starttls": false, "auth": map[string]any{"type": "plain", "username": "flapjack", "password": password},
		}}},
		{name: "every key", cfg: gateway.MapConfig{"smtp_config": map[string]any{
			"host": "smtp.example.com", "port": 465, "tls": true, "ca_file": ca.CertFile, "insecure_skip_verify": false,
			"helo": "flapjack.example.com", "timeout": 10, "max_connections": 8, "idle_timeout": 30, "authentication": "cram-md5",
			"username": "flapjack", "password": password,
		}}},
		{name: "unknown key", cfg: gateway.MapConfig{"smtp_config": map[string]any{"hostname": "x"}}, want: []string{`unknown key "hostname"`}},
		{name: "top-level host", cfg: gateway.MapConfig{"host": "x"}, want: []string{`unknown key "host"`}},
		{name: "bad values", cfg: gateway.MapConfig{"smtp_config": map[string]any{
			"port": 70000, "from": "flapjack at example", "reply_to": "<>", "starttls": "sometimes",
			"timeout": -1, "idle_timeout": -2, "max_connections": -3, "helo": "two words", "ca_file": notPEM,
			"authentication": "kerberos", "password": password,
		}}, want: []string{
			"port: 70000 is not a TCP port", `from: "flapjack at example" is not an email address`,
			`reply_to: "<>" is not an email address`, `starttls: "sometimes" is not`, "timeout: -1 seconds is negative",
			"idle_timeout: -2 seconds is negative", "max_connections: -3 is negative", `helo: "two words" is not a host name`,
			"ca_file: " + notPEM + " holds no PEM certificate", `authentication: "kerberos" is not`,
		}},
		{name: "starttls not a string", cfg: gateway.MapConfig{"smtp_config": map[string]any{"starttls": 1}}, want: []string{"starttls: want"}},
		{name: "login without credentials", cfg: gateway.MapConfig{"smtp_config": map[string]any{"authentication": "plain"}},
			want: []string{"username: required with authentication plain", "password: required with authentication plain"}},
		{name: "credentials without login", cfg: gateway.MapConfig{"smtp_config": map[string]any{"authentication": "none", "password": password}},
			want: []string{"authentication: none, but a username or password is set"}},
		{name: "auth table contradicting", cfg: gateway.MapConfig{"smtp_config": map[string]any{
			"username": "a", "password": password, "auth": map[string]any{"username": "b", "password": "other-" + password},
		}}, want: []string{"auth.username: differs from the username", "auth.password: differs from the password"}},
		{name: "missing ca_file", cfg: gateway.MapConfig{"smtp_config": map[string]any{"ca_file": t.TempDir() + "/none.pem"}},
			want: []string{"ca_file: cannot read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := gateway.New(email.Transport, tc.cfg, gateway.Env{})
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c, ok := g.(gateway.Closer); ok {
					_ = c.Close()
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not report %q", err, w)
				}
			}
			gatewaytest.AssertNoSecrets(t, []string{password, "other-" + password}, err.Error())
		})
	}
}

func TestMessageID(t *testing.T) {
	for _, tc := range []struct{ id, domain, want string }{
		{"5c1e9d2a-0b1f-4c3d-9e8f-7a6b5c4d3e2f", "mon.example.com", "5c1e9d2a-0b1f-4c3d-9e8f-7a6b5c4d3e2f@mon.example.com"},
		{"a b<c>@d", "host", "a-b-c--d@host"},
		{"", "", "alert@localhost"},
	} {
		if got := email.MessageID(tc.id, tc.domain); got != tc.want {
			t.Errorf("MessageID(%q, %q) = %q, want %q", tc.id, tc.domain, got, tc.want)
		}
	}
}
