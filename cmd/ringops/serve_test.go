package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/daemon"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/sources/git"
)

type idleSource struct{}

func (idleSource) Run(ctx context.Context, _ chan<- git.Result) { <-ctx.Done() }
func (idleSource) Trigger()                                     {}

type idleEngine struct{}

func (idleEngine) Prepare(context.Context, reconciler.Source) *reconciler.Target { return nil }
func (idleEngine) Observe(context.Context, *reconciler.Target) (*plan.Observed, error) {
	return nil, nil
}
func (idleEngine) Execute(context.Context, plan.Plan) ([]reconciler.Event, error) { return nil, nil }
func (idleEngine) Wait(context.Context, *reconciler.Target, plan.Plan) error      { return nil }

func testServer(t *testing.T, apiAddress string) (main, api http.Handler) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(testToken), 0o600))
	d, err := daemon.New(idleSource{}, idleEngine{}, nil, daemon.DefaultOptions())
	require.NoError(t, err)
	s := &daemonSetup{f: runFlags{httpAddress: "127.0.0.1:0", apiAddress: apiAddress, apiTokenFile: file, repo: "https://github.com/acme/db.git"},
		metrics: daemon.NewMetrics(), daemon: d}
	h := newHTTPServer(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	main = h.servers[0].Handler
	if len(h.servers) > 1 {
		api = h.servers[1].Handler
	}
	return main, api
}

func get(h http.Handler, path string, token bool) (int, string) {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token {
		r.Header.Set("Authorization", "Bearer "+testToken)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestAPIListenerOfItsOwn: with --api-address, the API and the page are
// served there only (behind the token), and the main listener keeps
// health and metrics alone; without it, the main listener serves them,
// behind the token too.
func TestAPIListenerOfItsOwn(t *testing.T) {
	main, api := testServer(t, "127.0.0.1:0")
	require.NotNil(t, api)
	for _, path := range []string{"/", "/api/v1/clusters", "/api/v1/clusters/x", "/assets/app.js"} {
		code, _ := get(main, path, true)
		require.Equal(t, http.StatusNotFound, code, "main listener: %s", path)
		code, _ = get(api, path, false)
		require.Equal(t, http.StatusUnauthorized, code, "api listener without the token: %s", path)
	}
	code, body := get(api, "/", true)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `src="assets/app.js"`)
	code, _ = get(api, "/api/v1/clusters", true)
	require.Equal(t, http.StatusOK, code)
	code, _ = get(api, "/metrics", true)
	require.Equal(t, http.StatusNotFound, code, "metrics stay on the main listener")
	code, _ = get(main, "/metrics", false)
	require.Equal(t, http.StatusOK, code)

	main, api = testServer(t, "")
	require.Nil(t, api)
	code, _ = get(main, "/api/v1/clusters", false)
	require.Equal(t, http.StatusUnauthorized, code)
	code, _ = get(main, "/", true)
	require.Equal(t, http.StatusOK, code)
	code, _ = get(main, "/healthz", false)
	require.Equal(t, http.StatusOK, code, "health needs no token")
}
