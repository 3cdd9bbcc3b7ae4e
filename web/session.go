package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// SessionCookie is the cookie that carries an action's message to the page it
// redirects to (Flapjack v2's session cookie, which it used for nothing else).
// It is signed with HMAC-SHA256 under Options.SessionSecret: a page shows only
// messages this server wrote, so a link cannot make it show a text of someone
// else's choosing, and a cookie changed in any way is ignored.
const SessionCookie = "flapjack.session"

// flashLifetime bounds how long a message waits for its page: it is read by
// the very next request.
const flashLifetime = time.Minute

// maxFlashText bounds the text of a message, so that the cookie stays small.
const maxFlashText = 1000

// flash is the message of an action, shown once.
type flash struct {
	Error  string `json:"error,omitempty"`
	Notice string `json:"notice,omitempty"`
	// Expires is when the message is no longer shown, in Unix seconds: a
	// cookie kept past its max-age is not replayed.
	Expires int64 `json:"exp"`
}

// newSessionSecret returns a random secret, for a handler given none.
func newSessionSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

func (h *handler) sign(payload string) string {
	mac := hmac.New(sha256.New, h.opts.SessionSecret)
	mac.Write([]byte(SessionCookie + "\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (h *handler) sessionCookie(r *http.Request, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: h.opts.Prefix + "/",
		MaxAge: int(maxAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil}
	if maxAge < 0 {
		c.MaxAge, c.Expires = -1, time.Unix(1, 0)
	}
	return c
}

// setFlash makes the next page show f.
func (h *handler) setFlash(w http.ResponseWriter, r *http.Request, f flash) {
	f.Error, f.Notice = truncate(f.Error, maxFlashText), truncate(f.Notice, maxFlashText)
	f.Expires = h.opts.Clock.Now().Add(flashLifetime).Unix()
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, h.sessionCookie(r, payload+"."+h.sign(payload), flashLifetime))
}

// takeFlash returns the message the request's cookie carries, when the cookie
// is this server's and still valid, and clears the cookie.
func (h *handler) takeFlash(w http.ResponseWriter, r *http.Request) flash {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return flash{}
	}
	http.SetCookie(w, h.sessionCookie(r, "", -1))
	payload, mac, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(h.sign(payload))) {
		return flash{}
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var f flash
	if err != nil || json.Unmarshal(b, &f) != nil || h.opts.Clock.Now().Unix() > f.Expires {
		return flash{}
	}
	return f
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
