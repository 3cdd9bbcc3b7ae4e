package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/x/flapjack/gateway/webhook"
)

// ExampleVerify is a receiver's handler: it refuses a request whose signature
// does not match its body, or which was signed too long ago.
func ExampleVerify() {
	secret := []byte("whsec-0123456789")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get("X-Flapjack-Signature"), body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent) // decode and handle the alert here
	})

	body := `{"id":"alert-42","check_name":"app-01:HTTP","type":"problem"}`
	for _, tc := range []struct {
		name, signature, body string
	}{
		{"signed now", webhook.Sign(secret, []byte(body), time.Now()), body},
		{"tampered", webhook.Sign(secret, []byte(body), time.Now()), strings.Replace(body, "problem", "recovery", 1)},
		{"replayed", webhook.Sign(secret, []byte(body), time.Now().Add(-time.Hour)), body},
	} {
		req := httptest.NewRequest(http.MethodPost, "/flapjack", strings.NewReader(tc.body))
		req.Header.Set("X-Flapjack-Signature", tc.signature)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %d %s", tc.name, rec.Code, rec.Body.String())))
	}
	// Output:
	// signed now: 204
	// tampered: 401 webhook signature does not match
	// replayed: 401 webhook signature outside the time tolerance: signed 1h0m0s from now, tolerance 5m0s
}
