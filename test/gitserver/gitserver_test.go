package gitserver_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringops/ringops/test/gitserver"
)

// lsRemote returns the refs the server advertises as "hash ref" lines.
func lsRemote(t *testing.T, r *gitserver.Repo, url string, env ...string) (string, error) {
	t.Helper()
	saved := r.Env
	defer func() { r.Env = saved }()
	r.Env = append(append([]string(nil), saved...), env...)
	return r.Run(t.TempDir(), nil, "ls-remote", url)
}

// clone clones url into a new directory and returns its path.
func clone(t *testing.T, r *gitserver.Repo, url string, env ...string) (string, error) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "clone")
	saved := r.Env
	defer func() { r.Env = saved }()
	r.Env = append(append([]string(nil), saved...), env...)
	_, err := r.Run(filepath.Dir(dst), nil, "clone", "-q", url, dst)
	return dst, err
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHTTPServesPushesAndCounts(t *testing.T) {
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	first := r.CommitAndPush("one", map[string]string{"clusters/orders/cluster.yaml": "v: 1\n"})
	srv := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())

	dir, err := clone(t, r, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "clusters/orders/cluster.yaml")); got != "v: 1\n" {
		t.Errorf("cloned cluster.yaml = %q, want v: 1", got)
	}
	if c := srv.Counts(); c != (gitserver.Counts{RefAdvertisements: 1, Fetches: 1}) {
		t.Errorf("after one clone: %+v, want 1 ref advertisement and 1 fetch", c)
	}

	before := srv.Counts()
	second := r.CommitAndPush("two", map[string]string{"clusters/orders/cluster.yaml": "v: 2\n"})
	r.PushRef("HEAD", "refs/pull/1/head")
	out, err := lsRemote(t, r, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{second + "\trefs/heads/main", second + "\trefs/pull/1/head"} {
		if !strings.Contains(out, line) {
			t.Errorf("ls-remote after push:\n%s\nwant the line %q", out, line)
		}
	}
	if d := srv.Counts().Sub(before); d != (gitserver.Counts{RefAdvertisements: 1}) {
		t.Errorf("local pushes + one ls-remote: %+v, want exactly 1 ref advertisement", d)
	}

	r.ResetTo(first)
	if out, _ := lsRemote(t, r, srv.URL()); !strings.Contains(out, first+"\trefs/heads/main") {
		t.Errorf("ls-remote after ResetTo(first):\n%s\nwant main at %s", out, first)
	}
	r.DeleteBranch()
	if out, _ := lsRemote(t, r, srv.URL()); strings.Contains(out, "refs/heads/main") {
		t.Errorf("ls-remote after DeleteBranch still lists main:\n%s", out)
	}
}

func TestPushRejectsNonFastForwardUnlessForced(t *testing.T) {
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	first := r.CommitAndPush("one", nil)
	second := r.CommitAndPush("two", nil)
	r.Git("reset", "-q", "--hard", first)
	third := r.Commit("three")
	if _, err := r.Run(r.Work, nil, "push", "-q", "origin", "HEAD:refs/heads/main"); err == nil {
		t.Fatalf("pushing %s over %s was accepted, want a non-fast-forward rejection", third, second)
	}
	r.ForcePush()
	if got, _ := r.Run(r.Bare, nil, "rev-parse", "refs/heads/main"); got != third {
		t.Errorf("main after ForcePush = %s, want %s", got, third)
	}
}

func TestCopyDirKeepsModesAndLinks(t *testing.T) {
	src := t.TempDir()
	for p, content := range map[string]string{"clusters/orders/cluster.yaml": "kind: X\n", "tools/run.sh": "#!/bin/sh\n"} {
		full := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(src, "tools/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("clusters/orders", filepath.Join(src, "orders")); err != nil {
		t.Fatal(err)
	}
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	r.CopyDir(src, "example")
	hash := r.CommitAndPush("copied", nil)

	got, err := r.Run(r.Bare, nil, "ls-tree", "-r", "--format=%(objectmode) %(path)", hash)
	if err != nil {
		t.Fatal(err)
	}
	want := "100644 example/clusters/orders/cluster.yaml\n120000 example/orders\n100755 example/tools/run.sh"
	if got != want {
		t.Errorf("tree of the copy:\n%s\nwant\n%s", got, want)
	}
}

func TestHTTPTokenAuth(t *testing.T) {
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	r.CommitAndPush("one", nil)
	o := gitserver.DefaultHTTPOptions()
	o.Username, o.Token = "oauth2", "s3cret-token"
	srv := gitserver.NewHTTP(t, r, o)
	withCreds := func(user, token string) string {
		return strings.Replace(srv.URL(), "http://", "http://"+user+":"+token+"@", 1)
	}

	if _, err := lsRemote(t, r, withCreds("oauth2", "s3cret-token")); err != nil {
		t.Errorf("ls-remote with the token: %v", err)
	}
	for name, url := range map[string]string{
		"wrong token":    withCreds("oauth2", "wrong"),
		"wrong user":     withCreds("someone", "s3cret-token"),
		"no credentials": srv.URL(),
	} {
		before := srv.Counts()
		_, err := lsRemote(t, r, url)
		if err == nil {
			t.Errorf("%s: ls-remote succeeded, want an authentication failure", name)
		}
		if d := srv.Counts().Sub(before); d.Unauthorized == 0 || d.RefAdvertisements != 0 {
			t.Errorf("%s: %+v, want 401s and no ref advertisement", name, d)
		}
	}
}

func TestHTTPStopStartKeepsTheURL(t *testing.T) {
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	r.CommitAndPush("one", nil)
	srv := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())
	url := srv.URL()

	srv.Stop()
	if _, err := lsRemote(t, r, url); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Errorf("ls-remote of a stopped server: %v, want a failure to connect", err)
	}
	srv.Start()
	if srv.URL() != url {
		t.Errorf("URL after restart = %s, want %s", srv.URL(), url)
	}
	if _, err := lsRemote(t, r, url); err != nil {
		t.Errorf("ls-remote after restart: %v", err)
	}
}

