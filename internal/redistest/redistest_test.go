package redistest

import (
	"os"
	"strings"
	"testing"
)

func TestStartAnswersAndStops(t *testing.T) {
	s := Start(t, Config{})
	if got, err := s.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("PING = %q, %v; want PONG", got, err)
	}
	if got, err := s.Do("CONFIG", "GET", "appendonly"); err != nil || got != "appendonly\nno" {
		t.Errorf("CONFIG GET appendonly = %q, %v; want the array [appendonly no]", got, err)
	}
	s.Stop()
	if _, err := s.Do("PING"); err == nil {
		t.Errorf("PING after Stop succeeded, want an error")
	}
	s.Stop() // a second Stop is harmless
}

func TestRestartKeepsAppendOnlyData(t *testing.T) {
	s := Start(t, Config{AppendOnly: true})
	port := s.Port()
	if _, err := s.Do("SET", "kept", "yes"); err != nil {
		t.Fatalf("SET: %v", err)
	}
	s.Stop()
	s.Restart()
	if s.Port() != port {
		t.Errorf("port changed across Restart: %d, then %d", port, s.Port())
	}
	if got, err := s.Do("GET", "kept"); err != nil || got != "yes" {
		t.Errorf("GET after Restart = %q, %v; want %q", got, err, "yes")
	}
}

func TestExtraArgs(t *testing.T) {
	s := Start(t, Config{Args: []string{"--requirepass", "secret"}})
	if _, err := s.Do("GET", "x"); err == nil {
		t.Errorf("GET without AUTH succeeded on a server started with --requirepass")
	}
}

func TestMissingBinarySkips(t *testing.T) {
	var skipped bool
	t.Run("WithoutServer", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		t.Setenv(RequireServersEnv, "")
		t.Cleanup(func() { skipped = t.Skipped() })
		Lookup(t)
		t.Errorf("Lookup returned with %s missing from PATH", Binary)
	})
	if !skipped {
		t.Errorf("Lookup did not skip the test when %s is missing", Binary)
	}
	if os.Getenv("PATH") == "" {
		t.Errorf("PATH was not restored")
	}
}

func TestCluster(t *testing.T) {
	s := Start(t, Config{Cluster: true})
	info, err := s.Do("CLUSTER", "INFO")
	if err != nil || !strings.Contains(info, "cluster_state:ok") {
		t.Fatalf("CLUSTER INFO = %q, %v; want cluster_state:ok", info, err)
	}
	if _, err := s.Do("SET", "k", "v"); err != nil {
		t.Errorf("SET on the one-node cluster: %v", err)
	}
}

func TestSentinel(t *testing.T) {
	master := Start(t, Config{})
	sentinel := StartSentinel(t, "mymaster", master)
	if got, err := sentinel.Do("PING"); err != nil || got != "PONG" {
		t.Fatalf("Sentinel PING = %q, %v", got, err)
	}
	want := strings.Replace(master.Addr(), ":", "\n", 1)
	if got, err := sentinel.Do("SENTINEL", "get-master-addr-by-name", "mymaster"); err != nil || got != want {
		t.Errorf("Sentinel names the master %q, %v; want %q", got, err, want)
	}
}
