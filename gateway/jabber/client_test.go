package jabber_test

import (
	"context"
	"encoding/xml"
	"net"
	"sync"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/muc"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"

	"github.com/x/flapjack/internal/prosodytest"
)

// waitFor bounds every wait for the server or a message.
const waitFor = 10 * time.Second

// received is a message a test client received.
type received struct {
	From string
	Type stanza.MessageType
	Body string
}

// client is a second XMPP client, the person or room occupant alerts are for.
type client struct {
	t       testing.TB
	session *xmpp.Session
	muc     *muc.Client
	done    chan struct{}
	msgs    chan received
}

// dialClient logs in as user and serves the session until t ends.
func dialClient(t testing.TB, srv *prosodytest.Server, user, pass string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	s, err := xmpp.NewClientSession(ctx, jid.MustParse(srv.JID(user)+"/test"), conn,
		xmpp.StartTLS(srv.TLSConfig()), xmpp.SASL("", pass, sasl.ScramSha1, sasl.Plain), xmpp.BindResource())
	if err != nil {
		conn.Close()
		t.Fatalf("log in as %s: %v", user, err)
	}
	c := &client{t: t, session: s, muc: &muc.Client{}, done: make(chan struct{}), msgs: make(chan received, 100)}
	handle := func(m stanza.Message, r xmlstream.TokenReadEncoder) error {
		var msg struct {
			stanza.Message
			Body string `xml:"body"`
		}
		if err := xml.NewTokenDecoder(r).Decode(&msg); err != nil || msg.Body == "" {
			return nil
		}
		c.msgs <- received{From: msg.From.String(), Type: msg.Type, Body: msg.Body}
		return nil
	}
	m := mux.New(stanza.NSClient, muc.HandleClient(c.muc),
		mux.MessageFunc(stanza.ChatMessage, xml.Name{Local: "body"}, handle),
		mux.MessageFunc(stanza.GroupChatMessage, xml.Name{Local: "body"}, handle),
	)
	go func() {
		defer close(c.done)
		_ = s.Serve(m)
	}()
	t.Cleanup(c.close)
	if err := s.Send(ctx, stanza.Presence{Type: stanza.AvailablePresence}.Wrap(nil)); err != nil {
		t.Fatalf("presence: %v", err)
	}
	return c
}

func (c *client) close() {
	_ = c.session.Close()
	_ = c.session.Conn().Close()
	<-c.done
}

// join enters room as nick.
func (c *client) join(room, nick string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := c.muc.Join(ctx, jid.MustParse(room+"/"+nick), c.session, muc.MaxHistory(0)); err != nil {
		c.t.Fatalf("join %s: %v", room, err)
	}
}

// say sends body to to, as a chat or groupchat message.
func (c *client) say(to string, typ stanza.MessageType, body string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	msg := stanza.Message{To: jid.MustParse(to), Type: typ}.Wrap(xmlstream.Wrap(
		xmlstream.Token(xml.CharData(body)), xml.StartElement{Name: xml.Name{Local: "body"}}))
	if err := c.session.Send(ctx, msg); err != nil {
		c.t.Fatalf("say: %v", err)
	}
}

// next returns the next message received, failing the test after waitFor.
func (c *client) next() received {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(waitFor):
		c.t.Fatal("no message received")
		return received{}
	}
}

// none checks that no message arrives within d.
func (c *client) none(d time.Duration) {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		c.t.Errorf("unexpected message %+v", m)
	case <-time.After(d):
	}
}

// inbox collects message bodies for the conformance harness.
type inbox struct {
	mu    sync.Mutex
	texts []string
}

func (b *inbox) add(s string) {
	b.mu.Lock()
	b.texts = append(b.texts, s)
	b.mu.Unlock()
}

func (b *inbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.texts)
}

func (b *inbox) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.texts...)
}
