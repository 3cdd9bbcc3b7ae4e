package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// window is a maintenance from start to end, relative to mnow.
func maintenanceWindow(id string, start, end time.Duration, reason string) flapjack.Maintenance {
	return flapjack.Maintenance{ID: id, Start: mnow.Add(start), End: mnow.Add(end), Summary: reason}
}

// maintenanceChecks are the checks the maintenance tests work on:
//
//	web-1:http (critical)  s-past: over an hour ago; s-now: under way; s-next: tomorrow
//	                        u-now: an acknowledgement under way; u-past: over
//	web-2:http (ok)         s-web2: under way, 2 hours long
//	db-1:disk  (ok)         s-db: next week, 1 day long
func maintenanceChecks(t *testing.T) *memory.Store {
	t.Helper()
	h := time.Hour
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	for _, c := range []flapjack.Check{{
		Name: "web-1:http", Condition: flapjack.Critical,
		ScheduledMaintenances: []flapjack.Maintenance{
			maintenanceWindow("s-next", 24*h, 26*h, "kernel upgrade"),
			maintenanceWindow("s-past", -3*h, -2*h, "deploy"),
			maintenanceWindow("s-now", -h, h, "deploy"),
		},
		UnscheduledMaintenances: []flapjack.Maintenance{
			maintenanceWindow("u-past", -5*h, -4*h, "ack"),
			maintenanceWindow("u-now", -10*time.Minute, 4*h-10*time.Minute, "looking into it"),
		},
	}, {
		Name: "web-2:http", Condition: flapjack.OK,
		ScheduledMaintenances: []flapjack.Maintenance{maintenanceWindow("s-web2", -30*time.Minute, 90*time.Minute, "deploy")},
	}, {
		Name: "db-1:disk", Condition: flapjack.OK,
		ScheduledMaintenances: []flapjack.Maintenance{maintenanceWindow("s-db", 7*24*h, 8*24*h, "new disks")},
	}} {
		if _, err := st.UpdateCheck(t.Context(), c.Name, true, func(u *store.CheckUpdate) error {
			u.Check.Condition = c.Condition
			u.Check.ScheduledMaintenances = c.ScheduledMaintenances
			u.Check.UnscheduledMaintenances = c.UnscheduledMaintenances
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func rowIDs(rows []maintenanceRow) []string {
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

func TestMaintenanceSelect(t *testing.T) {
	st := maintenanceChecks(t)
	checks, err := st.QueryChecks(t.Context(), store.CheckQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    maintenanceQuery
		want []string
	}{
		{"every scheduled one, by check then start", maintenanceQuery{}, []string{"s-db", "s-past", "s-now", "s-next", "s-web2"}},
		{"unscheduled", maintenanceQuery{kind: "unscheduled"}, []string{"u-past", "u-now"}},
		{"check", maintenanceQuery{check: "^web-"}, []string{"s-past", "s-now", "s-next", "s-web2"}},
		{"reason", maintenanceQuery{reason: "(?i)^DEPLOY$"}, []string{"s-past", "s-now", "s-web2"}},
		{"started more than 45 minutes ago", maintenanceQuery{start: "more than 45 minutes ago"}, []string{"s-past", "s-now"}},
		{"starting after now", maintenanceQuery{start: "after now"}, []string{"s-db", "s-next"}},
		{"starting tomorrow", maintenanceQuery{start: "on tomorrow"}, []string{"s-next"}},
		{"finishing less than 2 hours from now", maintenanceQuery{finish: "less than 2 hours"}, []string{"s-now", "s-web2"}},
		{"finished", maintenanceQuery{finish: "before now"}, []string{"s-past"}},
		{"lasting 2 hours", maintenanceQuery{duration: "equal to 2 hours"}, []string{"s-now", "s-next", "s-web2"}},
		{"lasting between 1 and 3 hours", maintenanceQuery{duration: "between 1 and 3 hours"}, []string{"s-past", "s-now", "s-next", "s-web2"}},
		{"of critical checks", maintenanceQuery{state: "CRITICAL"}, []string{"s-past", "s-now", "s-next"}},
		{"all filters", maintenanceQuery{check: "web", reason: "deploy", start: "before now", finish: "after now", duration: "more than 1 hour", state: "ok"}, []string{"s-web2"}},
		{"none", maintenanceQuery{check: "^mail"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.q.kind == "" {
				tc.q.kind = "scheduled"
			}
			sel, err := tc.q.compile(mnow)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowIDs(sel.selectFrom(checks)); !slices.Equal(got, tc.want) {
				t.Errorf("selected %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMaintenanceQueryErrors(t *testing.T) {
	q := maintenanceQuery{check: "(", reason: "[", start: "soon", finish: "later", duration: "long", state: "sad", kind: "planned"}
	_, err := q.compile(mnow)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("compile = %v, want a usage error (exit status 2)", err)
	}
	for _, want := range []string{"--type \"planned\"", "--check:", "--reason:", "--start:", "--finish:", "--duration:", "--state:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q:\n%v", want, err)
		}
	}
}

func TestMaintenanceTable(t *testing.T) {
	var b bytes.Buffer
	writeMaintenances(&b, []maintenanceRow{
		{check: "web-1:http", Maintenance: maintenanceWindow("a", -time.Hour, time.Hour, "deploy")},
		{check: "db-1:disk", Maintenance: maintenanceWindow("b", 0, 90*time.Minute+400*time.Millisecond, "disks — all of them")},
	}, time.UTC)
	want := `+------------+---------------------------+--------------+---------------------+---------------------------+
| Check      | Start                     | Duration (s) | Reason              | End                       |
+------------+---------------------------+--------------+---------------------+---------------------------+
| web-1:http | 2024-05-15 11:30:00 +0000 | 7200         | deploy              | 2024-05-15 13:30:00 +0000 |
| db-1:disk  | 2024-05-15 12:30:00 +0000 | 5400         | disks — all of them | 2024-05-15 14:00:00 +0000 |
+------------+---------------------------+--------------+---------------------+---------------------------+
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", &b, want)
	}
}

func TestMaintenanceDelete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		q     maintenanceQuery
		apply bool
		code  int      // exit status, 0 for none
		out   []string // lines the output holds
		// what is left, by id: its end relative to mnow; absent = removed
		scheduled, unscheduled map[string]time.Duration
	}{{
		name: "dry run",
		q:    maintenanceQuery{check: "web-1"},
		code: 1,
		out: []string{"Found 3 maintenances",
			"cannot end the maintenance of web-1:http from 2024-05-15 11:30:00 +0200 to 2024-05-15 12:30:00 +0200: it is already over",
			"Would end 2 maintenances: 1 removed before they start, 1 cut short to end now"},
		scheduled:   map[string]time.Duration{"s-past": -2 * time.Hour, "s-now": time.Hour, "s-next": 26 * time.Hour},
		unscheduled: map[string]time.Duration{"u-past": -4 * time.Hour, "u-now": 4*time.Hour - 10*time.Minute},
	}, {
		name:  "scheduled",
		q:     maintenanceQuery{check: "web-1"},
		apply: true,
		code:  1, // s-past is over
		out: []string{"Found 3 maintenances",
			"cannot end the maintenance of web-1:http from 2024-05-15 11:30:00 +0200 to 2024-05-15 12:30:00 +0200: it is already over",
			"Ended 2 maintenances: 1 removed before they start, 1 cut short to end now"},
		scheduled:   map[string]time.Duration{"s-past": -2 * time.Hour, "s-now": 0},
		unscheduled: map[string]time.Duration{"u-past": -4 * time.Hour, "u-now": 4*time.Hour - 10*time.Minute},
	}, {
		name:        "scheduled, not over",
		q:           maintenanceQuery{check: "web-1", finish: "after now"},
		apply:       true,
		out:         []string{"Found 2 maintenances", "Ended 2 maintenances: 1 removed before they start, 1 cut short to end now"},
		scheduled:   map[string]time.Duration{"s-past": -2 * time.Hour, "s-now": 0},
		unscheduled: map[string]time.Duration{"u-past": -4 * time.Hour, "u-now": 4*time.Hour - 10*time.Minute},
	}, {
		name:        "unscheduled",
		q:           maintenanceQuery{check: "web-1", kind: "unscheduled", start: "after 12:00"},
		apply:       true,
		out:         []string{"Found 1 maintenances", "Ended 1 maintenances: 0 removed before they start, 1 cut short to end now"},
		scheduled:   map[string]time.Duration{"s-past": -2 * time.Hour, "s-now": time.Hour, "s-next": 26 * time.Hour},
		unscheduled: map[string]time.Duration{"u-past": -4 * time.Hour, "u-now": 0},
	}, {
		name:        "nothing",
		q:           maintenanceQuery{check: "^mail"},
		out:         []string{"Found 0 maintenances", "Nothing to do"},
		scheduled:   map[string]time.Duration{"s-past": -2 * time.Hour, "s-now": time.Hour, "s-next": 26 * time.Hour},
		unscheduled: map[string]time.Duration{"u-past": -4 * time.Hour, "u-now": 4*time.Hour - 10*time.Minute},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			st := maintenanceChecks(t)
			if tc.q.kind == "" {
				tc.q.kind = "scheduled"
			}
			sel, err := tc.q.compile(mnow)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = deleteMaintenances(t.Context(), st, &out, sel, mnow, tc.apply)
			code := 0
			if ee := (*exitError)(nil); errors.As(err, &ee) {
				code = ee.code
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit status %d (%v), want %d", code, err, tc.code)
			}
			if !tc.apply && tc.code != 0 && !strings.Contains(err.Error(), "--apply") {
				t.Errorf("a dry run says %q, want it to ask for --apply", err)
			}
			for _, line := range tc.out {
				if !strings.Contains(out.String(), line+"\n") {
					t.Errorf("output lacks %q:\n%s", line, &out)
				}
			}
			c, err := st.Check(t.Context(), "web-1:http")
			if err != nil {
				t.Fatal(err)
			}
			wantEnds(t, "scheduled", c.ScheduledMaintenances, tc.scheduled)
			wantEnds(t, "unscheduled", c.UnscheduledMaintenances, tc.unscheduled)
			// Other checks are left alone.
			if c, _ := st.Check(t.Context(), "web-2:http"); len(c.ScheduledMaintenances) != 1 || !c.ScheduledMaintenances[0].End.Equal(mnow.Add(90*time.Minute)) {
				t.Errorf("web-2:http's maintenances changed: %v", c.ScheduledMaintenances)
			}
		})
	}
}

func wantEnds(t *testing.T, kind string, ms []flapjack.Maintenance, want map[string]time.Duration) {
	t.Helper()
	got := map[string]time.Duration{}
	for _, m := range ms {
		got[m.ID] = m.End.Sub(mnow)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s maintenances end at %v (from now), want %v", kind, got, want)
	}
}

func TestMaintenanceCreate(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
	}{{"scheduled", "scheduled"}, {"unscheduled", "unscheduled"}} {
		t.Run(tc.name, func(t *testing.T) {
			st := maintenanceChecks(t)
			if _, err := st.UpdateCheck(t.Context(), "web-2:http", false, func(u *store.CheckUpdate) error {
				u.Check.Alertable = true
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			p, err := planMaintenance(" web-2:http, new:check,web-2:http ", "upgrade", "tomorrow 02:00", "2 hours", tc.kind, mnow)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := createMaintenances(t.Context(), st, &out, p, mnow); err != nil {
				t.Fatal(err)
			}
			for _, line := range []string{
				"| web-2:http | 2024-05-16 02:00:00 +0200 | 7200         | upgrade | 2024-05-16 04:00:00 +0200 |",
				"| new:check  | 2024-05-16 02:00:00 +0200 | 7200         | upgrade | 2024-05-16 04:00:00 +0200 |",
				"Created checks new:check",
				"Created 2 " + tc.kind + " maintenances",
			} {
				if !strings.Contains(out.String(), line+"\n") {
					t.Errorf("output lacks %q:\n%s", line, &out)
				}
			}
			for _, name := range []string{"web-2:http", "new:check"} {
				c, err := st.Check(t.Context(), name)
				if err != nil {
					t.Fatal(err)
				}
				ms := c.ScheduledMaintenances
				if tc.kind == "unscheduled" {
					ms = c.UnscheduledMaintenances
					if c.Alertable {
						t.Errorf("%s is still alertable after unscheduled maintenance", name)
					}
				}
				last := ms[len(ms)-1]
				want := time.Date(2024, 5, 16, 2, 0, 0, 0, rome)
				if last.ID == "" || !last.Start.Equal(want) || !last.End.Equal(want.Add(2*time.Hour)) || last.Summary != "upgrade" {
					t.Errorf("%s's new maintenance is %+v", name, last)
				}
			}
		})
	}
}

func TestMaintenancePlanErrors(t *testing.T) {
	for _, tc := range []struct {
		checks, start, duration, kind string
		want                          []string
	}{
		{" , ", "now", "1 hour", "scheduled", []string{"--check: name at least one check"}},
		{"a", "", "", "scheduled", []string{"--start: say when", "--duration: say how long"}},
		{"a", "whenever", "ages", "weekly", []string{`cannot read the time "whenever"`, `--duration: cannot read duration "ages"`, `--type "weekly"`}},
		{"a", "now", "0 seconds", "scheduled", []string{"must be longer than nothing"}},
	} {
		_, err := planMaintenance(tc.checks, "", tc.start, tc.duration, tc.kind, mnow)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("planMaintenance(%q, %q, %q, %q) = %v, want a usage error", tc.checks, tc.start, tc.duration, tc.kind, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("planMaintenance(%q, %q, %q, %q): %q lacks %q", tc.checks, tc.start, tc.duration, tc.kind, err, w)
			}
		}
	}
}

// redisConfig writes a configuration naming srv's database db.
func redisConfig(t *testing.T, srv *redistest.Server, db int) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "flapjack.toml", fmt.Sprintf("[redis]\nurl = %q\n", srv.URL(db)))
}

// The maintenance commands on a real Redis, as people run them.
func TestMaintenanceCommandsOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	cfg := redisConfig(t, srv, 3)
	t.Setenv("TZ", "UTC")
	run := func(wantCode int, args ...string) string {
		t.Helper()
		r := runFlapjack(t, append([]string{"maintenance"}, append(args, "--config", cfg)...)...)
		if r.code != wantCode {
			t.Fatalf("flapjack maintenance %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, wantCode, r.stdout, r.stderr)
		}
		return r.stdout + r.stderr
	}
	out := run(0, "create", "-c", "web-1:http,web-2:http", "-s", "in 1 hour", "-d", "2 hours", "-r", "kernel upgrade")
	if !containsAll(out, "| web-1:http |", "| web-2:http |", "| 7200 ", "Created checks web-1:http, web-2:http", "Created 2 scheduled maintenances") {
		t.Errorf("create printed:\n%s", out)
	}
	run(0, "create", "-c", "web-1:http", "-s", "now", "-d", "30 minutes", "-t", "unscheduled", "-r", "ack")
	out = run(0, "show", "--started", "after now", "-c", "web-1")
	if !containsAll(out, "kernel upgrade", "Found 1 maintenances") || strings.Contains(out, "web-2") {
		t.Errorf("show printed:\n%s", out)
	}
	if out = run(0, "show", "-t", "unscheduled"); !containsAll(out, "| ack ", "Found 1 maintenances") {
		t.Errorf("show -t unscheduled printed:\n%s", out)
	}
	out = run(1, "delete", "-r", "kernel")
	if !containsAll(out, "Found 2 maintenances", "Would end 2 maintenances: 2 removed before they start", "--apply") {
		t.Errorf("delete without --apply printed:\n%s", out)
	}
	run(0, "delete", "-r", "kernel", "-c", "web-2", "--apply")
	if out = run(0, "show"); !containsAll(out, "web-1:http", "Found 1 maintenances") {
		t.Errorf("show after delete printed:\n%s", out)
	}
	run(0, "delete", "--apply", "-t", "unscheduled")
	if out = run(0, "show", "-t", "unscheduled", "--end", "after now"); !strings.Contains(out, "Found 0 maintenances") {
		t.Errorf("the acknowledgement did not end:\n%s", out)
	}
}

func TestMaintenanceCommandErrors(t *testing.T) {
	dir := t.TempDir()
	memoryConfig := writeFile(t, dir, "memory.toml", "[processor]\ninitial_failure_delay = 10\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"maintenance", "show"}, 2, "the embedded default configuration has no [redis] table"},
		{[]string{"maintenance", "show", "--config", memoryConfig}, 2, filepath.Base(memoryConfig) + " has no [redis] table"},
		{[]string{"maintenance", "delete", "--config", memoryConfig}, 2, "no [redis] table"},
		{[]string{"maintenance", "create", "--config", memoryConfig, "-c", "a", "-s", "now", "-d", "1h"}, 2, "no [redis] table"},
		{[]string{"-c", memoryConfig, "maintenance", "show"}, 2, "-c is --check for \"flapjack maintenance show\""},
		{[]string{"maintenance", "show", "-s", "soon"}, 2, `--start: cannot read the filter "soon": use "before T"`},
		{[]string{"maintenance", "create", "-c", "a"}, 2, "--start: say when"},
		{[]string{"maintenance", "show", "extra"}, 1, "unknown command"},
	} {
		r := runFlapjack(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("flapjack %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.code, tc.want)
		}
	}
}

func TestToolsHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"flapper", "simulate", "maintenance", "purge", "check-config", "import", "completion"}},
		{[]string{"flapper", "--help"}, []string{"-b, --bind-ip", "-P, --bind-port int", "(default 12345)", "-f, --frequency float", "(default 120)", "quit"}},
		{[]string{"simulate", "--help"}, []string{"fail", "fail_and_recover", "ok", "Simulated check output (test by operator)"}},
		{[]string{"simulate", "fail", "--help"}, []string{"-t, --time float", "(default 0.75)", "-i, --interval float", "(default 10)", "-k, --check string", `(default "HTTP")`, "-s, --state string", `(default "critical")`, "-T, --tags", "--intake"}},
		{[]string{"simulate", "ok", "--help"}, []string{"-k, --check", "--intake"}},
		{[]string{"maintenance", "--help"}, []string{"show", "create", "delete", "-c is --check"}},
		{[]string{"maintenance", "show", "--help"}, []string{"-c, --check", "--config string", "--started", "between T1 and T2", "-t, --type", `(default "scheduled")`}},
		{[]string{"maintenance", "delete", "--help"}, []string{"-a, --apply", "cut", "already over"}},
		{[]string{"maintenance", "create", "--help"}, []string{"-c, --check", "-s, --start", "-d, --duration", "-r, --reason", "tomorrow 9am"}},
		{[]string{"purge", "check_history", "--help"}, []string{"-d, --days", `(default "90")`, "-c, --check", "current state", "Nothing to do"}},
		{[]string{"check-config", "--help"}, []string{"check-config [FILE]", "configuration ok", "exits 2"}},
		{[]string{"import", "--help"}, []string{"import FILE", "[redis]", "exit status is 2"}},
		{[]string{"completion", "--help"}, []string{"bash", "zsh", "fish", "powershell"}},
	} {
		r := runFlapjack(t, tc.args...)
		if r.code != 0 {
			t.Errorf("flapjack %s: exit %d, stderr %s", strings.Join(tc.args, " "), r.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("flapjack %s does not mention %q:\n%s", strings.Join(tc.args, " "), w, r.stdout)
			}
		}
	}
}

// Every command and every flag has help.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newRoot()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var missing []string
	var visit func(path string, c *cobra.Command)
	visit = func(path string, c *cobra.Command) {
		if c.Short == "" {
			missing = append(missing, path)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.TrimSpace(f.Usage) == "" {
				missing = append(missing, path+" --"+f.Name)
			}
		})
		for _, sub := range c.Commands() {
			visit(path+" "+sub.Name(), sub)
		}
	}
	visit("flapjack", root)
	if len(missing) > 0 {
		t.Errorf("without help: %s", strings.Join(missing, ", "))
	}
}
