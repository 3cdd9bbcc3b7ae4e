package gateway_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

var feb1 = time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC)

// alert returns a fixture alert of one kind, for contact Ada on an SMS medium.
func alert(kind string) *flapjack.Alert {
	a := &flapjack.Alert{
		ID:          "alert-1",
		Transport:   "sms",
		Address:     "+61400000001",
		MediumID:    "m1",
		ContactID:   "c1",
		ContactName: "Ada Lovelace",
		CheckID:     "k1",
		CheckName:   "app-01:HTTP",
		Time:        feb1,
		EventHash:   "a1b2c3d4",
	}
	switch kind {
	case "problem", "problem-bare":
		a.Type, a.Condition = flapjack.TypeProblem, flapjack.Critical
		a.Summary, a.Details = "HTTP 500", "connection reset"
		a.ConditionDuration = 125 * time.Second
		a.LastCondition, a.LastSummary = flapjack.OK, "HTTP 200"
		if kind == "problem-bare" {
			a.Summary, a.Details, a.LastCondition, a.LastSummary = "", "", "", ""
			a.ConditionDuration = 40 * time.Second
		}
	case "recovery":
		a.Type, a.Condition = flapjack.TypeRecovery, flapjack.OK
		a.Summary = "HTTP 200"
		a.ConditionDuration = 3*time.Hour + 61*time.Second
		a.LastCondition, a.LastSummary = flapjack.Critical, "HTTP 500"
	case "ack":
		a.Type, a.Condition, a.Action = flapjack.TypeAcknowledgement, flapjack.Critical, flapjack.Acknowledgement
		a.Summary = "looking into it"
		a.AcknowledgementDuration = 4 * time.Hour
		a.LastCondition = flapjack.Critical
	case "test":
		a.Type, a.Condition, a.Action = flapjack.TypeTest, flapjack.Critical, flapjack.TestNotifications
		a.Summary = "testing"
	case "rollup-problem":
		a.Type, a.Condition, a.Rollup = flapjack.TypeProblem, flapjack.Critical, flapjack.RollupProblem
		a.Summary = "HTTP 500"
		a.RollupThreshold = 3
		a.RollupStates = map[flapjack.Condition][]string{
			flapjack.Warning:  {"e:disk"},
			flapjack.Critical: {"a:ping", "b:ping", "c:ping", "d:ping"},
			flapjack.Unknown:  {},
		}
	case "rollup-recovery":
		a.Type, a.Condition, a.Rollup = flapjack.TypeRecovery, flapjack.OK, flapjack.RollupRecovery
		a.RollupThreshold = 3
		a.RollupStates = map[flapjack.Condition][]string{flapjack.Warning: {"e:disk", "f:disk"}}
	case "rollup-recovery-empty":
		a.Type, a.Condition, a.Action, a.Rollup = flapjack.TypeAcknowledgement, flapjack.Critical, flapjack.Acknowledgement, flapjack.RollupRecovery
		a.RollupThreshold = 1
	default:
		panic("unknown fixture " + kind)
	}
	return a
}

// kinds are the fixture alerts every single-line template is checked against.
var kinds = []string{"problem", "problem-bare", "recovery", "ack", "test", "rollup-problem", "rollup-recovery", "rollup-recovery-empty"}

