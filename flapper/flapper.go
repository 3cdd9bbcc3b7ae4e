// Package flapper is the target of Flapjack's end-to-end self check: a TCP
// service that is up for half of each cycle and down for the other half.
//
// Point a monitoring check (Nagios' check_tcp every 10 s, say) at it and route
// its alerts to a chat room: a problem and a recovery should arrive every
// cycle. The oobetet watches that room and raises the alarm when they stop,
// which means some part of the monitoring chain is broken.
//
// While up, the flapper accepts any number of clients and reads lines from
// them, writing nothing back; it closes a client at end of input or on a line
// containing "quit". When the up half ends it closes the listener and every
// client, and nothing listens on the port until the next cycle.
package flapper

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// DefaultFrequency is the default length of a whole cycle: 60 s up, 60 s down.
const DefaultFrequency = 120 * time.Second

// DefaultPort is the default port to listen on.
const DefaultPort = 12345

// Options says where and how fast to flap.
type Options struct {
	// Addr is the host:port to listen on while up. Required.
	Addr string
	// Frequency is the length of a whole cycle: up for Frequency/2, then down
	// for the rest. Default DefaultFrequency.
	Frequency time.Duration
	// Logger receives a line at every change. Default: discard.
	Logger *slog.Logger
	// OnChange, when set, is called at every change: with the listener's
	// address when the flapper comes up, with nil when it goes down.
	OnChange func(up net.Addr)
}

// Run flaps until ctx ends, then closes everything and returns nil. It returns
// an error at once when the first attempt to listen fails (a wrong address, a
// port in use); a later failure is logged and that cycle stays down.
func Run(ctx context.Context, opts Options) error {
	if opts.Addr == "" {
		return errors.New("flapper: no address to listen on")
	}
	if opts.Frequency == 0 {
		opts.Frequency = DefaultFrequency
	}
	if opts.Frequency < 0 {
		return fmt.Errorf("flapper: frequency must be positive, not %s", opts.Frequency)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	notify := opts.OnChange
	if notify == nil {
		notify = func(net.Addr) {}
	}
	up := opts.Frequency / 2
	down := opts.Frequency - up
	var lc net.ListenConfig
	for first := true; ; first = false {
		ln, err := lc.Listen(ctx, "tcp", opts.Addr)
		switch {
		case ctx.Err() != nil:
			if ln != nil {
				ln.Close()
			}
			return nil
		case err != nil && first:
			return fmt.Errorf("flapper: %w", err)
		case err != nil:
			log.Warn("flapper cannot listen; staying down this cycle", "address", opts.Addr, "err", err)
		default:
			log.Info("flapper up", "address", ln.Addr().String(), "for", up.String())
			notify(ln.Addr())
			serve(ctx, ln, up)
			log.Info("flapper down", "address", opts.Addr, "for", down.String())
			notify(nil)
		}
		if !sleep(ctx, down) {
			return nil
		}
	}
}

// serve accepts and reads clients on ln for d or until ctx ends, then closes ln
// and every client, and returns once every goroutine it started has ended.
func serve(ctx context.Context, ln net.Listener, d time.Duration) {
	var (
		mu      sync.Mutex
		clients = map[net.Conn]struct{}{}
		closed  bool
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed below; nothing else ends a TCP listener
			}
			mu.Lock()
			if closed {
				mu.Unlock()
				conn.Close()
				return
			}
			clients[conn] = struct{}{}
			wg.Go(func() {
				read(conn)
				mu.Lock()
				delete(clients, conn)
				mu.Unlock()
				conn.Close()
			})
			mu.Unlock()
		}
	})
	sleep(ctx, d)
	mu.Lock()
	closed = true
	ln.Close()
	for c := range clients {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
}

// read consumes lines until end of input, an error, or a line containing "quit".
func read(conn net.Conn) {
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "quit") {
			return
		}
	}
}

// sleep waits for d and reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// PrimaryIP is the address this host would use to reach the internet: the
// local end of a UDP socket "connected" to a public address. Connecting a UDP
// socket only picks a route; nothing is sent. Without a route it is 127.0.0.1.
func PrimaryIP() string {
	return primaryIP(net.Dial)
}

func primaryIP(dial func(network, addr string) (net.Conn, error)) string {
	const fallback = "127.0.0.1"
	conn, err := dial("udp", "8.8.8.8:53")
	if err != nil {
		return fallback
	}
	defer conn.Close()
	a, ok := conn.LocalAddr().(*net.UDPAddr)
	if !ok || a.IP == nil || a.IP.IsUnspecified() {
		return fallback
	}
	return a.IP.String()
}
