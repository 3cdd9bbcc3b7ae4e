// Package jabber is the "jabber" gateway: it sends each alert's text over XMPP,
// as a message to a multi-user chat room the gateway has joined or as a direct
// chat message to a person's JID.
//
//	[gateways.jabber]
//	enabled = true
//	jabberid = "flapjack@example.com"   # required; "/<hostname>" is appended when it has no resource
//	password = "secret"                 # required
//	alias = "flapjack"                  # the nickname in rooms, the default
//	rooms = ["ops@conference.example.com"]
//	identifiers = ["fj"]                # further names the chat bot answers to
//	chatbot_announce = false
//	processor_queue = "events"          # where the chat bot's events go, the default
//	server = "xmpp.example.com"         # optional: the host to dial
//	port = 5222                         # optional: the port to dial
//	timeout = 10                        # seconds, the default
//	ca_file = "/etc/ssl/private-ca.pem" # optional: a CA to trust besides the system's
//	insecure_skip_verify = false
//
// The gateway connects with StartTLS (required) and SASL (SCRAM-SHA-256,
// SCRAM-SHA-1 or PLAIN, the strongest the server offers), binds the JID's
// resource, and joins every room under its alias, asking for no history. An
// alert whose medium address is one of the rooms is sent to that room as a
// groupchat message; any other address is taken as a person's JID and gets a
// chat message. (Flapjack v2 only delivered to rooms it had joined.) The text is
// the "jabber" templates', given the alias as .Extra.alias for the
// "<alias>: ACKID <hash>" hint on problems.
//
// Without server and port the connection goes where the JID's domain says (its
// xmpp-client SRV records, else the domain on port 5222), as in Flapjack v2,
// which ignored these two keys. They are for servers without SRV records and
// for tests on a random port.
//
// The gateway implements [gateway.Starter] and [gateway.Closer]: the delivery
// layer connects it before the first alert. When the connection is lost (the
// server restarts, the network fails), Send returns an error wrapping
// [gateway.ErrNotConnected], and the delivery layer reconnects with back-off and
// retries the alert; rooms are joined again on each connection. XMPP without
// stream management does not acknowledge messages, so a message written just
// as the connection breaks may be lost without an error.
//
// Messages the gateway receives are handed to the function given to
// [Gateway.HandleMessages], except its own messages echoed by a room, room
// history and other delayed messages, and messages without a body. With
// [Gateway.ServeChat] the gateway also answers them as Flapjack's chat bot (see
// package chatbot): room messages addressed to one of its identifiers and
// every direct message are commands; the reply goes to the room or the sender,
// and the acknowledgement and test events a command makes go to the
// processor_queue.
//
// [Room] reuses the gateway's connection for the self-monitoring oobetet
// (package oobetet): it joins the rooms under the oobetet's alias, delivers
// what others say there, says the oobetet's announcements in every room, and
// reconnects by itself.
//
// The password never shows in an error or a log line.
package jabber

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/delay"
	"mellium.im/xmpp/dial"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/muc"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/stanza"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/jabber/chatbot"
	"github.com/x/flapjack/store"
)

// Transport is the transport name the gateway registers under.
const Transport = "jabber"

// The defaults of Config.
const (
	DefaultAlias          = "flapjack"
	DefaultProcessorQueue = "events"
	DefaultTimeout        = 10 * time.Second
)