func TestRenderSingleLineTexts(t *testing.T) {
	smsLike := map[string]string{
		"problem":               "Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500",
		"problem-bare":          "Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00",
		"recovery":              "Recovery: 'app-01:HTTP' is OK at 1 Feb 12:00, HTTP 200",
		"ack":                   "Acknowledgement: 'app-01:HTTP' at 1 Feb 12:00, looking into it",
		"test":                  "Test: 'app-01:HTTP' at 1 Feb 12:00, testing",
		"rollup-problem":        "Problem summary: Critical: 4, Warning: 1 (Critical: a:ping, b:ping, c:ping, ...; Warning: e:disk)",
		"rollup-recovery":       "Problem summaries finishing: Warning: 2 (Warning: e:disk, f:disk)",
		"rollup-recovery-empty": "Problem summaries finishing",
	}
	subject := map[string]string{
		"problem":               "Problem: 'app-01:HTTP' is Critical",
		"problem-bare":          "Problem: 'app-01:HTTP' is Critical",
		"recovery":              "Recovery: 'app-01:HTTP' is OK",
		"ack":                   "Acknowledgement: 'app-01:HTTP'",
		"test":                  "Test: 'app-01:HTTP'",
		"rollup-problem":        "Problem summary: Critical: 4, Warning: 1",
		"rollup-recovery":       "Problem summaries finishing: Warning: 2",
		"rollup-recovery-empty": "Problem summaries finishing",
	}
	jabber := map[string]string{
		"problem":               `Problem: flapjack: ACKID a1b2c3d4, "app-01:HTTP" is Critical, HTTP 500`,
		"problem-bare":          `Problem: flapjack: ACKID a1b2c3d4, "app-01:HTTP" is Critical`,
		"recovery":              `Recovery: "app-01:HTTP" is OK, HTTP 200`,
		"ack":                   `Acknowledgement: "app-01:HTTP" has been acknowledged, unscheduled maintenance created for 4 hours, looking into it`,
		"test":                  `Test: "app-01:HTTP", testing`,
		"rollup-problem":        `Problem summary: Critical: 4, Warning: 1 (Critical: a:ping, b:ping, c:ping, d:ping; Warning: e:disk)`,
		"rollup-recovery":       `Problem summaries finishing: Warning: 2 (Warning: e:disk, f:disk)`,
		"rollup-recovery-empty": `Problem summaries finishing`,
	}
	pagerduty := map[string]string{
		"problem":      `Problem: "app-01:HTTP" is Critical, HTTP 500`,
		"problem-bare": `Problem: "app-01:HTTP" is Critical`,
		"recovery":     `Recovery: "app-01:HTTP" is OK, HTTP 200`,
		"ack":          `Acknowledgement: "app-01:HTTP" has been acknowledged, unscheduled maintenance created for 4 hours, looking into it`,
		"test":         `Test: "app-01:HTTP", testing`,
	}
	const via = "Alert via sms:+61400000001 to contact c1 (Ada Lovelace): "
	log := map[string]string{
		"problem":               via + "Problem - 'app-01:HTTP' is Critical - HTTP 500",
		"problem-bare":          via + "Problem - 'app-01:HTTP' is Critical",
		"recovery":              via + "Recovery - 'app-01:HTTP' is OK - HTTP 200",
		"ack":                   via + "Acknowledgement - 'app-01:HTTP' has been acknowledged, unscheduled maintenance created for 4 hours - looking into it",
		"test":                  via + "Test - 'app-01:HTTP' - testing",
		"rollup-problem":        via + "Problem summary - Critical: 4, Warning: 1 (Critical: a:ping, b:ping, c:ping, ...; Warning: e:disk)",
		"rollup-recovery":       via + "Problem summaries finishing - Warning: 2 (Warning: e:disk, f:disk)",
		"rollup-recovery-empty": via + "Problem summaries finishing",
	}

	type table struct {
		family, name string
		extra        map[string]any
		want         map[string]string
	}
	tables := []table{
		{"sms", "alert", nil, smsLike},
		{"sms_twilio", "alert", nil, smsLike},
		{"sms_nexmo", "alert", nil, smsLike},
		{"sms_aspsms", "alert", nil, smsLike},
		{"threema", "alert", nil, smsLike},
		{"slack", "alert", nil, smsLike},
		{"sns", "alert", nil, smsLike},
		{"sns", "alert_subject", nil, subject},
		{"email", "alert_subject", nil, subject},
		{"jabber", "alert", map[string]any{"alias": "flapjack"}, jabber},
		{"pagerduty", "alert", nil, pagerduty},
		{"log", "alert", nil, log},
	}
	tpl := gateway.DefaultTemplates()
	for _, tb := range tables {
		for _, kind := range kinds {
			want, ok := tb.want[kind]
			if !ok {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s/%s", tb.family, tb.name, kind), func(t *testing.T) {
				got, err := tpl.Render(tb.family, tb.name, "text", alert(kind), tb.extra)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("got  %q\nwant %q", got, want)
				}
			})
		}
	}
}

