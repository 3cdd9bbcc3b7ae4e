package flapper

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wait bounds every wait of these tests.
const wait = 5 * time.Second

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// flapper runs Run in the background until the test ends, and reports its
// changes on the returned channel (an address when up, nil when down).
func flapper(t *testing.T, addr string, freq time.Duration) <-chan net.Addr {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	changes := make(chan net.Addr, 16)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Addr: addr, Frequency: freq, OnChange: func(a net.Addr) { changes <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("Run did not return within %s of its context ending", wait)
		}
	})
	return changes
}

func next(t *testing.T, changes <-chan net.Addr, up bool) {
	t.Helper()
	select {
	case a := <-changes:
		if (a != nil) != up {
			t.Fatalf("flapper changed to up=%t, want up=%t", a != nil, up)
		}
	case <-time.After(wait):
		t.Fatalf("no change to up=%t within %s", up, wait)
	}
}

func dial(addr string) (net.Conn, error) {
	return net.DialTimeout("tcp", addr, time.Second)
}

func wantRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := dial(addr)
	if err == nil {
		conn.Close()
		t.Fatalf("connected to %s while the flapper is down", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s while down: %v, want connection refused", addr, err)
	}
}

// wantClosed checks that the flapper closes conn, having written nothing.
func wantClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(wait))
	b, err := io.ReadAll(conn)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reading from the flapper: %v, want end of input", err)
	}
	if len(b) > 0 {
		t.Errorf("the flapper wrote %q, want nothing", b)
	}
}

func TestUpAndDown(t *testing.T) {
	addr := freeAddr(t)
	changes := flapper(t, addr, 400*time.Millisecond)
	for cycle := range 2 {
		next(t, changes, true)
		conn, err := dial(addr)
		if err != nil {
			t.Fatalf("cycle %d: dial while up: %v", cycle, err)
		}
		if _, err := io.WriteString(conn, "hello\nstill here\n"); err != nil {
			t.Fatalf("cycle %d: write: %v", cycle, err)
		}
		next(t, changes, false)
		wantClosed(t, conn) // every client is closed when the flapper goes down
		conn.Close()
		wantRefused(t, addr)
	}
}

func TestClientQuits(t *testing.T) {
	for _, tc := range []struct {
		name, send string
	}{
		{"quit", "hello\nquit\n"},
		{"quit inside a line", "please quit now\n"},
		{"end of input", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			changes := flapper(t, addr, time.Hour)
			next(t, changes, true)
			conn, err := dial(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, tc.send)
			if tc.send == "" {
				conn.(*net.TCPConn).CloseWrite()
			}
			wantClosed(t, conn) // long before the up half ends
			// The flapper still accepts others.
			other, err := dial(addr)
			if err != nil {
				t.Fatalf("dial after a client left: %v", err)
			}
			other.Close()
		})
	}
}

// A client that keeps talking neither blocks the flapper nor gets an answer.
func TestChattyClient(t *testing.T) {
	addr := freeAddr(t)
	changes := flapper(t, addr, 300*time.Millisecond)
	next(t, changes, true)
	conn, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	written := make(chan struct{})
	go func() {
		defer close(written)
		w := bufio.NewWriter(conn)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.WriteString(strings.Repeat("x", 100) + "\n"); err != nil {
				return
			}
			if w.Flush() != nil {
				return
			}
		}
	}()
	next(t, changes, false)
	close(stop)
	<-written
	wantRefused(t, addr)
}

func TestStopsWhileUpAndDown(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stopAfter int // changes seen before stopping
	}{
		{"up", 1},
		{"down", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			changes := make(chan net.Addr, 4)
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, Options{Addr: addr, Frequency: 200 * time.Millisecond, OnChange: func(a net.Addr) { changes <- a }})
			}()
			var conn net.Conn
			for i := range tc.stopAfter {
				next(t, changes, i%2 == 0)
				if i == 0 {
					var err error
					if conn, err = dial(addr); err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
				}
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(wait):
				t.Fatalf("Run did not return within %s of its context ending", wait)
			}
			wantClosed(t, conn)
			wantRefused(t, addr)
		})
	}
}

func TestListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"port in use", Options{Addr: busy.Addr().String()}, "address already in use"},
		{"no address", Options{}, "no address"},
		{"bad address", Options{Addr: "127.0.0.1:99999"}, "invalid port"},
		{"negative frequency", Options{Addr: "127.0.0.1:0", Frequency: -time.Second}, "must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), wait)
			defer cancel()
			err := Run(ctx, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// fakeConn is a net.Conn with a given local address.
type fakeConn struct {
	net.Conn
	local net.Addr
}

func (c fakeConn) LocalAddr() net.Addr { return c.local }
func (c fakeConn) Close() error        { return nil }

func TestPrimaryIP(t *testing.T) {
	for _, tc := range []struct {
		name string
		dial func(network, addr string) (net.Conn, error)
		want string
	}{
		{"route", func(string, string) (net.Conn, error) {
			return fakeConn{local: &net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 40000}}, nil
		}, "192.0.2.7"},
		{"no route", func(string, string) (net.Conn, error) {
			return nil, errors.New("network is unreachable")
		}, "127.0.0.1"},
		{"unspecified", func(string, string) (net.Conn, error) {
			return fakeConn{local: &net.UDPAddr{IP: net.IPv4zero}}, nil
		}, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := primaryIP(tc.dial); got != tc.want {
				t.Errorf("primaryIP = %q, want %q", got, tc.want)
			}
		})
	}
}
