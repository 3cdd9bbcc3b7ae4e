package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
	redisstore "github.com/x/flapjack/store/redis"
)

// seedHistories gives each check a history of states created the given
// numbers of days before now, oldest first; the newest is the current state,
// and the oldest is the snapshot of the latest ok notification when notified.
func seedHistories(t *testing.T, st store.Checks, now time.Time, notified bool, histories map[string][]int) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for name, days := range histories {
		c, err := st.UpdateCheck(t.Context(), name, true, func(u *store.CheckUpdate) error {
			u.History = u.History[:0]
			for i, d := range days {
				at := now.Add(-time.Duration(d) * 24 * time.Hour)
				cond := flapjack.Critical
				if i%2 == 0 {
					cond = flapjack.OK
				}
				u.History = append(u.History, flapjack.State{CreatedAt: at, UpdatedAt: at, Condition: cond})
			}
			if n := len(u.History); n > 0 {
				cur := u.History[n-1]
				u.Check.CurrentState = &cur
				if notified {
					u.Check.LatestNotifications = []flapjack.State{u.History[0]}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = c.ID
	}
	return ids
}

func historyLen(t *testing.T, st store.Checks, id string) int {
	t.Helper()
	h, err := st.History(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(h)
}

func TestPurgeCheckHistory(t *testing.T) {
	now := time.Date(2024, 5, 15, 12, 0, 0, 0, time.UTC)
	histories := map[string][]int{
		"web-1:http": {200, 150, 100, 50, 10}, // 3 older than 90 days
		"web-2:http": {120, 95, 91},           // the newest is current
		"db-1:disk":  {30, 5},                 // nothing old
		"new:check":  {},
	}
	for _, tc := range []struct {
		name     string
		check    string // a name, "id:NAME" for NAME's id
		notified bool
		want     string
		left     map[string]int // history lengths after
	}{
		{"every check", "", false, "Purged 5 historical check states over 2 checks.\n",
			map[string]int{"web-1:http": 2, "web-2:http": 1, "db-1:disk": 2, "new:check": 0}},
		{"latest notifications are kept", "", true, "Purged 3 historical check states over 2 checks.\n",
			map[string]int{"web-1:http": 3, "web-2:http": 2, "db-1:disk": 2, "new:check": 0}},
		{"one check by name", "web-2:http", false, "Purged 2 historical check states over 1 checks.\n",
			map[string]int{"web-1:http": 5, "web-2:http": 1, "db-1:disk": 2, "new:check": 0}},
		{"one check by id", "id:web-1:http", false, "Purged 3 historical check states over 1 checks.\n",
			map[string]int{"web-1:http": 2, "web-2:http": 3, "db-1:disk": 2, "new:check": 0}},
		{"nothing to do", "db-1:disk", false, "Nothing to do\n",
			map[string]int{"web-1:http": 5, "web-2:http": 3, "db-1:disk": 2, "new:check": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			ids := seedHistories(t, st, now, tc.notified, histories)
			check := tc.check
			if name, ok := strings.CutPrefix(check, "id:"); ok {
				check = ids[name]
			}
			var out bytes.Buffer
			if err := purgeCheckHistory(t.Context(), st, &out, check, now.Add(-90*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("printed %q, want %q", &out, tc.want)
			}
			for name, n := range tc.left {
				if got := historyLen(t, st, ids[name]); got != n {
					t.Errorf("%s has %d states left, want %d", name, got, n)
				}
			}
		})
	}
	st := memory.New()
	defer st.Close()
	err := purgeCheckHistory(t.Context(), st, &bytes.Buffer{}, "nope", now)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), `no check is named "nope" or has that id`) {
		t.Errorf("purging an unknown check: %v", err)
	}
}

func TestPurgeCommandOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	cfg := redisConfig(t, srv, 4)
	st, err := redisstore.NewFromURL(t.Context(), srv.URL(4)+"?consumer=test-seeder")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := seedHistories(t, st, time.Now(), true, map[string][]int{
		"web-1:http": {200, 150, 100, 50, 10},
		"web-2:http": {120, 95, 91},
	})
	for _, tc := range []struct {
		args []string
		code int
		out  string
		left map[string]int
	}{
		{[]string{"-c", "web-2:http", "--days", "90"}, 0, "Purged 1 historical check states over 1 checks.\n", map[string]int{"web-1:http": 5, "web-2:http": 2}},
		{[]string{"-d", "30"}, 0, "Purged 3 historical check states over 1 checks.\n", map[string]int{"web-1:http": 2, "web-2:http": 2}},
		{[]string{}, 0, "Nothing to do\n", map[string]int{"web-1:http": 2, "web-2:http": 2}},
		{[]string{"-c", ids["web-1:http"], "-d", "0"}, 0, "Nothing to do\n", map[string]int{"web-1:http": 2, "web-2:http": 2}},
		{[]string{"-c", "mail:smtp"}, 1, "", nil},
		{[]string{"-d", "1.5"}, 2, "", nil},
		{[]string{"-d", "ninety"}, 2, "", nil},
	} {
		r := runFlapjack(t, append([]string{"purge", "check_history", "--config", cfg}, tc.args...)...)
		if r.code != tc.code || r.stdout != tc.out {
			t.Errorf("flapjack purge check_history %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q",
				strings.Join(tc.args, " "), r.code, r.stdout, r.stderr, tc.code, tc.out)
		}
		for name, n := range tc.left {
			if got := historyLen(t, st, ids[name]); got != n {
				t.Errorf("after %s: %s has %d states left, want %d", strings.Join(tc.args, " "), name, got, n)
			}
		}
	}
	if r := runFlapjack(t, "purge", "check_history"); r.code != 2 || !strings.Contains(r.stderr, "no [redis] table") {
		t.Errorf("purge without Redis: exit %d, stderr %q", r.code, r.stderr)
	}
}