func TestHTTPSTrustsOnlyItsCA(t *testing.T) {
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	hash := r.CommitAndPush("one", nil)
	o := gitserver.DefaultHTTPOptions()
	o.TLS = true
	srv := gitserver.NewHTTP(t, r, o)
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL = %s, want https://127.0.0.1:PORT/...", srv.URL())
	}
	if pem := readFile(t, srv.CAFile()); pem != string(srv.CAPEM()) || !strings.Contains(pem, "BEGIN CERTIFICATE") {
		t.Errorf("CAFile holds %q, want the CA's PEM", pem)
	}

	out, err := lsRemote(t, r, srv.URL(), "GIT_SSL_CAINFO="+srv.CAFile())
	if err != nil || !strings.Contains(out, hash) {
		t.Errorf("ls-remote trusting the CA: %q, %v; want %s", out, err, hash)
	}
	if _, err := lsRemote(t, r, srv.URL(), "GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt"); err == nil {
		t.Error("ls-remote trusting only the system CAs succeeded, want a certificate error")
	}
}

func TestHTTPPushNeedsAllowPush(t *testing.T) {
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	r.CommitAndPush("one", nil)
	o := gitserver.DefaultHTTPOptions()
	readOnly := gitserver.NewHTTP(t, r, o)
	o.AllowPush = true
	writable := gitserver.NewHTTP(t, r, o)

	dir, err := clone(t, r, writable.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(dir, nil, "commit", "-q", "--allow-empty", "-m", "over http"); err != nil {
		t.Fatal(err)
	}
	hash, _ := r.Run(dir, nil, "rev-parse", "HEAD")
	if _, err := r.Run(dir, nil, "push", "-q", readOnly.URL(), "HEAD:refs/heads/main"); err == nil {
		t.Error("push to the server without AllowPush succeeded")
	}
	if _, err := r.Run(dir, nil, "push", "-q", writable.URL(), "HEAD:refs/heads/main"); err != nil {
		t.Fatalf("push with AllowPush: %v", err)
	}
	if got, _ := r.Run(r.Bare, nil, "rev-parse", "refs/heads/main"); got != hash {
		t.Errorf("main after the HTTP push = %s, want %s", got, hash)
	}
	if c := writable.Counts(); c.Pushes != 1 {
		t.Errorf("counts after one push: %+v, want Pushes 1", c)
	}
}

func TestSSHClone(t *testing.T) {
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	hash := r.CommitAndPush("one", map[string]string{"a.yaml": "ssh\n"})
	srv := gitserver.NewSSH(t, gitserver.DefaultSSHOptions())
	url := srv.URL(r.Bare)
	if want := "ssh://" + srv.User() + "@127.0.0.1:"; !strings.HasPrefix(url, want) {
		t.Errorf("URL = %s, want it to start with %s", url, want)
	}

	dir, err := clone(t, r, url, "GIT_SSH_COMMAND="+srv.GitSSHCommand())
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "a.yaml")); got != "ssh\n" {
		t.Errorf("a.yaml over ssh = %q", got)
	}
	if n := srv.Logins(); n != 1 {
		t.Errorf("one clone made %d logins, want 1", n)
	}

	_, stranger := gitserver.NewSSHKey(t, "")
	keyFile := filepath.Join(t.TempDir(), "id_stranger")
	if err := os.WriteFile(keyFile, stranger, 0o600); err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(srv.GitSSHCommand(), srv.KeyFile(), keyFile, 1)
	if _, err := lsRemote(t, r, url, "GIT_SSH_COMMAND="+other); err == nil {
		t.Errorf("ls-remote with a key that is not authorized succeeded (main at %s)", hash)
	}
	if n := srv.Logins(); n != 1 {
		t.Errorf("after a refused key: %d logins, want still 1", n)
	}
}
