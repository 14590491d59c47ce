package gitserver

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHTTPBackend is where Debian's git package installs git-http-backend.
const DefaultHTTPBackend = "/usr/lib/git-core/git-http-backend"

// HTTPOptions says how NewHTTP serves a repository.
type HTTPOptions struct {
	// Token, when set, requires HTTP basic auth with Token as the password
	// (the way forges take access tokens); requests without it or with
	// another get 401 Unauthorized. Ignored when Authorize is set.
	Token string
	// Username, when set with Token, is the only user name accepted; empty
	// accepts any.
	Username string
	// Authorize, when set, decides which requests are let in; the others get
	// 401 Unauthorized (e.g. to check a bearer token).
	Authorize func(*http.Request) bool
	// TLS serves HTTPS with a certificate for 127.0.0.1 signed by a CA made
	// for this server (see CAFile and CAPEM).
	TLS bool
	// AllowPush lets clients push over HTTP (http.receivepack).
	AllowPush bool
	// Backend is the path of git-http-backend.
	Backend string
	// Addr is the address to listen on; "127.0.0.1:0" picks a free port.
	Addr string
	// ProtocolV2 lets clients that ask for Git protocol v2 (the git CLI) have
	// it. Off, the server speaks v0/v1 only, as go-git does, and a ref
	// advertisement is one GET; in v2 an ls-remote is a GET plus a POST to
	// git-upload-pack (ls-refs), which Counts then counts as a fetch.
	ProtocolV2 bool
}

// DefaultHTTPOptions returns plain HTTP on a free port of 127.0.0.1,
// without authentication, fetches only.
func DefaultHTTPOptions() HTTPOptions {
	return HTTPOptions{Backend: DefaultHTTPBackend, Addr: "127.0.0.1:0"}
}

// Counts are the requests an HTTPServer has answered. Requests refused with
// 401 count only as Unauthorized.
type Counts struct {
	// RefAdvertisements are GETs of info/refs for fetching: one per
	// ls-remote, fetch or clone.
	RefAdvertisements int64
	// Fetches are POSTs to git-upload-pack: one per fetch or clone that
	// wants objects.
	Fetches int64
	// Pushes are POSTs to git-receive-pack.
	Pushes int64
	// Unauthorized are the requests answered 401.
	Unauthorized int64
}

// Sub returns c minus before: the requests made in between.
func (c Counts) Sub(before Counts) Counts {
	return Counts{
		RefAdvertisements: c.RefAdvertisements - before.RefAdvertisements,
		Fetches:           c.Fetches - before.Fetches,
		Pushes:            c.Pushes - before.Pushes,
		Unauthorized:      c.Unauthorized - before.Unauthorized,
	}
}

// HTTPServer serves a Repo with git http-backend (through net/http/cgi) on
// loopback and counts the requests by kind. Unless HTTPOptions.ProtocolV2
// is set it speaks the smart protocol v0/v1 only, as go-git does (it drops
// the Git-Protocol header that asks for v2), so that the counters mean the
// same for every client.
type HTTPServer struct {
	t       TB
	url     string
	addr    string // kept across Stop and Start
	handler http.Handler
	tls     *tls.Config
	ca      *testCA

	mu   sync.Mutex
	srv  *http.Server // nil when stopped
	done chan struct{}

	refs, fetches, pushes, unauthorized atomic.Int64
}

// NewHTTP serves r over HTTP (or HTTPS with o.TLS) until the test ends.
// It skips the test when git-http-backend is missing.
func NewHTTP(t TB, r *Repo, o HTTPOptions) *HTTPServer {
	t.Helper()
	o = withHTTPDefaults(o)
	if _, err := os.Stat(o.Backend); err != nil {
		t.Skipf("%s missing (apt-get install git)", o.Backend)
	}
	s := &HTTPServer{t: t, addr: o.Addr}
	s.handler = s.wrap(o, newBackend(o, r.Root))
	if o.TLS {
		s.ca = newTestCA(t)
		s.tls = &tls.Config{Certificates: []tls.Certificate{s.ca.server}}
	}
	s.Start()
	t.Cleanup(s.Stop)
	scheme := "http"
	if o.TLS {
		scheme = "https"
	}
	s.url = scheme + "://" + s.addr + "/git/" + filepath.ToSlash(relOrBase(r.Root, r.Bare))
	return s
}

