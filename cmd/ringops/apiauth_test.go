package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testToken = "s3cr3t-token-value"

func guarded(t *testing.T) (http.Handler, *bytes.Buffer, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(testToken+"\n"), 0o600))
	var logs bytes.Buffer
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("clusters")) })
	return tokenGuard{file: file, log: slog.New(slog.NewTextHandler(&logs, nil))}.wrap(ok), &logs, file
}

func TestTokenGuard(t *testing.T) {
	h, logs, _ := guarded(t)
	for name, tc := range map[string]struct {
		auth string
		want int
	}{
		"none":          {want: http.StatusUnauthorized},
		"wrong":         {auth: "Bearer nope", want: http.StatusUnauthorized},
		"prefix":        {auth: "Bearer " + testToken[:5], want: http.StatusUnauthorized},
		"basic":         {auth: "Basic " + testToken, want: http.StatusUnauthorized},
		"the token":     {auth: "Bearer " + testToken, want: http.StatusOK},
		"token+newline": {auth: "Bearer " + testToken + " ", want: http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/", "/api/v1/clusters", "/api/v1/events"} {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				if tc.auth != "" {
					r.Header.Set("Authorization", tc.auth)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				require.Equal(t, tc.want, w.Code, path)
				if tc.want == http.StatusUnauthorized {
					require.NotContains(t, w.Body.String(), "clusters", path)
					require.Equal(t, `Bearer realm="ringops"`, w.Header().Get("WWW-Authenticate"))
				}
			}
		})
	}
	require.NotContains(t, logs.String(), testToken)
}

// TestTokenGuardLogin: a browser posts the token to the login form and
// is then let in by its cookie; a wrong token gets no cookie, and the
// token is never logged.
func TestTokenGuardLogin(t *testing.T) {
	h, logs, file := guarded(t)
	page := httptest.NewRequest(http.MethodGet, "/", nil)
	page.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, page)
	require.Equal(t, http.StatusUnauthorized, w.Code)
	require.Contains(t, w.Body.String(), `action="login"`, "a relative action: the page may sit behind a path prefix")

	login := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	bad := login("guess")
	require.Equal(t, http.StatusSeeOther, bad.Code)
	require.Empty(t, bad.Result().Cookies())
	good := login(testToken)
	require.Equal(t, http.StatusSeeOther, good.Code)
	require.Equal(t, "./", good.Header().Get("Location"))
	cookies := good.Result().Cookies()
	require.Len(t, cookies, 1)
	require.True(t, cookies[0].HttpOnly)
	require.NotContains(t, cookies[0].Value, testToken)

	get := func() int {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/clusters", nil)
		r.AddCookie(cookies[0])
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusOK, get())
	require.NoError(t, os.WriteFile(file, []byte("rotated"), 0o600))
	require.Equal(t, http.StatusUnauthorized, get(), "a rotated token voids the cookies")
	require.NotContains(t, logs.String(), testToken)
}

func TestTokenGuardUnreadableFile(t *testing.T) {
	h, logs, file := guarded(t)
	require.NoError(t, os.Remove(file))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/clusters", nil)
	r.Header.Set("Authorization", "Bearer "+testToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusServiceUnavailable, w.Code)
	require.Contains(t, logs.String(), file, "the log names the file")
	require.NotContains(t, logs.String(), testToken)
}
