package webhook_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/webhook"
)

func TestSign(t *testing.T) {
	// Computed independently, e.g.
	// printf '1454328000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
	for _, tc := range []struct{ secret, body, want string }{
		{"s3cret", `{"a":1}`, "t=1454328000,v1=87aaaf76c9e5bd72d2b209ba61d3df46c425663c224dae95b13863c77023d406"},
		// The example of the package documentation.
		{"whsec_5f0c2d9e8a7b4c1d", `{"id":"alert-42"}`, "t=1454328000,v1=e11eb9f6c2a0ee738f141c0588de263f387d8ccd31922f0ffb0bf42a7da7e7e4"},
	} {
		if got := webhook.Sign([]byte(tc.secret), []byte(tc.body), time.Unix(1454328000, 0)); got != tc.want {
			t.Errorf("Sign(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("whsec-0123456789")
	body := []byte(`{"id":"alert-42","check_name":"app-01:HTTP"}`)
	sent := time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC)
	header := webhook.Sign(secret, body, sent)
	_, sig, _ := strings.Cut(header, ",")
	old := webhook.Sign([]byte("previous-secret"), body, sent)
	_, oldSig, _ := strings.Cut(old, ",")
	for _, tc := range []struct {
		name      string
		secret    []byte
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error // nil: verified
	}{
		{name: "valid", header: header, now: sent.Add(time.Minute)},
		{name: "valid, sender's clock ahead", header: header, now: sent.Add(-time.Minute)},
		{name: "valid with a rotated secret beside it", header: header + "," + oldSig, now: sent},
		{name: "valid with another scheme added", header: header + ",v0=deadbeef", now: sent},
		{name: "valid with spaces", header: strings.ReplaceAll(header, ",", ", "), now: sent},
		{name: "at the edge of the default tolerance", header: header, now: sent.Add(webhook.DefaultTolerance)},
		{name: "replayed after the default tolerance", header: header, now: sent.Add(webhook.DefaultTolerance + time.Second),
			want: webhook.ErrSignatureExpired},
		{name: "replayed after a given tolerance", header: header, now: sent.Add(11 * time.Second), tolerance: 10 * time.Second,
			want: webhook.ErrSignatureExpired},
		{name: "timestamp moved forward", header: strings.Replace(header, "t=1454328000", "t=1454328600", 1), now: sent.Add(10 * time.Minute),
			want: webhook.ErrSignatureMismatch},
		{name: "body tampered with", header: header, body: []byte(`{"id":"alert-43","check_name":"app-01:HTTP"}`), now: sent,
			want: webhook.ErrSignatureMismatch},
		{name: "wrong secret", secret: []byte("guess"), header: header, now: sent, want: webhook.ErrSignatureMismatch},
		{name: "only the old secret's signature", header: old, now: sent, want: webhook.ErrSignatureMismatch},
		{name: "missing", header: "", now: sent, want: webhook.ErrNoSignature},
		{name: "no timestamp", header: sig, now: sent, want: webhook.ErrNoSignature},
		{name: "no signature", header: "t=1454328000", now: sent, want: webhook.ErrNoSignature},
		{name: "bad timestamp", header: strings.Replace(header, "t=1454328000", "t=yesterday", 1), now: sent, want: webhook.ErrNoSignature},
		{name: "bad hex", header: "t=1454328000,v1=zz", now: sent, want: webhook.ErrNoSignature},
		{name: "short signature", header: "t=1454328000,v1=abcd", now: sent, want: webhook.ErrNoSignature},
		{name: "garbage", header: "Bearer abc", now: sent, want: webhook.ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, b := secret, body
			if tc.secret != nil {
				s = tc.secret
			}
			if tc.body != nil {
				b = tc.body
			}
			err := webhook.Verify(s, tc.header, b, tc.now, tc.tolerance)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			gatewaytest.AssertNoSecrets(t, []string{string(secret), "previous-secret"}, err.Error())
		})
	}
	if err := webhook.Verify(nil, header, body, sent, 0); err == nil {
		t.Error("Verify with an empty secret succeeded")
	}
}

// TestSignedRequest checks the request a receiver gets: the signature of the
// exact body at the gateway clock's time, in the configured header, which
// Verify accepts.
func TestSignedRequest(t *testing.T) {
	sent := time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC)
	clock := flapjack.ClockFunc(func() time.Time { return sent })
	for _, tc := range []struct {
		name, configured, header string
	}{
		{"default header", "", "X-Flapjack-Signature"},
		{"configured header", "x-hub-signature", "X-Hub-Signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := webhook.New(webhook.Config{Secret: "whsec-abc", SignatureHeader: tc.configured}, gateway.Env{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Send(context.Background(), testAlert(ep.URL+"/hook")); err != nil {
				t.Fatal(err)
			}
			r := ep.Requests()[0]
			sig := r.Header.Get(tc.header)
			if !strings.HasPrefix(sig, "t=1454328000,v1=") {
				t.Fatalf("header %s = %q, want the signature at %d", tc.header, sig, sent.Unix())
			}
			if err := webhook.Verify([]byte("whsec-abc"), sig, r.Body, sent.Add(time.Second), 0); err != nil {
				t.Errorf("the receiver cannot verify the request: %v", err)
			}
			if n := len(r.Header.Values(tc.header)); n != 1 {
				t.Errorf("%d signature headers", n)
			}
		})
	}

	// Without a secret nothing is signed.
	ep := gatewaytest.NewHTTPEndpoint(t)
	g, err := webhook.New(webhook.Config{}, gateway.Env{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Send(context.Background(), testAlert(ep.URL)); err != nil {
		t.Fatal(err)
	}
	if h := ep.Requests()[0].Header; h.Get(webhook.DefaultSignatureHeader) != "" {
		t.Errorf("unsigned gateway sent %s", webhook.DefaultSignatureHeader)
	}

	_, err = webhook.New(webhook.Config{Secret: "x", SignatureHeader: "X Bad:Header"}, gateway.Env{})
	if err == nil || !strings.Contains(err.Error(), "signature_header") {
		t.Errorf("invalid signature header accepted: %v", err)
	}
}