func withHTTPDefaults(o HTTPOptions) HTTPOptions {
	d := DefaultHTTPOptions()
	if o.Backend == "" {
		o.Backend = d.Backend
	}
	if o.Addr == "" {
		o.Addr = d.Addr
	}
	return o
}

func relOrBase(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return filepath.Base(path)
}

// newBackend returns git-http-backend serving root under /git; its
// complaints (e.g. "Service not enabled") reach clients as HTTP statuses.
func newBackend(o HTTPOptions, root string) http.Handler {
	env := []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + root}
	if o.AllowPush {
		env = append(env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true")
	}
	return &cgi.Handler{Path: o.Backend, Root: "/git", Env: env, Stderr: io.Discard}
}

// wrap authenticates, counts and hands the request to next.
func (s *HTTPServer) wrap(o HTTPOptions, next http.Handler) http.Handler {
	allow := o.Authorize
	if allow == nil && o.Token != "" {
		allow = basicAuth(o.Username, o.Token)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if allow != nil && !allow(req) {
			s.unauthorized.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		s.count(req)
		if !o.ProtocolV2 {
			req.Header.Del("Git-Protocol")
		}
		next.ServeHTTP(w, req)
	})
}

func (s *HTTPServer) count(req *http.Request) {
	switch {
	case strings.HasSuffix(req.URL.Path, "/info/refs") && req.URL.Query().Get("service") != "git-receive-pack":
		s.refs.Add(1)
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-upload-pack"):
		s.fetches.Add(1)
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-receive-pack"):
		s.pushes.Add(1)
	}
}

// basicAuth accepts basic auth with token as the password and, when user is
// set, user as the user name.
func basicAuth(user, token string) func(*http.Request) bool {
	return func(req *http.Request) bool {
		u, pw, ok := req.BasicAuth()
		return ok && (user == "" || u == user) && subtle.ConstantTimeCompare([]byte(pw), []byte(token)) == 1
	}
}

// URL returns the repository's clone URL, e.g.
// http://127.0.0.1:40123/git/repo.git. It stays the same across Stop and
// Start.
func (s *HTTPServer) URL() string { return s.url }

// Addr returns the host:port the server listens on.
func (s *HTTPServer) Addr() string { return s.addr }

// Counts returns the requests answered so far.
func (s *HTTPServer) Counts() Counts {
	return Counts{
		RefAdvertisements: s.refs.Load(), Fetches: s.fetches.Load(),
		Pushes: s.pushes.Load(), Unauthorized: s.unauthorized.Load(),
	}
}

// CAFile returns the path of the PEM file of the CA that signed the
// server's certificate; empty without TLS.
func (s *HTTPServer) CAFile() string {
	if s.ca == nil {
		return ""
	}
	return s.ca.file
}

// CAPEM returns the PEM of the CA that signed the server's certificate; nil
// without TLS.
func (s *HTTPServer) CAPEM() []byte {
	if s.ca == nil {
		return nil
	}
	return s.ca.pem
}

// Stop closes the listener and waits (at most 10 s) for the requests in
// flight: from then on connections are refused, as from a server that is
// down. Stopping a stopped server does nothing.
func (s *HTTPServer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	s.srv = nil
}

// Start listens again on the same address after Stop; it fails the test
// when the port has been taken meanwhile. Starting a running server does
// nothing.
func (s *HTTPServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("git http server %s: %v", s.addr, err)
		return
	}
	s.addr = l.Addr().String()
	if s.tls != nil {
		l = tls.NewListener(l, s.tls)
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // handshakes refused on purpose
	}
	s.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(l)
	}(s.srv, s.done)
}
