// Package nagiostest starts a real Nagios Core 4 for tests: in the foreground,
// with a main configuration it writes into a temporary directory (log, status,
// spool, query socket and every other path of its own, external commands off,
// notifications off, intervals in seconds), the object definitions the test
// gives, and stopped when the test ends.
//
// Where nagios4 (or a monitoring plugin the test needs) is not installed the
// test is skipped with a message saying so, unless the environment variable
// FLAPJACK_TEST_REQUIRE_SERVERS is non-empty (as in CI), in which case it
// fails: a missing server must not pass silently.
//
// Nagios drops its privileges to nagios_user and nagios_group only when it
// runs as root; the configuration names the test's own user and group, so
// that it works as root (where Nagios then stays root and can write the test's
// directory) and as any other user (where Nagios ignores them).
//
// The objects may use the templates and objects of Nagios' sample
// configuration, which the package defines as a stock installation does: the
// host template generic-host, the service template generic-service, the time
// period 24x7 and the contact group admins (whose contact is notified by a
// command that does nothing). $USER1$ is the directory of the monitoring
// plugins, as in a stock resource.cfg.
package nagiostest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/x/flapjack/internal/servertest"
)

// RequireServersEnv names the environment variable that turns a missing server
// binary from a skip into a failure.
const RequireServersEnv = servertest.RequireServersEnv

// Binary is the server program: Debian's name for Nagios Core 4.
const Binary = "nagios4"

// The places looked in besides PATH: /usr/sbin is not in every user's PATH,
// and a Nagios built from source lives under /usr/local/nagios.
var (
	binaryPaths = []string{"/usr/sbin/nagios4", "/usr/local/nagios/bin/nagios"}
	pluginDirs  = []string{"/usr/lib/nagios/plugins", "/usr/lib64/nagios/plugins", "/usr/local/nagios/libexec"}
)

// startTimeout bounds how long Nagios may take to start, and to exit once
// asked to.
const startTimeout = 15 * time.Second

// Config says how to start Nagios.
type Config struct {
	// Main holds lines of the main configuration (nagios.cfg): "name=value",
	// blank lines and "#" comments. They come after the package's settings; a
	// name set here replaces the package's setting of it, except cfg_file,
	// cfg_dir and broker_module, which add to them.
	Main string
	// Objects is object configuration: the "define" blocks of the hosts,
	// services and commands to check.
	Objects string
	// Plugins names the monitoring plugins the objects run, such as
	// "check_tcp": the test is skipped (or fails) when one is missing, and
	// $USER1$ is their directory.
	Plugins []string
}

// Server is a running Nagios. Its methods may be called from the test's
// goroutine only.
type Server struct {
	t    testing.TB
	path string
	dir  string
	cfg  string // the main configuration file

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start writes the configuration into a fresh temporary directory, checks it
// (nagios4 -v), starts Nagios, waits until it is up, and stops it when t ends.
// When t has failed by then, the end of Nagios' log is logged.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	path := Lookup(t)
	pluginDir := ""
	for _, name := range cfg.Plugins {
		dir := filepath.Dir(Plugin(t, name))
		if pluginDir != "" && dir != pluginDir {
			t.Fatalf("nagiostest: the plugins %v are in different directories", cfg.Plugins)
		}
		pluginDir = dir
	}
	if pluginDir == "" {
		pluginDir = pluginDirs[0]
		for _, d := range pluginDirs {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				pluginDir = d
				break
			}
		}
	}
	s := &Server{t: t, path: path, dir: t.TempDir()}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("nagiostest: the end of Nagios' log (%s):\n%s", s.dir, s.tail(8000))
		}
	})
	if err := s.writeConfig(cfg, pluginDir); err != nil {
		t.Fatalf("nagiostest: write the configuration: %v", err)
	}
	if out, err := exec.Command(path, "-v", s.cfg).CombinedOutput(); err != nil {
		t.Fatalf("nagiostest: %s -v %s: %v\n%s", path, s.cfg, err, out)
	}
	if err := s.start(); err != nil {
		t.Fatalf("nagiostest: %v", err)
	}
	return s
}

