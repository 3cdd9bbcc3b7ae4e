package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/config"
)

// writeKeyPair writes a self-signed cert.pem and its key.pem to dir.
func writeKeyPair(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*pem.Block{
		"cert.pem": {Type: "CERTIFICATE", Bytes: der},
		"key.pem":  {Type: "PRIVATE KEY", Bytes: kder},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestJSONAPISecurity(t *testing.T) {
	dir := t.TempDir()
	writeKeyPair(t, dir)
	path := filepath.Join(dir, "flapjack.toml")
	for _, tc := range []struct {
		name string
		text string
		want []string // every line of the error; none: valid
	}{
		{name: "loopback without tokens", text: "[gateways.jsonapi]\nbind_address = \"127.0.0.2\"\n"},
		{name: "::1 without tokens", text: "[gateways.jsonapi]\nbind_address = \"::1\"\n"},
		{name: "localhost without tokens", text: "[gateways.jsonapi]\nbind_address = \"localhost\"\n"},
		{name: "default address without tokens", text: "[gateways.jsonapi]\nport = 3081\n"},
		{name: "any address with a read token", text: "[gateways.jsonapi]\nbind_address = \"0.0.0.0\"\ntokens_read = [\"r\"]\n"},
		{name: "any address with a write token", text: "[gateways.jsonapi]\nbind_address = \"10.0.0.1\"\ntokens_write = [\"w\"]\n"},
		{name: "disabled on any address", text: "[gateways.jsonapi]\nenabled = false\nbind_address = \"0.0.0.0\"\n"},
		{name: "cert and key", text: "[gateways.jsonapi]\ntls_cert_file = \"cert.pem\"\ntls_key_file = \"key.pem\"\n"},
		{
			name: "any address without tokens",
			text: "[gateways.jsonapi]\nbind_address = \"0.0.0.0\"\n",
			want: []string{path + `:2: [gateways.jsonapi] tokens are required when listening on "0.0.0.0": set tokens_read and/or tokens_write, or bind to 127.0.0.1`},
		},
		{
			name: "empty bind address without tokens",
			text: "[gateways.jsonapi]\nport = 3081\nbind_address = \"\"\n",
			want: []string{path + `:3: [gateways.jsonapi] tokens are required when listening on "": set tokens_read and/or tokens_write, or bind to 127.0.0.1`},
		},
		{
			name: "bad tokens",
			text: "[gateways.jsonapi]\ntokens_read = [\"\"]\ntokens_write = [\"ok\", \"has space\"]\n",
			want: []string{
				path + `:2: [gateways.jsonapi] tokens_read: token 1 is empty`,
				path + `:3: [gateways.jsonapi] tokens_write: token 2 has a space, a control or a non-ASCII character`,
			},
		},
		{
			name: "cert without key",
			text: "[gateways.jsonapi]\ntls_cert_file = \"cert.pem\"\n",
			want: []string{path + `:2: [gateways.jsonapi] tls_cert_file needs tls_key_file`},
		},
		{
			name: "key without cert",
			text: "[gateways.jsonapi]\n\ntls_key_file = \"key.pem\"\n",
			want: []string{path + `:3: [gateways.jsonapi] tls_key_file needs tls_cert_file`},
		},
		{
			name: "unreadable files",
			text: "[gateways.jsonapi]\ntls_cert_file = \"none.pem\"\ntls_key_file = \"key.pem\"\n",
			want: []string{path + `:2: [gateways.jsonapi] tls_cert_file: open ` + filepath.Join(dir, "none.pem") + `: no such file or directory`},
		},
		{
			name: "key for another certificate",
			text: "[gateways.jsonapi]\ntls_cert_file = \"key.pem\"\ntls_key_file = \"cert.pem\"\n",
			want: []string{path + `:2: [gateways.jsonapi] tls_cert_file and tls_key_file: tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tc.text), path)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.text, err)
				}
				if _, err := c.JSONAPI(); err != nil {
					t.Fatalf("JSONAPI(): %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want %d problems", tc.text, len(tc.want))
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) error:\n%s\nwant:\n%s", tc.text, err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestJSONAPITokensAndTLS(t *testing.T) {
	dir := t.TempDir()
	writeKeyPair(t, dir)
	c, err := config.Parse([]byte("[gateways.jsonapi]\nbind_address = \"0.0.0.0\"\ntokens_read = [\"s3cret-read\"]\ntokens_write = [\"s3cret-write\"]\ntls_cert_file = \"cert.pem\"\ntls_key_file = \""+filepath.Join(dir, "key.pem")+"\"\n"), filepath.Join(dir, "flapjack.toml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.JSONAPI()
	if err != nil {
		t.Fatal(err)
	}
	if !j.AuthRequired() || !j.TLS() || j.TLSCertFile != filepath.Join(dir, "cert.pem") || j.TLSKeyFile != filepath.Join(dir, "key.pem") ||
		!reflect.DeepEqual(j.TokensRead, []string{"s3cret-read"}) || !reflect.DeepEqual(j.TokensWrite, []string{"s3cret-write"}) {
		t.Errorf("JSONAPI() = %+v", j)
	}
	// Tokens are never part of an error.
	_, err = config.Parse([]byte("[gateways.jsonapi]\ntokens_read = [\"s3cret\", \"bad s3cret\"]\nbind_address = \"0.0.0.0\"\n"), "f.toml")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v: want one, without the token", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true, "localhost": true, "LocalHost": true,
		"0.0.0.0": false, "": false, "::": false, "10.0.0.1": false, "example.com": false, "128.0.0.1": false,
	} {
		if got := config.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
