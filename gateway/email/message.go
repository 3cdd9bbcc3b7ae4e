package email

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// message is one alert's email, ready to send.
type message struct {
	envelopeFrom string   // <address>
	recipients   []string // <address> each
	msg          *gomail.Msg
}

// userAgent names the sender in User-Agent and X-Mailer.
const userAgent = "Flapjack"

// message renders a's email. Its errors are permanent: the same alert would
// fail again.
func (g *Gateway) message(a *flapjack.Alert) (*message, error) {
	to, err := mail.ParseAddressList(a.Address)
	if err != nil || len(to) == 0 {
		return nil, errors.New("the medium address is not an email address")
	}
	subject, err := g.templates.Render(Transport, gateway.AlertSubjectTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return nil, err
	}
	text, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return nil, err
	}
	html, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatHTML, a, nil)
	hasHTML := err == nil
	if err != nil && !errors.Is(err, gateway.ErrNoTemplate) {
		return nil, err
	}

	m := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := m.From(g.fromHeader); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.ReplyTo(g.replyTo); err != nil {
		return nil, fmt.Errorf("reply_to: %w", err)
	}
	m.ToMailAddress(to...)
	m.Subject(oneLine(subject))
	m.SetMessageIDWithValue(MessageID(a.ID, g.domain))
	when := a.Time
	if when.IsZero() {
		when = g.clock.Now()
	}
	m.SetDateWithValue(when)
	m.SetUserAgent(userAgent)
	m.SetBodyString(gomail.TypeTextPlain, text)
	if hasHTML {
		m.AddAlternativeString(gomail.TypeTextHTML, html)
	}
	rcpts := make([]string, len(to))
	for i, t := range to {
		rcpts[i] = bare(t)
	}
	return &message{envelopeFrom: bare(g.from), recipients: rcpts, msg: m}, nil
}

// bare is a's address without its display name, in angle brackets, as MAIL
// FROM and RCPT TO want it.
func bare(a *mail.Address) string { return (&mail.Address{Address: a.Address}).String() }

// oneLine keeps a header on one line, whatever a custom template produced.
func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s))
}

// MessageID is the Message-ID, without its angle brackets, of the email of
// the alert whose id is given, sent from a host named domain:
// "<alert-id>@<domain>". A redelivered alert keeps its Message-ID, so mail
// clients show it once. Characters a Message-ID cannot hold become "-".
func MessageID(alertID, domain string) string {
	clean := func(s, fallback string) string {
		s = strings.Map(func(r rune) rune {
			if r > ' ' && r < 0x7f && !strings.ContainsRune(`<>@()[]\,;:"`, r) {
				return r
			}
			return '-'
		}, s)
		if s == "" {
			return fallback
		}
		return s
	}
	return clean(alertID, "alert") + "@" + clean(domain, "localhost")
}