// Config is the gateway's configuration section.
type Config struct {
	// JabberID is the account the gateway logs in as, such as
	// "flapjack@example.com"; "/<hostname>" is appended when it has no
	// resource. Required.
	JabberID string `json:"jabberid"`
	// Password is the account's password. Required.
	Password string `json:"password"`
	// Alias is the gateway's nickname in rooms. Default: "flapjack".
	Alias string `json:"alias"`
	// Identifiers are further names the chat bot answers to; the alias is
	// always one. Default: none.
	Identifiers []string `json:"identifiers"`
	// Rooms are the bare JIDs of the multi-user chat rooms to join. Default:
	// none, for direct messages only.
	Rooms []string `json:"rooms"`
	// ChatbotAnnounce makes the gateway greet each room it joins ("...
	// started at <time>, hello!", or "... rejoining at <time>, hello again!"
	// after a reconnection). Default: false.
	ChatbotAnnounce bool `json:"chatbot_announce"`
	// ProcessorQueue is where the chat bot's acknowledgement and test events
	// go. Default: "events".
	ProcessorQueue string `json:"processor_queue"`
	// Server is the host to dial instead of the JID's domain. Default: none.
	Server string `json:"server"`
	// Port is the port to dial. Default: 5222 with Server, else the domain's
	// SRV records.
	Port int `json:"port"`
	// Timeout bounds connecting, joining a room and sending one message, in
	// seconds. Default: 10.
	Timeout float64 `json:"timeout"`
	// CAFile is a PEM file of certificates to trust besides the system's.
	// Default: none.
	CAFile string `json:"ca_file"`
	// InsecureSkipVerify accepts any server certificate. Default: false.
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
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

// Message is a message the gateway received.
type Message struct {
	// From is the sender: a room occupant's room JID with its nickname as
	// resource, or a person's full JID.
	From string
	// Room is the bare JID of the room the message was said in; empty for a
	// direct message.
	Room string
	// Body is the message's text.
	Body string
}

// Gateway sends alerts over XMPP.
type Gateway struct {
	me        jid.JID
	password  string
	alias     string
	idents    []string
	rooms     []jid.JID
	addr      string // host:port to dial; empty: the domain's
	timeout   time.Duration
	tls       *tls.Config
	templates *gateway.Templates
	log       *slog.Logger
	clock     flapjack.Clock
	announce  bool

	mu       sync.Mutex
	conn     *connection // nil: not connected
	gen      uint64      // counts Closes, so that a Start racing one gives up
	started  bool        // a connection was made before: later joins are rejoins
	received func(Message)
	chat     func(*connection, Message) // set by ServeChat
	procQ    string
}

// connection is one XMPP session and the goroutine serving it.
type connection struct {
	session *xmpp.Session
	rooms   map[string]bool // bare JIDs of the rooms joined
	done    chan struct{}   // closed when the session ended
}

// New returns a jabber gateway, or an error listing every problem of cfg. The
// errors never show the password.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{
		password: cfg.Password, alias: cfg.Alias, timeout: DefaultTimeout,
		templates: env.Templates, log: env.Logger, clock: env.Clock, announce: cfg.ChatbotAnnounce,
		procQ: cfg.ProcessorQueue,
	}
	if g.procQ == "" {
		g.procQ = DefaultProcessorQueue
	}
	if g.alias == "" {
		g.alias = DefaultAlias
	}
	g.idents = append([]string{g.alias}, cfg.Identifiers...)
	var errs []error
	switch j, err := jid.Parse(cfg.JabberID); {
	case cfg.JabberID == "":
		errs = append(errs, errors.New("jabberid: required: the account to log in as, such as flapjack@example.com"))
	case err != nil:
		errs = append(errs, fmt.Errorf("jabberid: %q is not a valid JID: %w", cfg.JabberID, err))
	case j.Localpart() == "":
		errs = append(errs, fmt.Errorf("jabberid: %q has no user part", cfg.JabberID))
	default:
		if j.Resourcepart() == "" {
			host, _ := os.Hostname()
			if host == "" {
				host = "flapjack"
			}
			if rj, err := j.WithResource(host); err == nil {
				j = rj
			}
		}
		g.me = j
	}
	if cfg.Password == "" {
		errs = append(errs, errors.New("password: required"))
	}
	if _, err := jid.New("", "example.com", g.alias); err != nil {
		errs = append(errs, fmt.Errorf("alias: %q is not a valid nickname", g.alias))
	}
	for i, r := range cfg.Rooms {
		j, err := jid.Parse(r)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("rooms[%d]: %q is not a valid JID: %w", i, r, err))
		case j.Localpart() == "" || j.Resourcepart() != "":
			errs = append(errs, fmt.Errorf("rooms[%d]: %q is not a room's bare JID, such as ops@conference.example.com", i, r))
		default:
			g.rooms = append(g.rooms, j)
		}
	}
	switch {
	case cfg.Port < 0 || cfg.Port > 65535:
		errs = append(errs, fmt.Errorf("port: %d is not a TCP port", cfg.Port))
	case cfg.Server != "" || cfg.Port != 0:
		host, port := cfg.Server, cfg.Port
		if host == "" {
			host = g.me.Domainpart()
		}
		if port == 0 {
			port = 5222
		}
		g.addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	switch {
	case cfg.Timeout < 0:
		errs = append(errs, fmt.Errorf("timeout: %g seconds is negative", cfg.Timeout))
	case cfg.Timeout > 0:
		g.timeout = time.Duration(cfg.Timeout * float64(time.Second))
	}
	g.tls = &tls.Config{ServerName: g.me.Domainpart(), MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CAFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		switch pem, err := os.ReadFile(cfg.CAFile); {
		case err != nil:
			errs = append(errs, fmt.Errorf("ca_file: %w", err))
		case !pool.AppendCertsFromPEM(pem):
			errs = append(errs, fmt.Errorf("ca_file: %s holds no PEM certificate", cfg.CAFile))
		default:
			g.tls.RootCAs = pool
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return g, nil
}

// JID is the full JID the gateway logs in as.
func (g *Gateway) JID() string { return g.me.String() }

// Identifiers are the names the chat bot answers to: the alias first.
func (g *Gateway) Identifiers() []string { return slices.Clone(g.idents) }

// HandleMessages sets the function called, one message at a time, with every
// message the gateway receives but its own, delayed ones and those without a
// body (before the chat bot of ServeChat, if any, answers it). It must be
// called before Start.
func (g *Gateway) HandleMessages(f func(Message)) {
	g.mu.Lock()
	g.received = f
	g.mu.Unlock()
}

// Start connects, logs in and joins the rooms, replacing a connection that was
// lost. A refused login is permanent; anything else may be retried. The
// connection lasts until ctx ends, Close is called, or the server drops it.
func (g *Gateway) Start(ctx context.Context) error {
	g.mu.Lock()
	old, gen := g.conn, g.gen
	g.conn = nil
	g.mu.Unlock()
	if old != nil {
		old.close()
	}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen != gen {
		c.close()
		return errors.New("jabber: gateway closed while connecting")
	}
	g.conn = c
	return nil
}

func (g *Gateway) connect(ctx context.Context) (*connection, error) {
	dctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	var conn net.Conn
	var err error
	if g.addr != "" {
		conn, err = (&net.Dialer{}).DialContext(dctx, "tcp", g.addr)
	} else {
		conn, err = dial.Client(dctx, "tcp", g.me)
	}
	if err != nil {
		return nil, fmt.Errorf("jabber: connect to %s: %w", g.me.Domainpart(), g.scrub(err))
	}
	session, err := xmpp.NewClientSession(dctx, g.me, conn,
		xmpp.StartTLS(g.tls),
		xmpp.SASL("", g.password, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain),
		xmpp.BindResource(),
	)
	if err != nil {
		conn.Close()
		err = fmt.Errorf("jabber: log in as %s: %w", g.me.Bare(), g.scrub(err))
		if isAuthFailure(err) {
			return nil, gateway.Permanent(err)
		}
		return nil, err
	}
	c := &connection{session: session, rooms: map[string]bool{}, done: make(chan struct{})}
	mucClient := &muc.Client{}
	receive := func(m stanza.Message, r xmlstream.TokenReadEncoder) error { return g.receive(c, m, r) }
	m := mux.New(stanza.NSClient,
		muc.HandleClient(mucClient),
		// The multiplexer calls a handler once per child element: match the
		// body alone, so that each message is handled once.
		mux.MessageFunc(stanza.ChatMessage, bodyName, receive),
		mux.MessageFunc(stanza.GroupChatMessage, bodyName, receive),
		mux.MessageFunc(stanza.NormalMessage, bodyName, receive),
	)
	go func() {
		defer close(c.done)
		err := session.Serve(m)
		if err != nil && ctx.Err() == nil {
			g.log.Warn("jabber connection lost", "transport", Transport, "jid", g.me.Bare().String(), "err", g.scrub(err))
		}
		_ = session.Close()
		_ = conn.Close()
	}()
	// The connection must not outlive the delivery that started it.
	stop := context.AfterFunc(ctx, func() { c.close() })
	go func() {
		<-c.done
		stop()
	}()

	if err := session.Send(dctx, stanza.Presence{Type: stanza.AvailablePresence}.Wrap(nil)); err != nil {
		c.close()
		return nil, fmt.Errorf("jabber: send presence: %w", g.scrub(err))
	}
	for _, room := range g.rooms {
		occupant, err := room.WithResource(g.alias)
		if err != nil {
			c.close()
			return nil, gateway.Permanent(fmt.Errorf("jabber: room %s: %w", room, err))
		}
		if _, err := mucClient.Join(dctx, occupant, session, muc.MaxHistory(0)); err != nil {
			c.close()
			return nil, fmt.Errorf("jabber: join room %s: %w", room, g.scrub(err))
		}
		c.rooms[room.String()] = true
		if g.announce {
			if err := session.Send(dctx, groupchat(room, g.greeting())); err != nil {
				c.close()
				return nil, fmt.Errorf("jabber: greet room %s: %w", room, g.scrub(err))
			}
		}
	}
	g.mu.Lock()
	g.started = true
	g.mu.Unlock()
	return c, nil
}

// greeting is what the gateway says on joining a room with chatbot_announce.
func (g *Gateway) greeting() string {
	g.mu.Lock()
	again := g.started
	g.mu.Unlock()
	now := g.clock.Now().Format(time.RFC1123Z)
	if again {
		return "flapjack jabber gateway rejoining at " + now + ", hello again!"
	}
	return "flapjack jabber gateway started at " + now + ", hello! Try typing 'help'."
}

// groupchat is a groupchat message of text to room.
func groupchat(room jid.JID, text string) xml.TokenReader {
	return message(room, stanza.GroupChatMessage, text)
}

// message is a message of text.
func message(to jid.JID, typ stanza.MessageType, text string) xml.TokenReader {
	return stanza.Message{To: to, Type: typ}.Wrap(xmlstream.Wrap(
		xmlstream.Token(xml.CharData(text)),
		xml.StartElement{Name: xml.Name{Local: "body"}},
	))
}

// close ends the session and waits for its goroutine.
func (c *connection) close() {
	_ = c.session.Close()
	_ = c.session.Conn().Close()
	<-c.done
}

// alive reports whether the session is still served.
func (c *connection) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// bodyName is the name of a message's body element.
var bodyName = xml.Name{Space: stanza.NSClient, Local: "body"}

// incoming is a received message stanza, as far as the gateway reads it.
type incoming struct {
	stanza.Message
	Body  string       `xml:"body"`
	Delay *delay.Delay `xml:"urn:xmpp:delay delay"`
}

func (g *Gateway) receive(c *connection, m stanza.Message, r xmlstream.TokenReadEncoder) error {
	var msg incoming
	if err := xml.NewTokenDecoder(r).Decode(&msg); err != nil {
		return nil // a malformed message is not worth dropping the connection for
	}
	g.mu.Lock()
	f, chat := g.received, g.chat
	g.mu.Unlock()
	in, ok := g.filter(msg)
	if !ok {
		return nil
	}
	if f != nil {
		f(in)
	}
	if chat != nil {
		chat(c, in)
	}
	return nil
}

// ServeChat makes the gateway's chat bot answer the commands it receives: in
// a room, the messages addressed to one of its identifiers ("@flapjack ..." or
// "flapjack: ..."), and every direct message. Commands act on checks; the
// acknowledgement and test events they make are pushed, after the reply, onto
// the processor_queue of queues. It must be called before Start.
func (g *Gateway) ServeChat(queues store.Queues, checks chatbot.Checks) {
	in := &chatbot.Interpreter{
		Checks: checks, Clock: g.clock, Alias: g.alias, Identifiers: g.Identifiers(),
	}
	q := queues.Queue(g.procQ)
	g.mu.Lock()
	g.chat = func(c *connection, m Message) { g.answer(c, in, q, m) }
	g.mu.Unlock()
}

// answer carries out the command in m, if m is one, and replies where m came from.
func (g *Gateway) answer(c *connection, in *chatbot.Interpreter, q store.Queue, m Message) {
	from, err := jid.Parse(m.From)
	if err != nil {
		return
	}
	text, to, typ, nick := m.Body, from, stanza.ChatMessage, from.Localpart()
	if m.Room != "" {
		var ok bool
		if text, ok = chatbot.Addressed(m.Body, g.idents); !ok {
			return
		}
		to, typ, nick = from.Bare(), stanza.GroupChatMessage, from.Resourcepart()
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
	defer cancel()
	res := in.Interpret(ctx, nick, text)
	if err := c.session.Send(ctx, message(to, typ, res.Reply)); err != nil {
		g.log.Warn("jabber: cannot reply to a command", "transport", Transport, "to", to.String(), "err", g.scrub(err))
	}
	if len(res.Events) == 0 {
		return
	}
	payloads := make([][]byte, 0, len(res.Events))
	for _, e := range res.Events {
		b, err := json.Marshal(e)
		if err != nil {
			g.log.Error("jabber: cannot encode a chat bot event", "transport", Transport, "err", err)
			return
		}
		payloads = append(payloads, b)
	}
	if err := q.Push(ctx, payloads...); err != nil {
		g.log.Error("jabber: cannot queue the chat bot's events", "transport", Transport, "queue", g.procQ, "err", err)
	}
}

// filter turns a received stanza into a Message, or reports that it is not one
// for the chat bot: no body, an error, delayed (room history, offline
// storage), or the gateway's own message echoed by a room.
func (g *Gateway) filter(m incoming) (Message, bool) {
	if strings.TrimSpace(m.Body) == "" || m.Type == stanza.ErrorMessage || m.Delay != nil {
		return Message{}, false
	}
	in := Message{From: m.From.String(), Body: m.Body}
	if m.Type == stanza.GroupChatMessage {
		if m.From.Resourcepart() == g.alias || m.From.Resourcepart() == "" {
			return Message{}, false
		}
		in.Room = m.From.Bare().String()
	} else if m.From.Bare().Equal(g.me.Bare()) {
		return Message{}, false
	}
	return in, true
}

// Send delivers a's text to the room or person its address names. An address
// that is not a JID, and a template that cannot render a, are permanent
// failures; a lost connection is an error wrapping [gateway.ErrNotConnected].
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("jabber: %w", err)
	}
	to, err := jid.Parse(a.Address)
	if err != nil || a.Address == "" {
		return gateway.Permanent(errors.New("jabber: the medium address is not a valid JID"))
	}
	text, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, map[string]any{"alias": g.alias})
	if err != nil {
		return gateway.Permanent(fmt.Errorf("jabber: %w", err))
	}
	g.mu.Lock()
	c := g.conn
	g.mu.Unlock()
	if c == nil || !c.alive() {
		return fmt.Errorf("jabber: %w", gateway.ErrNotConnected)
	}
	typ := stanza.ChatMessage
	if c.rooms[to.Bare().String()] {
		typ, to = stanza.GroupChatMessage, to.Bare()
	}
	sctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	if err := c.session.Send(sctx, message(to, typ, text)); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("jabber: send: %w", ctx.Err())
		}
		go c.close()
		return fmt.Errorf("jabber: send: %w (%w)", gateway.ErrNotConnected, g.scrub(err))
	}
	return nil
}

