package jabber

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/oobetet"
)

// The back-off between two attempts of a Room to connect.
const (
	roomMinBackoff = 500 * time.Millisecond
	roomMaxBackoff = 30 * time.Second
)

// roomBuffer is how many received messages a Room holds for its reader.
const roomBuffer = 256

// Room is the XMPP transport of the self-monitoring oobetet: an
// [oobetet.Room] over the jabber gateway's connection code. It joins cfg's
// rooms under the alias, delivers what is said in them (not its own messages
// echoed by a room, not room history) and says text in every room. Run keeps
// it connected, reconnecting with back-off and joining the rooms again after
// the connection is lost.
type Room struct {
	g     *Gateway
	msgs  chan oobetet.Message
	ready chan struct{} // closed on the first connection
	once  sync.Once
}

// NewRoom returns a Room, or an error listing every problem of cfg (the
// gateway's configuration: jabberid, password, alias, rooms, server, port,
// timeout, ca_file, insecure_skip_verify). At least one room is required.
func NewRoom(cfg Config, env gateway.Env) (*Room, error) {
	g, err := New(cfg, env)
	if len(cfg.Rooms) == 0 {
		err = errors.Join(err, errors.New("rooms: required: the rooms to watch"))
	}
	if err != nil {
		return nil, err
	}
	r := &Room{g: g, msgs: make(chan oobetet.Message, roomBuffer), ready: make(chan struct{})}
	g.HandleMessages(r.deliver)
	return r, nil
}

// deliver hands a room message to the reader, dropping it when the reader
// lags so far behind that the buffer is full (the session must not stall).
func (r *Room) deliver(m Message) {
	if m.Room == "" {
		return // a direct message
	}
	nick := m.From
	if from, err := jid.Parse(m.From); err == nil {
		nick = from.Resourcepart()
	}
	msg := oobetet.Message{Room: m.Room, From: nick, Body: m.Body, Self: nick == r.g.alias}
	select {
	case r.msgs <- msg:
	default:
		r.g.log.Warn("jabber: oobetet room message dropped: the reader lags behind", "room", m.Room)
	}
}

// Messages implements [oobetet.Room]. The channel is never closed.
func (r *Room) Messages() <-chan oobetet.Message { return r.msgs }

// Say implements [oobetet.Room]: it says text in every room, and returns an
// error wrapping [gateway.ErrNotConnected] when it is not connected.
func (r *Room) Say(ctx context.Context, text string) error {
	g := r.g
	g.mu.Lock()
	c := g.conn
	g.mu.Unlock()
	if c == nil || !c.alive() {
		return fmt.Errorf("jabber: %w", gateway.ErrNotConnected)
	}
	var errs []error
	for _, room := range g.rooms {
		sctx, cancel := context.WithTimeout(ctx, g.timeout)
		err := c.session.Send(sctx, groupchat(room, text))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("jabber: say: %w", ctx.Err())
			}
			go c.close()
			errs = append(errs, fmt.Errorf("jabber: say in %s: %w (%w)", room, gateway.ErrNotConnected, g.scrub(err)))
			break
		}
	}
	return errors.Join(errs...)
}

// Ready returns a channel closed once Run has first connected and joined the
// rooms.
func (r *Room) Ready() <-chan struct{} { return r.ready }

// Run connects, joins the rooms and keeps the connection up until ctx ends,
// when it disconnects and returns nil. Failures to connect, a refused login
// included, are logged and retried with back-off: the oobetet pages about the
// silence meanwhile.
func (r *Room) Run(ctx context.Context) error {
	g := r.g
	defer func() { _ = g.Close() }()
	backoff := roomMinBackoff
	for {
		err := g.Start(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			backoff = roomMinBackoff
			r.once.Do(func() { close(r.ready) })
			g.mu.Lock()
			c := g.conn
			g.mu.Unlock()
			if c != nil {
				select {
				case <-c.done:
				case <-ctx.Done():
					return nil
				}
			}
			g.log.Warn("jabber: oobetet connection lost, reconnecting", "jid", g.me.Bare().String())
		} else {
			level := "retrying"
			if gateway.IsPermanent(err) {
				level = "retrying; check the configuration"
			}
			g.log.Error("jabber: oobetet cannot connect", "err", err, "next", level, "in", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, roomMaxBackoff)
	}
}

var _ oobetet.Room = (*Room)(nil)
