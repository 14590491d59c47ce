package git

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const gitHTTPBackend = "/usr/lib/git-core/git-http-backend"

// repo is a bare repository served to the poller plus a work tree that
// commits and pushes into it (over the local file transport, so that pushes
// never show in the server's request counts).
type repo struct {
	t    testing.TB
	root string // GIT_PROJECT_ROOT
	bare string // root/repo.git
	work string
	env  []string
}

func newRepo(t testing.TB) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed (apt-get install git)")
	}
	root := t.TempDir()
	home := t.TempDir()
	r := &repo{t: t, root: root, bare: filepath.Join(root, "repo.git"), work: filepath.Join(root, "work")}
	r.env = append(os.Environ(),
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"),
		"GIT_AUTHOR_NAME=Ada", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada", "GIT_COMMITTER_EMAIL=ada@example.com",
		"GIT_TERMINAL_PROMPT=0",
	)
	r.run(root, "init", "-q", "--bare", "-b", "main", r.bare)
	r.run(root, "init", "-q", "-b", "main", r.work)
	return r
}

// run runs git in dir and returns its trimmed stdout.
func (r *repo) run(dir string, args ...string) string {
	r.t.Helper()
	out, err := r.runErr(dir, nil, args...)
	if err != nil {
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (r *repo) runErr(dir string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, r.env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// git runs git in the work tree.
func (r *repo) git(args ...string) string {
	r.t.Helper()
	return r.run(r.work, args...)
}

// write writes files (path -> content) into the work tree.
func (r *repo) write(files map[string]string) {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// commit writes files, commits them (extra args go to git commit, e.g.
// -S) and pushes the work tree's main to the bare repository.
func (r *repo) commit(files map[string]string, msg string, args ...string) string {
	r.t.Helper()
	r.write(files)
	r.git("add", "-A")
	r.git(append([]string{"commit", "-q", "--allow-empty", "-m", msg}, args...)...)
	r.push("HEAD", "refs/heads/main")
	return r.git("rev-parse", "HEAD")
}

// push force-pushes src (a hash or ref of the work tree) to ref in the bare repo.
func (r *repo) push(src, ref string) {
	r.t.Helper()
	r.git("push", "-q", "--force", r.bare, src+":"+ref)
}

// deleteRef removes ref from the bare repository.
func (r *repo) deleteRef(ref string) {
	r.t.Helper()
	r.run(r.bare, "update-ref", "-d", ref)
}

// gitServer serves the repo's root with git http-backend through net/http/cgi
// on 127.0.0.1 and counts requests by kind.
type gitServer struct {
	*httptest.Server
	URL         string // repository URL
	infoRefs    atomic.Int64
	uploadPacks atomic.Int64
	// check, when set, authenticates requests (false -> 401).
	check func(*http.Request) bool
}

func (s *gitServer) ServeHTTP(w http.ResponseWriter, req *http.Request, next http.Handler) {
	if s.check != nil && !s.check(req) {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	switch {
	case strings.HasSuffix(req.URL.Path, "/info/refs"):
		s.infoRefs.Add(1)
	case req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/git-upload-pack"):
		s.uploadPacks.Add(1)
	}
	next.ServeHTTP(w, req)
}

// counts returns (ref advertisements, upload-pack requests) so far.
func (s *gitServer) counts() (int64, int64) { return s.infoRefs.Load(), s.uploadPacks.Load() }

type serverOption func(*gitServer)

func withAuth(check func(*http.Request) bool) serverOption {
	return func(s *gitServer) { s.check = check }
}

// startHTTP serves r over plain HTTP.
func startHTTP(t testing.TB, r *repo, opts ...serverOption) *gitServer {
	return startServer(t, r, nil, opts...)
}

// startServer serves r over HTTP, or HTTPS when cert is set.
func startServer(t testing.TB, r *repo, cert *tls.Certificate, opts ...serverOption) *gitServer {
	t.Helper()
	if _, err := os.Stat(gitHTTPBackend); err != nil {
		t.Skipf("%s missing (apt-get install git)", gitHTTPBackend)
	}
	s := &gitServer{}
	for _, o := range opts {
		o(s)
	}
	backend := &cgi.Handler{
		Path: gitHTTPBackend, Root: "/git",
		Env: []string{"GIT_PROJECT_ROOT=" + r.root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + r.root},
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { s.ServeHTTP(w, req, backend) })
	s.Server = httptest.NewUnstartedServer(h)
	s.Server.Config.ErrorLog = log.New(io.Discard, "", 0) // TLS handshakes refused on purpose
	if cert != nil {
		s.Server.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		s.Server.StartTLS()
	} else {
		s.Server.Start()
	}
	t.Cleanup(s.Server.Close)
	s.URL = s.Server.URL + "/git/repo.git"
	return s
}

// testCA is a CA and a server certificate for 127.0.0.1 signed by it.
type testCA struct {
	caPEM  []byte
	server tls.Certificate
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ringops test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey},
	}
}

// writeFile writes content to a new file in a temp dir with mode 0600.
func writeFile(t testing.TB, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testOptions returns defaults for url with short timeouts fit for tests.
func testOptions(url string) Options {
	o := DefaultOptions()
	o.URL = url
	o.Timeout = 20 * time.Second
	return o
}

func mustPoller(t testing.TB, o Options) *Poller {
	t.Helper()
	p, err := NewPoller(o)
	if err != nil {
		t.Fatalf("NewPoller: %v", err)
	}
	return p
}

// readFile reads name from the snapshot or fails.
func readFile(t testing.TB, s *Snapshot, name string) string {
	t.Helper()
	b, err := s.FS.ReadFile(name)
	if err != nil {
		t.Fatalf("snapshot %s: %v", s.Revision, err)
	}
	return string(b)
}
