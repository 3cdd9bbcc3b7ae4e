package nagiostest_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/internal/nagiostest"
)

// objects is a host on the loopback address with one TCP check, using the
// stock templates.
const objects = `define command {
    command_name    check_port
    command_line    $USER1$/check_tcp -H $HOSTADDRESS$ -p $ARG1$
}

define host {
    use                 generic-host
    host_name           loopback
    address             127.0.0.1
    max_check_attempts  1
}

define service {
    use                     generic-service   ; stock
    host_name               loopback
    service_description     Port
    check_command           check_port!1      ; replaced by the test
    check_interval          1
    retry_interval          1
    max_check_attempts      1
}
`

// TestStartChecksAndRestarts runs a TCP check every second against a
// listener, its results written to a performance data file, and checks that
// Stop stops the checks and Restart resumes them.
func TestStartChecksAndRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: starts Nagios")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	obj, err := nagiostest.SetDirective(objects, "service", "check_command", fmt.Sprintf("check_port!%d", port))
	if err != nil {
		t.Fatal(err)
	}
	perf := filepath.Join(t.TempDir(), "perfdata")
	srv := nagiostest.Start(t, nagiostest.Config{
		Main: `process_performance_data=1
service_perfdata_file=` + perf + `
service_perfdata_file_mode=a
service_perfdata_file_template=$HOSTNAME$\t$SERVICEDESC$\t$SERVICESTATE$\t$SERVICEOUTPUT$`,
		Objects: obj,
		Plugins: []string{"check_tcp"},
	})
	if !srv.Running() {
		t.Fatal("not running after Start")
	}

	// results returns the check results written so far.
	results := func() []string {
		b, _ := os.ReadFile(perf)
		return strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' })
	}
	// waitResults waits for more than n results, and checks the last.
	waitResults := func(n int) int {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			r := results()
			if len(r) > n {
				if f := strings.Split(r[len(r)-1], "\t"); len(f) != 4 || f[0] != "loopback" || f[1] != "Port" || f[2] != "OK" || !strings.HasPrefix(f[3], "TCP OK") {
					t.Errorf("check result %q, want loopback, Port, OK and TCP OK", r[len(r)-1])
				}
				return len(r)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no check result after the %d within 15 s\n%s", n, srv.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	n := waitResults(0)
	n = waitResults(n) // checks repeat

	srv.Stop()
	if srv.Running() {
		t.Fatal("running after Stop")
	}
	if !strings.Contains(srv.Log(), "Successfully shutdown") {
		t.Errorf("no clean shutdown logged:\n%s", srv.Log())
	}
	n = len(results())
	time.Sleep(2 * time.Second)
	if m := len(results()); m != n {
		t.Errorf("%d check results after Stop, want none", m-n)
	}
	srv.Stop() // a second Stop is harmless

	srv.Restart()
	waitResults(n)
}

// TestBadObjectsFail: a configuration Nagios refuses fails the test, with
// Nagios' reasons.
func TestBadObjectsFail(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: runs Nagios")
	}
	nagiostest.Lookup(t)
	ft := &fatalT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nagiostest.Start(ft, nagiostest.Config{Objects: "define service {\n    host_name nowhere\n    service_description Port\n}\n"})
	}()
	<-done
	if !ft.failed || !strings.Contains(ft.msg, "nowhere") {
		t.Errorf("failed %v with %q; want a failure showing Nagios' complaint", ft.failed, ft.msg)
	}
}

// fatalT records a Fatalf and ends the goroutine calling it.
type fatalT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fatalT) Helper() {}
func (f *fatalT) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestDirectives(t *testing.T) {
	if v, ok := nagiostest.Directive(objects, "service", "check_command"); !ok || v != "check_port!1" {
		t.Errorf("Directive(check_command) = %q, %v", v, ok)
	}
	if v, ok := nagiostest.Directive(objects, "host", "address"); !ok || v != "127.0.0.1" {
		t.Errorf("Directive(address) = %q, %v", v, ok)
	}
	if _, ok := nagiostest.Directive(objects, "service", "notes"); ok {
		t.Error("Directive found an absent directive")
	}
	got, err := nagiostest.SetDirective(objects, "service", "check_interval", "0.5")
	if err != nil {
		t.Fatal(err)
	}
	got, err = nagiostest.SetDirective(got, "service", "notes", "added")
	if err != nil {
		t.Fatal(err)
	}
	for directive, want := range map[string]string{"check_interval": "0.5", "notes": "added", "retry_interval": "1", "check_command": "check_port!1"} {
		if v, _ := nagiostest.Directive(got, "service", directive); v != want {
			t.Errorf("after SetDirective, %s = %q, want %q:\n%s", directive, v, want, got)
		}
	}
	if v, _ := nagiostest.Directive(got, "host", "max_check_attempts"); v != "1" {
		t.Errorf("SetDirective changed the host:\n%s", got)
	}
	if _, err := nagiostest.SetDirective(objects, "hostgroup", "members", "x"); err == nil {
		t.Error("SetDirective on a missing kind succeeded")
	}
}
