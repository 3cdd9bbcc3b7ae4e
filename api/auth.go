package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// TokenCookie is the cookie the web interface's login form sets: it carries a
// token for the browser, which cannot add an Authorization header itself.
const TokenCookie = "flapjack_token"

// WebLoginPath is where RequireTokens serves the web interface's login form
// (GET) and takes its token (POST); WebLogoutPath forgets the cookie (POST).
const (
	WebLoginPath  = "/web/login"
	WebLogoutPath = "/web/logout"
)

// sameOrigin refuses cross-site requests to sign out, as the web interface
// refuses its other forms' (a sign-out is no secret, but no other site should
// end the session).
var sameOrigin = http.NewCrossOriginProtection()

// constantTimeCompare compares tokens; a variable so that tests can see it is
// used.
var constantTimeCompare = subtle.ConstantTimeCompare

type access int

const (
	denied access = iota
	readOnly
	readWrite
)

// tokens holds the digests of the configured tokens. Comparing fixed-size
// digests, every one of them, keeps the time taken independent of where and
// whether a presented token matches.
type tokens struct {
	read, write [][sha256.Size]byte
}

func newTokens(read, write []string) *tokens {
	t := &tokens{}
	for _, s := range read {
		t.read = append(t.read, sha256.Sum256([]byte(s)))
	}
	for _, s := range write {
		t.write = append(t.write, sha256.Sum256([]byte(s)))
	}
	return t
}

// access is what a presented token allows.
func (t *tokens) access(presented string) access {
	if presented == "" {
		return denied
	}
	d := sha256.Sum256([]byte(presented))
	var r, w int
	for i := range t.read {
		r |= constantTimeCompare(d[:], t.read[i][:])
	}
	for i := range t.write {
		w |= constantTimeCompare(d[:], t.write[i][:])
	}
	switch {
	case w == 1:
		return readWrite
	case r == 1:
		return readOnly
	}
	return denied
}

// RequireTokens answers only requests that present one of the tokens, as
// "Authorization: Bearer TOKEN" or, under /web/, as the cookie the login form
// at WebLoginPath sets. A read token allows GET, HEAD and OPTIONS requests; a
// write token allows every request. A missing or unknown token is a 401 with
// "WWW-Authenticate: Bearer"; a read token on any other method is a 403. API
// errors are JSON:API documents; the web interface's 401 shows its login form.
//
// /healthz, /readyz and CORS preflight requests (OPTIONS with
// Access-Control-Request-Method) need no token. With no tokens at all,
// RequireTokens returns next unchanged.
func RequireTokens(read, write []string, next http.Handler) http.Handler {
	if len(read)+len(write) == 0 {
		return next
	}
	t := newTokens(read, write)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/healthz" || path == "/readyz":
			next.ServeHTTP(w, r)
			return
		case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
			next.ServeHTTP(w, r)
			return
		case path == WebLoginPath:
			t.login(w, r)
			return
		case path == WebLogoutPath && r.Method == http.MethodPost:
			if err := sameOrigin.Check(r); err != nil {
				http.Error(w, "Forbidden: cross-origin request", http.StatusForbidden)
				return
			}
			setTokenCookie(w, r, "", -1)
			http.Redirect(w, r, WebLoginPath, http.StatusSeeOther)
			return
		}
		web := path == "/web" || strings.HasPrefix(path, "/web/")
		presented, ok := bearerToken(r)
		if !ok && web {
			if c, err := r.Cookie(TokenCookie); err == nil {
				presented = c.Value
			}
		}
		a := t.access(presented)
		switch {
		case a == denied:
			w.Header().Set("WWW-Authenticate", `Bearer realm="flapjack"`)
			if presented != "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="flapjack", error="invalid_token"`)
			}
			if web {
				loginPage(w, http.StatusUnauthorized, r.URL.RequestURI(), presented != "")
				return
			}
			writeErrors(w, errorf(http.StatusUnauthorized, "a bearer token is required (Authorization: Bearer TOKEN)"))
		case a == readOnly && !safeMethod(r.Method):
			if web {
				http.Error(w, "Forbidden: this token is read-only", http.StatusForbidden)
				return
			}
			writeErrors(w, errorf(http.StatusForbidden, "%s needs a write token; this token is read-only", r.Method))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// bearerToken is the token of an "Authorization: Bearer" header; ok reports
// whether the header was there.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

// login shows the login form (GET) or checks its token and sets the cookie
// (POST).
func (t *tokens) login(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "Bad request", http.StatusBadRequest)
			return
		}
		next = r.PostForm.Get("next")
		tok := strings.TrimSpace(r.PostForm.Get("token"))
		if t.access(tok) == denied {
			loginPage(w, http.StatusUnauthorized, next, true)
			return
		}
		setTokenCookie(w, r, tok, 0)
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	loginPage(w, http.StatusOK, next, false)
}

// safeNext keeps a redirect after login inside the web interface.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/web/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") &&
		!strings.HasPrefix(next, WebLoginPath) {
		return next
	}
	return "/web/"
}

func setTokenCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	c := &http.Cookie{
		Name: TokenCookie, Value: value, Path: "/web", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	}
	if maxAge < 0 {
		c.Expires = time.Unix(1, 0)
	}
	http.SetCookie(w, c)
}

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Flapjack – sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 4em auto">
<h1>Flapjack</h1>
{{if .Failed}}<p role="alert">That token is not valid.</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="next" value="{{.Next}}">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
</body></html>
`))

func loginPage(w http.ResponseWriter, status int, next string, failed bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, map[string]any{"Action": WebLoginPath, "Next": safeNext(next), "Failed": failed})
}
