package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCheckPageDecisions: the check page says in plain words why the check
// did or did not alert, with the trace behind each decision.
func TestCheckPageDecisions(t *testing.T) {
	f := newFixture(t, "")
	f.clock.Advance(10 * time.Second)
	f.event("db1:replication", "critical", "lag 310s", "")
	f.clock.Advance(30 * time.Second)
	f.event("db1:replication", "critical", "lag 340s", "")

	status, body := f.get("/checks/" + f.check("db1:replication").ID)
	if status != http.StatusOK {
		t.Fatalf("check page: %d", status)
	}
	contains(t, body, `id="decisions"`, "Why It Did or Did Not Alert",
		"A critical result made a problem notification.",
		"A critical result made no notification: failing for 10s, less than the initial failure delay of 30s. The same for 2 in a row.",
		"(2 times)", "“lag 340s”", "<code>filter:delays</code> block")
	// Newest first.
	if strings.Index(body, "made a problem notification") > strings.Index(body, "made no notification") {
		t.Error("decisions are not newest first")
	}

	_, body = f.get("/checks/" + f.check("web1:http").ID)
	contains(t, body, "No decisions recorded yet.")

	// Words from events are escaped.
	_, body = f.get("/checks/" + f.check("<script>alert(1)</script>").ID)
	contains(t, body, "“&lt;b&gt;bold&lt;/b&gt;”")
	if strings.Contains(body, "<b>bold</b>") {
		t.Error("an event's summary reached the page unescaped")
	}
}
