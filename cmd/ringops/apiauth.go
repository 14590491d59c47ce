package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ringops/ringops/internal/secret"
)

// sessionCookie carries a browser's proof of the token: the HMAC of a
// fixed label under the token, never the token itself; a rotated token
// voids every cookie.
const sessionCookie = "ringops_session"

// tokenGuard serves the API, the status page and its events only to
// requests that carry the bearer token of --api-token-file (compared in
// constant time), or the session cookie a browser gets by posting that
// token to the page's login form. The token is read from its file on
// every request (a rotated Secret counts at once) and never logged.
type tokenGuard struct {
	file string
	log  *slog.Logger
}

// wrap guards next; with no token file, next is returned as it is.
func (g tokenGuard) wrap(next http.Handler) http.Handler {
	if g.file == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := secret.ReadFile(g.file)
		if err != nil || len(tok) == 0 {
			if err == nil {
				err = errEmptyToken
			}
			g.log.Error("api token unreadable: refusing every API request", "file", g.file, "err", err)
			http.Error(w, "api token unavailable", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/login" {
			g.login(w, r, tok)
			return
		}
		if allowed(r, tok) {
			next.ServeHTTP(w, r)
			return
		}
		deny(w, r)
	})
}

type tokenError string

func (e tokenError) Error() string { return string(e) }

const errEmptyToken = tokenError("the file is empty")

// allowed reports whether r carries the token or a cookie made from it.
func allowed(r *http.Request, tok secret.Secret) bool {
	if given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return tok.Equal([]byte(strings.TrimSpace(given)))
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return subtle.ConstantTimeCompare([]byte(c.Value), []byte(sessionValue(tok))) == 1
	}
	return false
}

func sessionValue(tok secret.Secret) string {
	m := hmac.New(sha256.New, tok)
	m.Write([]byte("ringops status page session"))
	return hex.EncodeToString(m.Sum(nil))
}

// deny answers 401: a browser asking for a page gets the login form
// (which shows nothing of the clusters), anything else a JSON error.
func deny(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="ringops"`)
	if r.Method == http.MethodGet && r.URL.Path == "/" && strings.Contains(r.Header.Get("Accept"), "text/html") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, r.URL.Query().Has("failed"))
		return
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a bearer token is required (Authorization: Bearer <the token of --api-token-file>)"})
}

// login takes the token from the form and sets the session cookie; the
// cookie's path is the login's directory, so that the page works behind a
// path prefix.
func (g tokenGuard) login(w http.ResponseWriter, r *http.Request, tok secret.Secret) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil || !tok.Equal([]byte(strings.TrimSpace(r.PostForm.Get("token")))) {
		g.log.Warn("status page login refused", "remote", r.RemoteAddr)
		seeOther(w, "./?failed")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sessionValue(tok), HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds()),
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"})
	seeOther(w, "./")
}

// seeOther redirects to a relative location, kept relative (http.Redirect
// would make it absolute, which breaks behind a path prefix).
func seeOther(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusSeeOther)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ringops</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px system-ui,sans-serif;margin:4em auto;max-width:26em;color:#222}
input{font:inherit;padding:.3em;width:100%;box-sizing:border-box;margin:.5em 0}</style></head>
<body><h1>ringops</h1>
<p>The status page needs the API token (the file of <code>--api-token-file</code>).</p>
{{if .}}<p role="alert"><strong>That token is not the right one.</strong></p>{{end}}
<form method="post" action="login"><label>Token <input type="password" name="token" autocomplete="current-password" autofocus></label>
<input type="submit" value="Show the clusters"></form></body></html>
`))