// Lookup returns the path of nagios4, or skips (or fails, see the package
// doc) the test when it is not installed.
func Lookup(t testing.TB) string {
	t.Helper()
	for _, name := range []string{Binary, "nagios"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	for _, p := range binaryPaths {
		if isExecutable(p) {
			return p
		}
	}
	servertest.Missing(t, fmt.Sprintf("%s (Nagios Core 4) in PATH or %v", Binary, binaryPaths), "install the nagios4-core package")
	return ""
}

// Plugin returns the path of the monitoring plugin name, such as
// "check_tcp", or skips (or fails) the test when it is not installed.
func Plugin(t testing.TB, name string) string {
	t.Helper()
	for _, d := range pluginDirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	servertest.Missing(t, fmt.Sprintf("the monitoring plugin %s in %v or PATH", name, pluginDirs), "install the monitoring-plugins-basic package")
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Dir is Nagios' directory: configuration, log, status and spool.
func (s *Server) Dir() string { return s.dir }

// ConfigFile is the main configuration file.
func (s *Server) ConfigFile() string { return s.cfg }

// Log returns what Nagios logged to its log file so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "nagios.log"))
	return string(b)
}

// Running reports whether Nagios runs.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Stop asks Nagios to stop (SIGTERM) and waits for it to exit, killing it and
// its workers when it takes too long. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	// Nagios leads its own process group: its workers and their checks.
	if servertest.Terminate(s.cmd, s.done, startTimeout, true) {
		s.t.Logf("nagiostest: %s did not exit within %s of SIGTERM; killed it", Binary, startTimeout)
	}
	s.cmd = nil
}

// Restart stops Nagios, if it runs, and starts it again with the same
// configuration. It keeps no state across: retention is off.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("nagiostest: restart: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("nagios already running")
	}
	sock := s.querySocket()
	_ = os.Remove(sock)
	out, err := os.OpenFile(filepath.Join(s.dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// In the foreground (no -d) Nagios stays the test's child.
	cmd := exec.Command(s.path, s.cfg)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", s.path, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(done)
	}()
	s.cmd, s.done = cmd, done

	// Nagios is up once its query handler answers on the socket.
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("%s exited at start-up: %s", Binary, s.tail(2000))
		default:
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			s.cmd = nil
			return fmt.Errorf("%s was not up within %s: %s", Binary, startTimeout, s.tail(2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tail is the end of Nagios' console output and log, for messages.
func (s *Server) tail(n int) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "console.log"))
	text := "console:\n" + string(b) + "\nlog:\n" + s.Log()
	if len(text) > n {
		text = "…" + text[len(text)-n:]
	}
	return strings.TrimSpace(text)
}

// querySocket is the query handler's socket: in the directory unless that
// makes its path longer than a socket address takes.
func (s *Server) querySocket() string {
	p := filepath.Join(s.dir, "nagios.qh")
	if len(p) < 100 {
		return p
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("nagiostest-%d.qh", os.Getpid()))
}

// repeatable are the main configuration's names that may be given more than
// once, each adding to the others.
var repeatable = []string{"cfg_file", "cfg_dir", "broker_module"}

