package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/x/flapjack/internal/redistest"
	redisstore "github.com/x/flapjack/store/redis"
)

func TestImport(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	dir := t.TempDir()
	cfg := redisConfig(t, srv, 5)
	good := writeFile(t, dir, "setup.yaml", goodSetup)
	bad := writeFile(t, dir, "bad.yaml", "checks:\n  - name: \"\"\n    colour: red\n")

	r := runFlapjack(t, "import", "--config", cfg, good)
	if r.code != 0 || r.stdout != "Imported 1 check and 1 contact (1 medium, 1 rule) from "+good+"\n" {
		t.Fatalf("flapjack import: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	st, err := redisstore.NewFromURL(t.Context(), srv.URL(5)+"?consumer=test-reader")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Check(t.Context(), "web-01:HTTP")
	if err != nil || !c.Enabled || strings.Join(c.Tags, ",") != "web" {
		t.Errorf("imported check %+v, %v", c, err)
	}
	routing, err := st.Routing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if routing.Contacts["ops"] == nil || routing.Media["ops_log"] == nil || len(routing.Rules) != 1 {
		t.Errorf("imported routing %+v", routing)
	}
	// Importing again changes nothing.
	if r := runFlapjack(t, "import", "--config", cfg, good); r.code != 0 {
		t.Errorf("second import: exit %d, stderr %q", r.code, r.stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"import", "--config", cfg, bad}, 2, []string{bad + ":3: unknown key \"colour\""}},
		{[]string{"import", bad}, 2, []string{"unknown key"}}, // the file is checked before the store
		{[]string{"import", good}, 2, []string{"import: the embedded default configuration has no [redis] table"}},
		{[]string{"import", "--config", cfg, dir + "/nope.yaml"}, 2, []string{"no such file"}},
		{[]string{"import"}, 1, []string{"accepts 1 arg(s), received 0"}},
	} {
		r := runFlapjack(t, tc.args...)
		if r.code != tc.code || !containsAll(r.stderr, tc.want...) {
			t.Errorf("flapjack %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.want)
		}
	}
}

func TestImportRedisUnreachable(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "flapjack.toml", "[redis]\nurl = \"redis://:s3cret@127.0.0.1:"+strconv.Itoa(freePort(t))+"/0?dial_timeout=1s\"\n")
	good := writeFile(t, dir, "setup.yaml", goodSetup)
	r := runFlapjack(t, "import", "--config", cfg, good)
	if r.code != 2 || !strings.Contains(r.stderr, "cannot use redis://:xxxxx@127.0.0.1:") || strings.Contains(r.stderr, "s3cret") {
		t.Errorf("import to an unreachable Redis: exit %d, stderr %q; want exit 2, naming the server without its password", r.code, r.stderr)
	}
}
