package main

// The API secured with tokens and TLS, through the built binary.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and returns
// the certificate's pool.
func selfSigned(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "flapjack test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool
}

func TestServerTokensAndTLS(t *testing.T) {
	dir := t.TempDir()
	pool := selfSigned(t, dir)
	port := freePort(t)
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
format = "json"

[gateways.jsonapi]
port = %d
tokens_read = ["reader-token"]
tokens_write = ["writer-token"]
tls_cert_file = "cert.pem"
tls_key_file = "key.pem"
`, port))
	d := startServer(t, "--config", config)
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	d.waitLog("that the intake listens over TLS", "event intake listening", base+"/events")
	if strings.Contains(d.stderr.String(), "reader-token") || strings.Contains(d.stderr.String(), "writer-token") {
		t.Errorf("a token is in the log:\n%s", d.stderr)
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	do := func(method, path, token, body string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	event := `{"entity":"web-01","check":"HTTP","state":"ok"}`
	for _, tc := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/checks", "", "", http.StatusUnauthorized},
		{"GET", "/checks", "wrong-token", "", http.StatusUnauthorized},
		{"GET", "/checks", "reader-token", "", http.StatusOK},
		{"GET", "/metrics", "", "", http.StatusUnauthorized},
		{"GET", "/metrics", "reader-token", "", http.StatusOK},
		{"GET", "/healthz", "", "", http.StatusOK},
		{"POST", "/events", "", event, http.StatusUnauthorized},
		{"POST", "/events", "reader-token", event, http.StatusForbidden},
		{"POST", "/events", "writer-token", event, http.StatusAccepted},
	} {
		code, h, body := do(tc.method, tc.path, tc.token, tc.body)
		if code != tc.want {
			t.Errorf("%s %s with token %q: %d %s, want %d", tc.method, tc.path, tc.token, code, body, tc.want)
		}
		if code == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s %s: 401 with WWW-Authenticate %q", tc.method, tc.path, h.Get("WWW-Authenticate"))
		}
	}

	// Plain HTTP is not served.
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP answered 200")
		}
	}
	d.stop()
}

func TestServerRefusesOpenNonLoopback(t *testing.T) {
	dir := t.TempDir()
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf("[gateways.jsonapi]\nbind_address = \"0.0.0.0\"\nport = %d\n", freePort(t)))
	r := runFlapjack(t, "server", "--config", config)
	if r.code == 0 || !strings.Contains(r.stderr, `flapjack.toml:2: [gateways.jsonapi] tokens are required when listening on "0.0.0.0"`) {
		t.Errorf("server on 0.0.0.0 without tokens: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