func (s *Server) writeConfig(cfg Config, pluginDir string) error {
	for _, d := range []string{"checkresults", "tmp"} {
		if err := os.Mkdir(filepath.Join(s.dir, d), 0o755); err != nil {
			return err
		}
	}
	u, g := runAs()
	in := func(name string) string { return filepath.Join(s.dir, name) }
	base := [][2]string{
		{"log_file", in("nagios.log")},
		{"cfg_file", in("stock.cfg")},
		{"cfg_file", in("objects.cfg")},
		{"resource_file", in("resource.cfg")},
		{"object_cache_file", in("objects.cache")},
		{"precached_object_file", in("objects.precache")},
		{"status_file", in("status.dat")},
		{"state_retention_file", in("retention.dat")},
		{"retain_state_information", "0"},
		{"lock_file", in("nagios.lock")},
		{"temp_file", in("nagios.tmp")},
		{"temp_path", in("tmp")},
		{"check_result_path", in("checkresults")},
		{"debug_file", in("nagios.debug")},
		{"query_socket", s.querySocket()},
		{"command_file", in("nagios.cmd")},
		{"check_external_commands", "0"},
		{"nagios_user", u},
		{"nagios_group", g},
		{"use_syslog", "0"},
		{"check_for_updates", "0"},
		{"enable_notifications", "0"},
		{"enable_event_handlers", "0"},
		{"interval_length", "1"},
		{"status_update_interval", "1"},
		{"check_result_reaper_frequency", "1"},
		{"service_inter_check_delay_method", "n"},
		{"host_inter_check_delay_method", "n"},
		{"illegal_object_name_chars", "`~!$%^&*|'\"<>?,()="},
		{"illegal_macro_output_chars", "`~$&|'\"<>"},
	}
	set := map[string]bool{}
	for _, line := range strings.Split(cfg.Main, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("main configuration line %q is not name=value", line)
		}
		set[strings.TrimSpace(name)] = true
	}
	var b strings.Builder
	b.WriteString("# Written by nagiostest.\n")
	for _, kv := range base {
		if set[kv[0]] && !slices.Contains(repeatable, kv[0]) {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	b.WriteString("\n# The test's settings.\n")
	b.WriteString(cfg.Main)
	b.WriteString("\n")
	files := map[string]string{
		"nagios.cfg":   b.String(),
		"stock.cfg":    stockObjects,
		"objects.cfg":  cfg.Objects,
		"resource.cfg": "$USER1$=" + pluginDir + "\n",
	}
	for name, text := range files {
		if err := os.WriteFile(in(name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	s.cfg = in("nagios.cfg")
	return nil
}

// runAs returns the user and group names Nagios is to run as: the test's own,
// which Nagios takes for its own when it runs as root, and ignores otherwise.
func runAs() (string, string) {
	uname, gname := "root", "root"
	if os.Geteuid() != 0 {
		uname, gname = fmt.Sprint(os.Geteuid()), fmt.Sprint(os.Getegid())
		if u, err := user.LookupId(uname); err == nil {
			uname = u.Username
		}
	}
	if g, err := user.LookupGroupId(fmt.Sprint(os.Getegid())); err == nil {
		gname = g.Name
	}
	return uname, gname
}

// stockObjects are the objects of Nagios' sample configuration that object
// definitions commonly rely on.
const stockObjects = `# The objects of a stock Nagios configuration that others rely on, written by
# nagiostest.

define timeperiod {
    timeperiod_name     24x7
    alias               24 Hours A Day, 7 Days A Week
    sunday              00:00-24:00
    monday              00:00-24:00
    tuesday             00:00-24:00
    wednesday           00:00-24:00
    thursday            00:00-24:00
    friday              00:00-24:00
    saturday            00:00-24:00
}

define command {
    command_name        nagiostest-notify
    command_line        /bin/true
}

define contact {
    contact_name                    nagiosadmin
    alias                           Nagios Admin
    service_notification_period     24x7
    host_notification_period        24x7
    service_notification_options    n
    host_notification_options       n
    service_notification_commands   nagiostest-notify
    host_notification_commands      nagiostest-notify
}

define contactgroup {
    contactgroup_name   admins
    alias               Nagios Administrators
    members             nagiosadmin
}

define host {
    name                            generic-host
    notifications_enabled           1
    event_handler_enabled           1
    flap_detection_enabled          1
    process_perf_data               1
    retain_status_information       1
    retain_nonstatus_information    1
    notification_period             24x7
    register                        0
}

define service {
    name                            generic-service
    active_checks_enabled           1
    passive_checks_enabled          1
    parallelize_check               1
    obsess_over_service             1
    check_freshness                 0
    notifications_enabled           1
    event_handler_enabled           1
    flap_detection_enabled          1
    process_perf_data               1
    retain_status_information       1
    retain_nonstatus_information    1
    is_volatile                     0
    check_period                    24x7
    max_check_attempts              3
    check_interval                  10
    retry_interval                  2
    contact_groups                  admins
    notification_options            w,u,c,r
    notification_interval           60
    notification_period             24x7
    register                        0
}
`
