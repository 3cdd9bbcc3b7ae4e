package web_test

import (
	"context"
	"github.com/x/flapjack/internal/servertest"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/x/flapjack/api"
	"github.com/x/flapjack/web"
)

// findBrowser looks for a Chromium or Chrome binary in PATH.
func findBrowser(t *testing.T) string {
	t.Helper()
	return servertest.LookPath(t, "install the chromium package", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
}

// artifactDir is where screenshots go: $FLAPJACK_TEST_ARTIFACTS/<test> when
// set, else a temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if base := os.Getenv("FLAPJACK_TEST_ARTIFACTS"); base != "" {
		dir = filepath.Join(base, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBrowser drives a headless Chromium through the pages and forms.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in short mode")
	}
	exe := findBrowser(t)
	f := newFixture(t, "")
	shots := artifactDir(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// submit clicks a form's button and waits for the page it leads to.
	submit := func(what string, button chromedp.CSS, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		do(what, steps...)
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(button))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.Status != 200 {
			t.Fatalf("%s: status %d", what, resp.Status)
		}
	}
	load := func(path string) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(f.srv.URL+path))
		if err != nil {
			t.Fatalf("load %s: %v", path, err)
		}
		if resp.Status != 200 {
			t.Fatalf("load %s: status %d", path, resp.Status)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatalf("read page: %v", err)
		}
		return s
	}

	db := f.check("db1:replication")
	pages := []struct{ name, path, want string }{
		{"summary", "/", "2 out of 3 checks are failing"},
		{"checks", "/checks", "Last Notification"},
		{"check", "/checks/" + db.ID, "Acknowledge"},
		{"contacts", "/contacts", "Alice <ops>"},
		{"contact", "/contacts/c1", "db pages"},
		{"tags", "/tags", "db"},
		{"tag", "/tags/db", "db1:replication"},
		{"self_stats", "/self_stats", "Processor instances"},
	}
	for _, p := range pages {
		load(p.path)
		if s := text(); !strings.Contains(s, p.want) {
			t.Errorf("%s lacks %q:\n%s", p.path, p.want, s)
		}
		shot(p.name)
	}

	// Acknowledge the failing check through its form; the processor takes
	// the event off the queue, and the page shows the maintenance.
	load("/checks/" + db.ID)
	submit("acknowledge", `#acknowledge button`,
		chromedp.SetValue(chromedp.CSS(`#acknowledge input[name=summary]`), "looking into it"))
	if s := text(); !strings.Contains(s, "Acknowledgement for 2 hours sent") {
		t.Fatalf("no notice after acknowledging:\n%s", s)
	}
	items, err := f.st.Queue("events").Reserve(context.Background(), 10, false)
	must(t, err)
	if len(items) != 1 {
		t.Fatalf("%d events queued, want 1", len(items))
	}
	if _, err := f.proc.ProcessRaw(context.Background(), items[0].Payload); err != nil {
		t.Fatal(err)
	}
	must(t, f.st.Queue("events").Ack(context.Background(), items...))
	load("/checks/" + db.ID)
	if s := text(); !strings.Contains(s, "Acknowledged (unscheduled maintenance): looking into it") {
		t.Fatalf("acknowledgement not shown:\n%s", s)
	}
	shot("check_acknowledged")
	f.clock.Advance(time.Minute)
	submit("end unscheduled maintenance", `form[action^="/unscheduled_maintenances/"] button`)
	if s := text(); strings.Contains(s, "End Unscheduled Maintenance") || !strings.Contains(s, "Unscheduled maintenance ended.") {
		t.Fatalf("unscheduled maintenance not ended:\n%s", s)
	}

	// Schedule maintenance starting now, then end it.
	submit("schedule", `#schedule button`,
		chromedp.SetValue(chromedp.CSS(`#schedule input[name=summary]`), "kernel upgrade"),
		chromedp.SetValue(chromedp.CSS(`#schedule input[name=duration]`), "3 hours"))
	if s := text(); !strings.Contains(s, "In scheduled maintenance: kernel upgrade") || !strings.Contains(s, "End Now") {
		t.Fatalf("scheduled maintenance not shown:\n%s", s)
	}
	shot("check_scheduled")
	f.clock.Advance(time.Minute)
	submit("end now", `form[action^="/scheduled_maintenances/"] button`)
	if s := text(); strings.Contains(s, "In scheduled maintenance") || !strings.Contains(s, "Scheduled maintenance ended.") {
		t.Fatalf("scheduled maintenance not ended:\n%s", s)
	}
	shot("check_maintenance_ended")

	// Behind tokens, as the daemon serves it: sign in, then sign out.
	mux := http.NewServeMux()
	mux.Handle("/web/", web.Handler(f.st, web.Options{Prefix: "/web", Clock: f.clock, SignOutPath: api.WebLogoutPath}))
	guarded := httptest.NewServer(api.RequireTokens(nil, []string{"s3cret-token"}, mux))
	defer guarded.Close()
	navigate := func(url string, status int) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
		if err != nil {
			t.Fatalf("load %s: %v", url, err)
		}
		if resp.Status != int64(status) {
			t.Fatalf("load %s: status %d, want %d", url, resp.Status, status)
		}
	}
	navigate(guarded.URL+"/web/checks", http.StatusUnauthorized)
	submit("sign in", `form button[type=submit]`,
		chromedp.SetValue(chromedp.CSS(`input[name=token]`), "s3cret-token"))
	if s := text(); !strings.Contains(s, "Sign out") || !strings.Contains(s, "db1:replication") {
		t.Fatalf("signed in, the checks list lacks Sign out:\n%s", s)
	}
	shot("signed_in")
	submit("sign out", `form.signout button`)
	if s := text(); !strings.Contains(s, "Token") || strings.Contains(s, "Sign out") {
		t.Fatalf("signing out did not lead to the login form:\n%s", s)
	}
	navigate(guarded.URL+"/web/checks", http.StatusUnauthorized)
	t.Logf("screenshots in %s", shots)
}
