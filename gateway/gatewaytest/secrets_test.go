package gatewaytest_test

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/x/flapjack/gateway/gatewaytest"
)

// recorder is a testing.TB that keeps its failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestAssertNoSecrets(t *testing.T) {
	const secret = "p@ss word/Tok3n+&"
	basic := base64.StdEncoding.EncodeToString([]byte("admin:" + secret))
	for _, tc := range []struct {
		name string
		text string
		leak bool
	}{
		{"clean", "webhook https://example.com/hook: HTTP status 500 Internal Server Error", false},
		{"plain", "dial failed for " + secret + " at once", true},
		{"lower-cased", "header x-token: " + strings.ToLower(secret), true},
		{"upper-cased", strings.ToUpper(secret), true},
		{"query-escaped", "GET /hook?token=" + url.QueryEscape(secret), true},
		{"path-escaped", "GET /hook/" + url.PathEscape(secret), true},
		{"JSON-escaped", `{"token":"p@ss word/Tok3n+\u0026"}`, true},
		{"hex", "key " + hex.EncodeToString([]byte(secret)), true},
		{"base64", "Authorization: Token " + base64.StdEncoding.EncodeToString([]byte(secret)), true},
		{"base64 inside Basic credentials", "Authorization: Basic " + basic, true},
		{"base64url", base64.URLEncoding.EncodeToString([]byte("x" + secret)), true},
		{"raw base64 at another offset", base64.RawStdEncoding.EncodeToString([]byte("xy" + secret + "z")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			gatewaytest.AssertNoSecrets(r, []string{"", secret}, "nothing here", tc.text)
			if leaked := len(r.errors) > 0; leaked != tc.leak {
				t.Fatalf("leak reported %v, want %v: %q", leaked, tc.leak, r.errors)
			}
			for _, e := range r.errors {
				if !strings.Contains(e, "text 1 shows secret 1") {
					t.Errorf("failure %q does not say which text and secret", e)
				}
				for _, f := range gatewaytest.SecretForms(secret) {
					if f.String() == "plain" && strings.Contains(strings.ToLower(e), strings.ToLower(secret)) {
						t.Errorf("the failure message shows the secret: %q", e)
					}
				}
			}
		})
	}
}

func TestLogsCaptureEverything(t *testing.T) {
	logs := gatewaytest.NewLogs()
	log := logs.Logger().With("transport", "sms").WithGroup("req")
	log.Debug("sending", "url", "https://x/?token=abc\"def", "err", fmt.Errorf("wrapped: %w", fmt.Errorf("inner")))
	log.Info("done")
	lines := logs.Lines()
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %q", len(lines), lines)
	}
	want := `level=DEBUG msg=sending transport=sms req.url=https://x/?token=abc"def req.err=wrapped: inner`
	if lines[0] != want {
		t.Errorf("line\n %s\nwant\n %s", lines[0], want)
	}
	if !logs.Contains("msg=done", "transport=sms") || logs.Contains("msg=done", "absent") {
		t.Error("Contains does not match lines by every part")
	}
}
