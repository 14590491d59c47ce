package git

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/ringops/ringops/test/gitserver"
)

// The servers and repositories are test/gitserver's; what follows are the
// short names these tests were written with.

// repo is a bare repository served to the poller plus a work tree that
// commits and pushes into it (over the local file transport, so that pushes
// never show in the server's request counts). Tests may extend env (e.g.
// GNUPGHOME): every git command runs with it.
type repo struct {
	g    *gitserver.Repo
	t    testing.TB
	bare string // the bare repository's path
	work string
	env  []string
}

func newRepo(t testing.TB) *repo {
	t.Helper()
	g := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	return &repo{g: g, t: t, bare: g.Bare, work: g.Work, env: g.Env}
}

// shared returns the gitserver.Repo, running its commands with r.env.
func (r *repo) shared() *gitserver.Repo {
	r.g.Env = r.env
	return r.g
}

// runErr runs git in dir with stdin and returns its trimmed stdout.
func (r *repo) runErr(dir string, stdin []byte, args ...string) (string, error) {
	return r.shared().Run(dir, stdin, args...)
}

// git runs git in the work tree.
func (r *repo) git(args ...string) string {
	r.t.Helper()
	return r.shared().Git(args...)
}

// write writes files (path -> content) into the work tree.
func (r *repo) write(files map[string]string) {
	r.t.Helper()
	r.shared().Write(files)
}

// commit writes files, commits them (extra args go to git commit, e.g.
// -S) and force-pushes the work tree's HEAD to main in the bare repository.
func (r *repo) commit(files map[string]string, msg string, args ...string) string {
	r.t.Helper()
	g := r.shared()
	g.Write(files)
	hash := g.Commit(msg, args...)
	g.PushRef("HEAD", "refs/heads/main")
	return hash
}

// push force-pushes src (a hash or ref of the work tree) to ref in the bare repo.
func (r *repo) push(src, ref string) {
	r.t.Helper()
	r.shared().PushRef(src, ref)
}

// deleteRef removes ref from the bare repository.
func (r *repo) deleteRef(ref string) {
	r.t.Helper()
	r.shared().DeleteRef(ref)
}

// gitServer is git http-backend serving a repo on 127.0.0.1.
type gitServer struct {
	*gitserver.HTTPServer
	URL string // repository URL
}

// counts returns (ref advertisements, upload-pack requests) so far.
func (s *gitServer) counts() (int64, int64) {
	c := s.Counts()
	return c.RefAdvertisements, c.Fetches
}

// Close stops the server: connections are refused from then on.
func (s *gitServer) Close() { s.Stop() }

type serverOption func(*gitserver.HTTPOptions)

// withAuth authenticates requests with check (false -> 401).
func withAuth(check func(*http.Request) bool) serverOption {
	return func(o *gitserver.HTTPOptions) { o.Authorize = check }
}

// withTLS serves HTTPS with a certificate signed by the server's own CA
// (gitServer.CAFile).
func withTLS() serverOption {
	return func(o *gitserver.HTTPOptions) { o.TLS = true }
}

// withProtocolV2 lets the git CLI speak protocol v2, as against a forge.
func withProtocolV2() serverOption {
	return func(o *gitserver.HTTPOptions) { o.ProtocolV2 = true }
}

// startHTTP serves r over HTTP (HTTPS withTLS) until the test ends.
func startHTTP(t testing.TB, r *repo, opts ...serverOption) *gitServer {
	t.Helper()
	o := gitserver.DefaultHTTPOptions()
	for _, f := range opts {
		f(&o)
	}
	s := gitserver.NewHTTP(t, r.g, o)
	return &gitServer{HTTPServer: s, URL: s.URL()}
}

// newSSHKey returns an ed25519 key pair, the private key in OpenSSH PEM
// format, encrypted when passphrase is set.
func newSSHKey(t testing.TB, passphrase string) (ssh.PublicKey, []byte) {
	t.Helper()
	return gitserver.NewSSHKey(t, passphrase)
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

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
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
