package gatewaytest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// AssertNoSecrets fails t for every text showing one of secrets: as it is, or
// URL-escaped (query and path forms), JSON-escaped, hex- or base64-encoded
// (standard and URL alphabets, at any alignment, so that a secret inside a longer
// encoded string such as a Basic Authorization header is found too), in any
// letter case except for base64. Empty secrets are ignored.
//
// Pass every text a gateway run produced: error messages and log lines (see
// [Logs]). The failure messages name the text and the form found, but never show
// the secret.
func AssertNoSecrets(t testing.TB, secrets []string, texts ...string) {
	t.Helper()
	for i, s := range secrets {
		if s == "" {
			continue
		}
		forms := SecretForms(s)
		for j, text := range texts {
			for _, f := range forms {
				if f.contains(text) {
					t.Errorf("text %d shows secret %d (%s): %s", j, i, f.name, redact(text, forms, i))
					break
				}
			}
		}
	}
}

// SecretForm is one way a secret may show in a text.
type SecretForm struct {
	name string
	text string
	// exact is set for encodings where case matters (base64).
	exact bool
}

// String names the form, e.g. "base64".
func (f SecretForm) String() string { return f.name }

func (f SecretForm) contains(text string) bool { return f.index(text) >= 0 }

// index is where f shows in text, or -1.
func (f SecretForm) index(text string) int {
	if f.exact {
		return strings.Index(text, f.text)
	}
	for i := 0; i+len(f.text) <= len(text); i++ {
		if strings.EqualFold(text[i:i+len(f.text)], f.text) {
			return i
		}
	}
	return -1
}

// SecretForms lists the forms of secret that [AssertNoSecrets] looks for.
func SecretForms(secret string) []SecretForm {
	forms := []SecretForm{
		{name: "plain", text: secret},
		{name: "query-escaped", text: url.QueryEscape(secret)},
		{name: "path-escaped", text: url.PathEscape(secret)},
		{name: "hex", text: hex.EncodeToString([]byte(secret))},
	}
	if b, err := json.Marshal(secret); err == nil {
		forms = append(forms, SecretForm{name: "JSON-escaped", text: string(b[1 : len(b)-1])})
	}
	for _, enc := range []struct {
		name string
		enc  *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.URLEncoding}} {
		for offset := range 3 {
			if core := base64Core(enc.enc, secret, offset); core != "" {
				forms = append(forms, SecretForm{name: enc.name, text: core, exact: true})
			}
		}
	}
	return forms
}

// base64Core is the part of the encoding of secret, preceded by offset other
// bytes, that depends on secret alone: what any encoded text holding secret at
// that offset (mod 3) contains. It is empty when shorter than four characters,
// which would match by chance.
func base64Core(enc *base64.Encoding, secret string, offset int) string {
	buf := make([]byte, offset+len(secret))
	copy(buf[offset:], secret)
	full := enc.EncodeToString(buf)
	first := (8*offset + 5) / 6            // first character whose bits are all secret's
	last := 8 * (offset + len(secret)) / 6 // one past the last
	if last-first < 4 {
		return ""
	}
	return full[first:last]
}

// redact replaces every form of every secret in text, so that a failure message
// can show where a secret leaked without leaking it again.
func redact(text string, forms []SecretForm, i int) string {
	done := map[string]bool{}
	for _, f := range forms {
		if f.text == "" || done[f.text] {
			continue
		}
		done[f.text] = true
		mark := fmt.Sprintf("<secret %d, %s>", i, f.name)
		var b strings.Builder
		rest := text
		for k := f.index(rest); k >= 0; k = f.index(rest) {
			b.WriteString(rest[:k])
			b.WriteString(mark)
			rest = rest[k+len(f.text):]
		}
		b.WriteString(rest)
		text = b.String()
	}
	return text
}