// Close ends the connection, if any. The gateway may be started again.
func (g *Gateway) Close() error {
	g.mu.Lock()
	c := g.conn
	g.conn = nil
	g.gen++
	g.mu.Unlock()
	if c != nil {
		c.close()
	}
	return nil
}

// scrub replaces the password in err's text, should a library ever echo it.
func (g *Gateway) scrub(err error) error {
	if err == nil || g.password == "" || !strings.Contains(err.Error(), g.password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), g.password, "[redacted]"))
}

// isAuthFailure reports whether err is the server refusing the credentials: a
// SASL failure other than a temporary one. mellium keeps its SASL error type
// internal, so it is recognised by its package and its condition's name.
func isAuthFailure(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() != reflect.Struct || v.Type().PkgPath() != "mellium.im/xmpp/internal/saslerr" {
			continue
		}
		cond := v.FieldByName("Condition")
		if !cond.IsValid() || !cond.CanInterface() {
			return true
		}
		switch fmt.Sprint(cond.Interface()) {
		case "temporary-auth-failure", "aborted":
			return false
		}
		return true
	}
	return false
}

var (
	_ gateway.Gateway = (*Gateway)(nil)
	_ gateway.Starter = (*Gateway)(nil)
	_ gateway.Closer  = (*Gateway)(nil)
)