func TestRenderJabberAckHint(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	noHash := alert("problem")
	noHash.EventHash = ""
	for _, tc := range []struct {
		name  string
		a     *flapjack.Alert
		extra map[string]any
		want  string
	}{
		{"alias", alert("problem"), map[string]any{"alias": "bot"}, `Problem: bot: ACKID a1b2c3d4, "app-01:HTTP" is Critical, HTTP 500`},
		{"no alias", alert("problem"), nil, `Problem: "app-01:HTTP" is Critical, HTTP 500`},
		{"no event hash", noHash, map[string]any{"alias": "bot"}, `Problem: "app-01:HTTP" is Critical, HTTP 500`},
		{"not for recoveries", alert("recovery"), map[string]any{"alias": "bot"}, `Recovery: "app-01:HTTP" is OK, HTTP 200`},
		{"not for acks", alert("ack"), map[string]any{"alias": "bot"}, `Acknowledgement: "app-01:HTTP" has been acknowledged, unscheduled maintenance created for 4 hours, looking into it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tpl.Render("jabber", "alert", "text", tc.a, tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

const (
	emailGreeting = "Hi Ada Lovelace\n\nMonitoring has detected the following:\n\n"
	emailSignOff  = "\nCheers,\nFlapjack\n"
	rollupOn      = "Your email alerts are being summarised as your email summary threshold is set to 3. You'll receive summary emails like this one until your number of alerting checks falls below 3."
	rollupOff     = "As your email summary threshold is 3, we're taking your email alerts out of summary mode now. You'll now be emailed individually for each alerting check."
	htmlStyle     = `<style type="text/css" media="screen">
  table { border-collapse: collapse; }
  table, th, td { border: 1px solid #666; padding: 4px; }
</style>
`
)

func TestRenderEmailText(t *testing.T) {
	for _, tc := range []struct{ kind, want string }{
		{"problem", emailGreeting +
			"Check:            app-01:HTTP\n" +
			"State:            Critical\n" +
			"Summary:          HTTP 500\n" +
			"Details:          connection reset\n" +
			"Time:             2016-02-01 12:00:00 +0000\n" +
			"Duration:         2 mins 5 secs\n" +
			"Previous State:   OK\n" +
			"Previous Summary: HTTP 200\n" +
			emailSignOff},
		{"problem-bare", emailGreeting +
			"Check:            app-01:HTTP\n" +
			"State:            Critical\n" +
			"Time:             2016-02-01 12:00:00 +0000\n" +
			emailSignOff},
		{"recovery", emailGreeting +
			"Check:            app-01:HTTP\n" +
			"State:            OK\n" +
			"Summary:          HTTP 200\n" +
			"Time:             2016-02-01 12:00:00 +0000\n" +
			"Duration:         3 hrs 1 min 1 sec\n" +
			"Previous State:   Critical\n" +
			"Previous Summary: HTTP 500\n" +
			emailSignOff},
		{"ack", emailGreeting +
			"Check:            app-01:HTTP\n" +
			"State:            Acknowledgement\n" +
			"Summary:          looking into it\n" +
			"Time:             2016-02-01 12:00:00 +0000\n" +
			"Previous State:   Critical\n" +
			emailSignOff},
		{"test", emailGreeting +
			"Check:            app-01:HTTP\n" +
			"State:            Test Notifications\n" +
			"Summary:          testing\n" +
			"Time:             2016-02-01 12:00:00 +0000\n" +
			emailSignOff},
		{"rollup-problem", "Hi Ada Lovelace\n\nYou have 5 alerting checks as follows:\n\n" +
			"  * a:ping is Critical\n" +
			"  * b:ping is Critical\n" +
			"  * c:ping is Critical\n" +
			"  * d:ping is Critical\n" +
			"  * e:disk is Warning\n" +
			"\n" + rollupOn + "\n" + emailSignOff},
		{"rollup-recovery", "Hi Ada Lovelace\n\nYou have 2 alerting checks as follows:\n\n" +
			"  * e:disk is Warning\n" +
			"  * f:disk is Warning\n" +
			"\n" + rollupOff + "\n" + emailSignOff},
		{"rollup-recovery-empty", "Hi Ada Lovelace\n\nYou have 0 alerting checks.\n\n" +
			strings.ReplaceAll(rollupOff, "3", "1") + "\n" + emailSignOff},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			got, err := gateway.DefaultTemplates().Render("email", "alert", "text", alert(tc.kind), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestRenderEmailHTML(t *testing.T) {
	escaped := alert("problem")
	escaped.Summary = `<script>alert("x")</script>`
	one := alert("rollup-recovery")
	one.RollupStates = map[flapjack.Condition][]string{flapjack.Critical: {"x<y"}}
	for _, tc := range []struct {
		name string
		a    *flapjack.Alert
		want string
	}{
		{"problem", alert("problem"), htmlStyle + `
<p>Hi Ada Lovelace</p>

<p>Monitoring has detected the following:</p>

<table>
  <tbody>
    <tr><td><strong>Check</strong></td><td>app-01:HTTP</td></tr>
    <tr><td><strong>State</strong></td><td>Critical</td></tr>
    <tr><td><strong>Summary</strong></td><td>HTTP 500</td></tr>
    <tr><td><strong>Details</strong></td><td>connection reset</td></tr>
    <tr><td><strong>Time</strong></td><td>2016-02-01 12:00:00 &#43;0000</td></tr>
    <tr><td><strong>Duration</strong></td><td>2 mins 5 secs</td></tr>
    <tr><td><strong>Previous State</strong></td><td>OK</td></tr>
    <tr><td><strong>Previous Summary</strong></td><td>HTTP 200</td></tr>
  </tbody>
</table>

<p>Cheers,<br>
Flapjack</p>
`},
		{"test", alert("test"), htmlStyle + `
<p>Hi Ada Lovelace</p>

<p>Monitoring has detected the following:</p>

<table>
  <tbody>
    <tr><td><strong>Check</strong></td><td>app-01:HTTP</td></tr>
    <tr><td><strong>State</strong></td><td>Test Notifications</td></tr>
    <tr><td><strong>Summary</strong></td><td>testing</td></tr>
    <tr><td><strong>Time</strong></td><td>2016-02-01 12:00:00 &#43;0000</td></tr>
  </tbody>
</table>

<p>Cheers,<br>
Flapjack</p>
`},
		{"rollup problem", alert("rollup-problem"), htmlStyle + `
<p>Hi Ada Lovelace</p>

<p>You have 5 alerting checks as follows:</p>

<table>
  <tbody>
    <tr><th>Check</th><th>State</th></tr>
    <tr><td>a:ping</td><td>Critical</td></tr>
    <tr><td>b:ping</td><td>Critical</td></tr>
    <tr><td>c:ping</td><td>Critical</td></tr>
    <tr><td>d:ping</td><td>Critical</td></tr>
    <tr><td>e:disk</td><td>Warning</td></tr>
  </tbody>
</table>

<p>` + rollupOn + `</p>

<p>Cheers,<br>
Flapjack</p>
`},
		{"rollup recovery, one check, escaped", one, htmlStyle + `
<p>Hi Ada Lovelace</p>

<p>You have 1 alerting check as follows:</p>

<table>
  <tbody>
    <tr><th>Check</th><th>State</th></tr>
    <tr><td>x&lt;y</td><td>Critical</td></tr>
  </tbody>
</table>

<p>` + rollupOff + `</p>

<p>Cheers,<br>
Flapjack</p>
`},
		{"rollup recovery, none left", alert("rollup-recovery-empty"), htmlStyle + `
<p>Hi Ada Lovelace</p>

<p>You have 0 alerting checks.</p>

<p>` + strings.ReplaceAll(rollupOff, "3", "1") + `</p>

<p>Cheers,<br>
Flapjack</p>
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gateway.DefaultTemplates().Render("email", "alert", "html", tc.a, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	got, err := gateway.DefaultTemplates().Render("email", "alert", "html", escaped, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "<script>") || !strings.Contains(got, "&lt;script&gt;") {
		t.Errorf("summary not escaped in HTML:\n%s", got)
	}
}

func TestRenderEmptyContactName(t *testing.T) {
	a := alert("problem")
	a.ContactName = ""
	got, err := gateway.DefaultTemplates().Render("email", "alert", "text", a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "Hi\n\n") {
		t.Errorf("greeting = %q, want %q", strings.SplitN(got, "\n", 2)[0], "Hi")
	}
}

func TestRenderZeroTimeOmitsWhen(t *testing.T) {
	a := alert("problem")
	a.Time = time.Time{}
	got, err := gateway.DefaultTemplates().Render("sms", "alert", "text", a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Problem: 'app-01:HTTP' is Critical, HTTP 500"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRenderWhenFormat(t *testing.T) {
	a := alert("problem")
	a.Summary = ""
	a.Time = time.Date(2016, 12, 31, 9, 5, 0, 0, time.FixedZone("AEDT", 11*3600))
	got, err := gateway.DefaultTemplates().Render("sms", "alert", "text", a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Problem: 'app-01:HTTP' is Critical at 31 Dec 09:05"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	for _, tc := range []struct {
		name, family, tname, format string
		a                           *flapjack.Alert
		wantNoTemplate              bool
	}{
		{"unknown family", "carrier-pigeon", "alert", "text", alert("problem"), true},
		{"pagerduty has no rollup", "pagerduty", "alert", "text", alert("rollup-problem"), true},
		{"sms has no html", "sms", "alert", "html", alert("problem"), true},
		{"nil alert", "sms", "alert", "text", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tpl.Render(tc.family, tc.tname, tc.format, tc.a, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, gateway.ErrNoTemplate) != tc.wantNoTemplate {
				t.Errorf("errors.Is(%v, ErrNoTemplate) = %v", err, !tc.wantNoTemplate)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	if err := tpl.Override("sms_twilio", "alert.text", "{{.CheckName}} {{.StateTitleCase}} for {{words .ConditionDuration}}"); err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Render("sms_twilio", "alert", "text", alert("problem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "app-01:HTTP Critical for 2 minutes, 5 seconds"; got != want {
		t.Errorf("overridden: got %q, want %q", got, want)
	}
	// Other gateways sharing the built-in text keep it, and so do other copies.
	want := "Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500"
	for _, r := range []*gateway.Templates{tpl, gateway.DefaultTemplates()} {
		for _, fam := range []string{"sms", "sms_nexmo"} {
			if got, _ := r.Render(fam, "alert", "text", alert("problem"), nil); got != want {
				t.Errorf("%s after override elsewhere: got %q, want %q", fam, got, want)
			}
		}
	}
	got, _ = gateway.DefaultTemplates().Render("sms_twilio", "alert", "text", alert("problem"), nil)
	if got != want {
		t.Errorf("fresh DefaultTemplates changed by an override: %q", got)
	}
	// Rollups still use the rollup template.
	if got, _ := tpl.Render("sms_twilio", "alert", "text", alert("rollup-recovery"), nil); !strings.HasPrefix(got, "Problem summaries finishing: ") {
		t.Errorf("rollup after alert override: %q", got)
	}
}

func TestOverrideNewFamilyAndHTML(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	if err := tpl.Override("pager", "alert.html", "<b>{{.Summary}}</b>"); err != nil {
		t.Fatal(err)
	}
	if err := tpl.Override("pager", "rollup_subject.text", "{{.RollupStatesSummary}}"); err != nil {
		t.Fatal(err)
	}
	a := alert("problem")
	a.Summary = "a<b"
	got, err := tpl.Render("pager", "alert", "html", a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "<b>a&lt;b</b>"; got != want {
		t.Errorf("html: got %q, want %q", got, want)
	}
	got, err = tpl.Render("pager", "alert_subject", "text", alert("rollup-problem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Critical: 4, Warning: 1"; got != want {
		t.Errorf("rollup subject: got %q, want %q", got, want)
	}
	fams := tpl.Families()
	if !strings.Contains(strings.Join(fams, ","), "pager,pagerduty") {
		t.Errorf("Families() = %v", fams)
	}
}

func TestOverrideErrors(t *testing.T) {
	for _, tc := range []struct {
		name, family, key, text string
		wantIn                  []string
	}{
		{"v2 example style key", "email", "alert_text", "x", []string{`"alert_text"`, `"<name>.<format>"`}},
		{"unknown name", "email", "body.text", "x", []string{`"body.text"`, `unknown template name "body"`}},
		{"unknown format", "email", "alert.txt", "x", []string{`"alert.txt"`, `unknown template format "txt"`}},
		{"parse error", "sms", "alert.text", "{{.CheckName", []string{`"alert.text"`, `"sms"`}},
		{"html parse error", "email", "alert.html", "{{if .Summary}}", []string{`"alert.html"`, `"email"`}},
		{"unknown function", "sms", "rollup.text", "{{nope .Summary}}", []string{`"rollup.text"`, "nope"}},
		{"empty family", "", "alert.text", "x", []string{`"alert.text"`, "empty gateway name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl := gateway.DefaultTemplates()
			err := tpl.Override(tc.family, tc.key, tc.text)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			// A failed override leaves the built-in in place.
			if tc.family == "sms" {
				if _, err := tpl.Render("sms", "alert", "text", alert("problem"), nil); err != nil {
					t.Errorf("built-in gone after failed override: %v", err)
				}
			}
		})
	}
}

func TestRenderExecutionError(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	if err := tpl.Override("sms", "alert.text", "{{.NoSuchField}}"); err != nil {
		t.Fatal(err)
	}
	_, err := tpl.Render("sms", "alert", "text", alert("problem"), nil)
	if err == nil || !strings.Contains(err.Error(), "alert.text") || !strings.Contains(err.Error(), "NoSuchField") {
		t.Errorf("err = %v, want one naming the template and the field", err)
	}
}

func TestZeroTemplates(t *testing.T) {
	var tpl gateway.Templates
	if _, err := tpl.Render("sms", "alert", "text", alert("problem"), nil); !errors.Is(err, gateway.ErrNoTemplate) {
		t.Errorf("Render on zero Templates: %v", err)
	}
	if err := tpl.Override("sms", "alert.text", "{{.CheckName}}"); err != nil {
		t.Fatal(err)
	}
	if got, _ := tpl.Render("sms", "alert", "text", alert("problem"), nil); got != "app-01:HTTP" {
		t.Errorf("got %q", got)
	}
}

func TestTemplatesConcurrent(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				if i == 0 {
					if err := tpl.Override("email", "alert.html", fmt.Sprintf("<p>%d {{.Summary}}</p>", j)); err != nil {
						t.Error(err)
					}
					continue
				}
				for _, f := range []string{"email", "sms", "jabber"} {
					if _, err := tpl.Render(f, "alert", "text", alert("problem"), nil); err != nil {
						t.Error(err)
					}
				}
				if _, err := tpl.Render("email", "alert", "html", alert("rollup-problem"), nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

func TestTemplateData(t *testing.T) {
	d := gateway.TemplateData{Alert: alert("rollup-problem")}
	if got, want := d.RollupStatesDetailText(0), "Critical: a:ping, b:ping, c:ping, d:ping; Warning: e:disk"; got != want {
		t.Errorf("detail(0) = %q, want %q", got, want)
	}
	if got, want := d.RollupStatesDetailText(2), "Critical: a:ping, b:ping, ...; Warning: e:disk"; got != want {
		t.Errorf("detail(2) = %q, want %q", got, want)
	}
	if got, want := d.RollupStatesDetailText(4), "Critical: a:ping, b:ping, c:ping, d:ping; Warning: e:disk"; got != want {
		t.Errorf("detail(4) = %q, want %q", got, want)
	}
	if got := d.Alert.RollupStates[flapjack.Critical]; len(got) != 4 {
		t.Errorf("detail text changed the alert's rollup states: %v", got)
	}
	for _, tc := range []struct {
		a                  *flapjack.Alert
		typ, state, lastSt string
	}{
		{alert("problem"), "Problem", "Critical", "OK"},
		{alert("recovery"), "Recovery", "OK", "Critical"},
		{alert("ack"), "Acknowledgement", "Acknowledgement", "Critical"},
		{alert("test"), "Test", "Test Notifications", ""},
		{alert("rollup-problem"), "Problem summary", "Critical", ""},
		{alert("rollup-recovery-empty"), "Problem summaries finishing", "Acknowledgement", ""},
		{&flapjack.Alert{Type: flapjack.TypeProblem, Condition: flapjack.Unknown, LastAction: flapjack.TestNotifications}, "Problem", "Unknown", "Test Notifications"},
	} {
		d := gateway.TemplateData{Alert: tc.a}
		if got := d.TypeSentenceCase(); got != tc.typ {
			t.Errorf("%v TypeSentenceCase = %q, want %q", tc.a.Type, got, tc.typ)
		}
		if got := d.StateTitleCase(); got != tc.state {
			t.Errorf("%v StateTitleCase = %q, want %q", tc.a.Type, got, tc.state)
		}
		if got := d.LastStateTitleCase(); got != tc.lastSt {
			t.Errorf("%v LastStateTitleCase = %q, want %q", tc.a.Type, got, tc.lastSt)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		show bool
	}{{40 * time.Second, false}, {40*time.Second + time.Millisecond, true}, {0, false}} {
		d := gateway.TemplateData{Alert: &flapjack.Alert{ConditionDuration: tc.d}}
		if got := d.ShowsDuration(); got != tc.show {
			t.Errorf("ShowsDuration(%v) = %v", tc.d, got)
		}
	}
}

func TestDefaultFamilies(t *testing.T) {
	want := []string{"email", "jabber", "log", "pagerduty", "slack", "sms", "sms_aspsms", "sms_nexmo", "sms_twilio", "sns", "threema"}
	if got := gateway.DefaultTemplates().Families(); !slices.Equal(got, want) {
		t.Errorf("Families() = %v, want %v", got, want)
	}
}
