// Package redistest starts a real redis-server for tests: on a free loopback port,
// with its own temporary directory, stopped when the test ends.
//
// Where redis-server is not installed the test is skipped with a message saying
// so, unless the environment variable FLAPJACK_TEST_REQUIRE_SERVERS is non-empty
// (as in CI), in which case it fails: a missing server must not pass silently.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/x/flapjack/internal/servertest"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireServersEnv names the environment variable that turns a missing server
// binary from a skip into a failure.
const RequireServersEnv = servertest.RequireServersEnv

// Binary is the server program looked up in PATH.
const Binary = "redis-server"

// startTimeout bounds how long a server may take to answer PING.
const startTimeout = 10 * time.Second

// Config says how to start a server. The zero value is a plain server that keeps
// nothing on disk.
type Config struct {
	// AppendOnly turns on the append-only file, so that what the server
	// acknowledged survives a stop and a start. Default false.
	AppendOnly bool
	// Cluster starts a one-node Redis Cluster holding every hash slot, for
	// code that must work with cluster clients. Default false.
	Cluster bool
	// Args are further command-line arguments, such as "--requirepass", "secret".
	Args []string

	// sentinelConf, set by StartSentinel, runs a Sentinel with this
	// configuration file instead of a server.
	sentinelConf string
}

// Server is a running redis-server. Its methods may be called from the test's
// goroutine only.
type Server struct {
	t    testing.TB
	cfg  Config
	port int
	dir  string
	path string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts a server on a free 127.0.0.1 port with a fresh temporary
// directory, waits until it answers PING, and stops it when t ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	path := Lookup(t)
	s := &Server{t: t, cfg: cfg, dir: t.TempDir(), path: path}
	t.Cleanup(s.stop)
	// Another process may take the free port between our probe and the server's
	// bind; try a few ports before giving up.
	var err error
	for range 3 {
		s.port, err = freePort()
		if err != nil {
			t.Fatalf("redistest: find a free port: %v", err)
		}
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("redistest: %v", err)
	return nil
}

// StartSentinel starts a Sentinel watching master under masterName, and waits
// until it names the master's address.
func StartSentinel(t testing.TB, masterName string, master *Server) *Server {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	host, port, _ := net.SplitHostPort(master.Addr())
	text := fmt.Sprintf("sentinel monitor %s %s %s 1\n", masterName, host, port)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatalf("redistest: write %s: %v", conf, err)
	}
	s := Start(t, Config{sentinelConf: conf})
	deadline := time.Now().Add(startTimeout)
	for {
		if addr, err := s.command("SENTINEL", "get-master-addr-by-name", masterName); err == nil && addr != "" {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: Sentinel does not know master %q", masterName)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Lookup returns the path of redis-server, or skips (or fails, see the package
// doc) the test when it is not installed.
func Lookup(t testing.TB) string {
	t.Helper()
	return servertest.LookPath(t, "install the redis-server package", Binary)
}

// Addr is the server's "host:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port is the server's TCP port; it stays the same across Stop and Restart.
func (s *Server) Port() int { return s.port }

// Dir is the server's working directory, where it keeps its files.
func (s *Server) Dir() string { return s.dir }

// URL is a redis:// URL for database db of the server.
func (s *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", s.Addr(), db) }

// Stop shuts the server down cleanly (SHUTDOWN, so the append-only file is
// flushed) and waits for it to exit.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	if _, err := s.command("SHUTDOWN"); err != nil && !isClosed(err) {
		s.t.Logf("redistest: SHUTDOWN: %v; killing the server", err)
		s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
	case <-time.After(startTimeout):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart starts the server again after Stop, on the same port and directory.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// Do sends one command and returns the server's reply, for tests that need a
// quick FLUSHALL or CONFIG SET without a client library. The elements of an
// array reply are joined by newlines; an error reply is a ServerError.
func (s *Server) Do(args ...string) (string, error) { return s.command(args...) }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("server already running")
	}
	appendonly := "no"
	if s.cfg.AppendOnly {
		appendonly = "yes"
	}
	var args []string
	if s.cfg.sentinelConf != "" {
		args = append(args, s.cfg.sentinelConf, "--sentinel")
	}
	if s.cfg.Cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	}
	args = append(args,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", appendonly,
		"--daemonize", "no",
		"--logfile", "")
	args = append(args, s.cfg.Args...)
	log, err := os.OpenFile(s.dir+"/server.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.path, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", s.path, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		log.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done

	deadline := time.Now().Add(startTimeout)
	for {
		// Any reply will do, a server started with a password answers NOAUTH,
		// but one still loading its data is not ready.
		_, err := s.command("PING")
		var se ServerError
		if err == nil || errors.As(err, &se) && !strings.HasPrefix(string(se), "LOADING") {
			if s.cfg.Cluster {
				return s.assignSlots(deadline)
			}
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("%s on port %d exited at start-up: %s", Binary, s.port, s.tail())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			s.cmd = nil
			return fmt.Errorf("%s on port %d did not answer PING within %s (last error %v): %s", Binary, s.port, startTimeout, err, s.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assignSlots gives a fresh one-node cluster every slot, and waits until the
// cluster reports itself ready. A restarted node keeps its slots in nodes.conf.
func (s *Server) assignSlots(deadline time.Time) error {
	if _, err := s.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383"); err != nil && !strings.Contains(err.Error(), "already busy") {
		return fmt.Errorf("assign cluster slots: %w", err)
	}
	for {
		info, err := s.command("CLUSTER", "INFO")
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster on port %d not ready within %s: %v %q", s.port, startTimeout, err, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop is the cleanup: it kills whatever is still running, without waiting for
// a clean shutdown since the data no longer matters.
func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// tail is the end of the server's log, for error messages.
func (s *Server) tail() string {
	b, err := os.ReadFile(s.dir + "/server.log")
	if err != nil {
		return "(no log)"
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return strings.TrimSpace(string(b))
}

// command speaks just enough RESP for PING, SHUTDOWN and simple commands.
func (s *Server) command(args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(conn))
}

// readReply reads one RESP2 reply; an array's elements are joined by newlines.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", ServerError(line[1:])
	case '$', '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad reply %q", line)
		}
		if n < 0 {
			return "", nil
		}
		if line[0] == '*' {
			elems := make([]string, n)
			for i := range elems {
				if elems[i], err = readReply(r); err != nil {
					return "", err
				}
			}
			return strings.Join(elems, "\n"), nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unsupported reply %q", line)
}

// isClosed reports the error of a server that closed the connection instead of
// answering, as a successful SHUTDOWN does.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// ServerError is an error reply of the server, as Do returns it.
type ServerError string

func (e ServerError) Error() string { return string(e) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
