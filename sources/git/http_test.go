package git

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNoopPollAsksOnceAndFetchesNothing(t *testing.T) {
	r := newRepo(t)
	hash := r.commit(map[string]string{"clusters/orders/cluster.yaml": "kind: CassandraCluster\n"}, "first")
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))
	ctx := context.Background()

	snap, changed, err := p.Poll(ctx)
	if err != nil || !changed {
		t.Fatalf("first poll: changed=%v err=%v, want a new snapshot", changed, err)
	}
	if got, want := snap.Revision.String(), "main@sha1:"+hash; got != want {
		t.Errorf("revision = %q, want %q", got, want)
	}
	if got := readFile(t, snap, "clusters/orders/cluster.yaml"); got != "kind: CassandraCluster\n" {
		t.Errorf("cluster.yaml = %q", got)
	}
	refs0, packs0 := srv.counts()
	if packs0 != 1 {
		t.Errorf("first poll made %d upload-pack requests, want 1 (one fetch)", packs0)
	}

	snap, changed, err = p.Poll(ctx)
	if err != nil || changed || snap != nil {
		t.Fatalf("no-op poll: snap=%v changed=%v err=%v, want nothing", snap, changed, err)
	}
	refs1, packs1 := srv.counts()
	if refs1-refs0 != 1 || packs1 != packs0 {
		t.Errorf("no-op poll made %d ref advertisements and %d upload-packs, want 1 and 0", refs1-refs0, packs1-packs0)
	}
	if p.Current() == nil || p.Current().Revision.Hash != hash {
		t.Errorf("current snapshot = %v, want %s", p.Current(), hash)
	}
}

func TestPushIsApplied(t *testing.T) {
	r := newRepo(t)
	r.commit(map[string]string{"a.yaml": "v: 1\n"}, "one")
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))
	mustChange(t, p)

	second := r.commit(map[string]string{"a.yaml": "v: 2\n", "b/c.yaml": "new\n"}, "two")
	snap := mustChange(t, p)
	if snap.Revision.Hash != second || snap.Commit.Message != "two\n" || snap.Commit.Author.Email != "ada@example.com" {
		t.Errorf("snapshot = %s %q %q, want %s \"two\\n\" ada@example.com",
			snap.Revision, snap.Commit.Message, snap.Commit.Author.Email, second)
	}
	if got := readFile(t, snap, "a.yaml"); got != "v: 2\n" {
		t.Errorf("a.yaml = %q, want v: 2", got)
	}
	if got := readFile(t, snap, "b/c.yaml"); got != "new\n" {
		t.Errorf("b/c.yaml = %q", got)
	}
}

func TestForcePushToOlderRevisionIsAChange(t *testing.T) {
	r := newRepo(t)
	old := r.commit(map[string]string{"a.yaml": "old\n"}, "old")
	r.commit(map[string]string{"a.yaml": "new\n"}, "new")
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))
	mustChange(t, p)

	r.push(old, "refs/heads/main")
	snap := mustChange(t, p)
	if snap.Revision.Hash != old || readFile(t, snap, "a.yaml") != "old\n" {
		t.Errorf("after force-push: %s a.yaml=%q, want %s old", snap.Revision, readFile(t, snap, "a.yaml"), old)
	}
}

func TestDeletedBranchKeepsLastSnapshot(t *testing.T) {
	r := newRepo(t)
	hash := r.commit(map[string]string{"a.yaml": "x\n"}, "one")
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))
	mustChange(t, p)

	r.deleteRef("refs/heads/main")
	_, changed, err := p.Poll(context.Background())
	if !errors.Is(err, ErrRefNotFound) || changed {
		t.Fatalf("poll after branch deletion: changed=%v err=%v, want ErrRefNotFound", changed, err)
	}
	if !strings.Contains(err.Error(), "refs/heads/main") {
		t.Errorf("error %q does not name the ref", err)
	}
	if cur := p.Current(); cur == nil || cur.Revision.Hash != hash {
		t.Errorf("current = %v, want the last good snapshot %s", cur, hash)
	}
}

func TestUnreachableServerKeepsLastSnapshot(t *testing.T) {
	r := newRepo(t)
	hash := r.commit(map[string]string{"a.yaml": "x\n"}, "one")
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))
	mustChange(t, p)

	srv.Close()
	_, changed, err := p.Poll(context.Background())
	if !errors.Is(err, ErrUnreachable) || changed {
		t.Fatalf("poll of a stopped server: changed=%v err=%v, want ErrUnreachable", changed, err)
	}
	if cur := p.Current(); cur == nil || cur.Revision.Hash != hash {
		t.Errorf("current = %v, want the last good snapshot %s", cur, hash)
	}
}

func TestHTTPAuth(t *testing.T) {
	r := newRepo(t)
	r.commit(map[string]string{"a.yaml": "x\n"}, "one")
	basic := startHTTP(t, r, withAuth(func(req *http.Request) bool {
		u, pw, ok := req.BasicAuth()
		return ok && u == "oauth2" && pw == "s3cret-token"
	}))
	bearer := startHTTP(t, r, withAuth(func(req *http.Request) bool {
		return req.Header.Get("Authorization") == "Bearer s3cret-token"
	}))
	good := writeFile(t, "token", []byte("s3cret-token\n"))
	bad := writeFile(t, "token", []byte("wrong"))
	t.Setenv("TEST_GIT_TOKEN", "s3cret-token")

	cases := []struct {
		name    string
		url     string
		auth    AuthOptions
		wantErr error
	}{
		{"basic, token file", basic.URL, AuthOptions{Username: "oauth2", TokenFile: good}, nil},
		{"basic, token env", basic.URL, AuthOptions{Username: "oauth2", TokenEnv: "TEST_GIT_TOKEN"}, nil},
		{"basic, wrong token", basic.URL, AuthOptions{Username: "oauth2", TokenFile: bad}, ErrAuth},
		{"basic, no credentials", basic.URL, AuthOptions{}, ErrAuth},
		{"basic, token file missing", basic.URL, AuthOptions{TokenFile: good + ".missing"}, ErrAuth},
		{"bearer", bearer.URL, AuthOptions{TokenFile: good, Bearer: true}, nil},
		{"bearer, wrong token", bearer.URL, AuthOptions{TokenFile: bad, Bearer: true}, ErrAuth},
		{"bearer sent as basic", bearer.URL, AuthOptions{TokenFile: good}, ErrAuth},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testOptions(c.url)
			o.Auth = c.auth
			_, err := mustPoller(t, o).Head(context.Background())
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("Head: %v, want %v", err, c.wantErr)
			}
			if err != nil && (!strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "s3cret")) {
				t.Errorf("error %q should say authentication failed and not carry the token", err)
			}
		})
	}
}

func TestHTTPSCustomCA(t *testing.T) {
	r := newRepo(t)
	hash := r.commit(map[string]string{"a.yaml": "x\n"}, "one")
	srv := startHTTP(t, r, withTLS())

	o := testOptions(srv.URL)
	o.Auth.CAFile = srv.CAFile()
	snap := mustChange(t, mustPoller(t, o))
	if snap.Revision.Hash != hash {
		t.Errorf("revision %s, want %s", snap.Revision, hash)
	}

	_, err := mustPoller(t, testOptions(srv.URL)).Head(context.Background())
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("without the CA: %v, want ErrUntrusted saying the certificate is unknown", err)
	}
}

func TestTagIsFollowedToItsCommit(t *testing.T) {
	r := newRepo(t)
	first := r.commit(map[string]string{"a.yaml": "1\n"}, "one")
	r.git("tag", "-a", "-m", "release", "v1", first)
	r.commit(map[string]string{"a.yaml": "2\n"}, "two")
	r.push("refs/tags/v1", "refs/tags/v1")
	srv := startHTTP(t, r)

	o := testOptions(srv.URL)
	o.Tag = "v1"
	snap := mustChange(t, mustPoller(t, o))
	if got, want := snap.Revision.String(), "v1@sha1:"+first; got != want {
		t.Errorf("revision %q, want %q (the tagged commit)", got, want)
	}
	if got := readFile(t, snap, "a.yaml"); got != "1\n" {
		t.Errorf("a.yaml = %q at the tag, want 1", got)
	}
}

func TestFetchPullRequestHead(t *testing.T) {
	r := newRepo(t)
	r.commit(map[string]string{"a.yaml": "main\n"}, "main")
	r.git("checkout", "-q", "-b", "feature")
	pr := r.commit(map[string]string{"a.yaml": "feature\n"}, "feature")
	r.push("feature", "refs/pull/7/head")
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))

	snap, err := p.Fetch(context.Background(), "refs/pull/7/head")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := snap.Revision.String(), "refs/pull/7/head@sha1:"+pr; got != want || readFile(t, snap, "a.yaml") != "feature\n" {
		t.Errorf("PR head %q with a.yaml=%q, want %q with feature", got, readFile(t, snap, "a.yaml"), want)
	}
	if p.Current() != nil {
		t.Error("Fetch changed the poller's current snapshot")
	}
	if _, err := p.Fetch(context.Background(), "refs/pull/8/head"); !errors.Is(err, ErrRefNotFound) {
		t.Errorf("Fetch of a missing ref: %v, want ErrRefNotFound", err)
	}
}

func TestTooLargeFileIsRefusedOnce(t *testing.T) {
	r := newRepo(t)
	good := r.commit(map[string]string{"a.yaml": "small\n"}, "one")
	srv := startHTTP(t, r)
	o := testOptions(srv.URL)
	o.MaxFileBytes = 1024
	p := mustPoller(t, o)
	mustChange(t, p)

	r.commit(map[string]string{"big/blob.bin": strings.Repeat("x", 4096)}, "big")
	_, _, err := p.Poll(context.Background())
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "big/blob.bin") {
		t.Fatalf("poll of a revision with a 4 KiB file under a 1 KiB limit: %v, want ErrTooLarge naming big/blob.bin", err)
	}
	_, packs := srv.counts()
	_, _, err = p.Poll(context.Background())
	if _, after := srv.counts(); !errors.Is(err, ErrTooLarge) || after != packs {
		t.Errorf("second poll of the refused head: err=%v, %d new fetches; want the refusal again without a fetch", err, after-packs)
	}
	if p.Current().Revision.Hash != good {
		t.Errorf("current = %s, want the last good %s", p.Current().Revision, good)
	}
}

func TestSymlinksStayInsideTheTree(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{"base/kustomization.yaml": "resources: []\n"})
	r.git("add", "-A")
	for link, target := range map[string]string{
		"inside": "base/kustomization.yaml", "dir": "base", "up": "../../../etc/passwd", "abs": "/etc/passwd",
	} {
		r.git("-c", "core.symlinks=true", "update-index", "--add", "--cacheinfo", "120000,"+r.hashObject(target)+","+link)
	}
	r.git("commit", "-q", "-m", "links")
	r.push("HEAD", "refs/heads/main")
	srv := startHTTP(t, r)
	snap := mustChange(t, mustPoller(t, testOptions(srv.URL)))

	for _, name := range []string{"inside", "dir/kustomization.yaml"} {
		if got := readFile(t, snap, name); got != "resources: []\n" {
			t.Errorf("%s = %q, want the linked file", name, got)
		}
	}
	for _, name := range []string{"up", "abs"} {
		if _, err := snap.FS.ReadFile(name); !errors.Is(err, ErrOutsideTree) {
			t.Errorf("ReadFile(%s) = %v, want ErrOutsideTree", name, err)
		}
	}
}

// hashObject writes content as a blob into the work repository.
func (r *repo) hashObject(content string) string {
	r.t.Helper()
	out, err := r.runErr(r.work, []byte(content), "hash-object", "-w", "--stdin")
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func TestRunPollsAtOnceOnTrigger(t *testing.T) {
	r := newRepo(t)
	r.commit(map[string]string{"a.yaml": "1\n"}, "one")
	srv := startHTTP(t, r)
	o := testOptions(srv.URL)
	o.Interval = time.Hour // only Trigger can cause the second poll within the test
	p := mustPoller(t, o)
	out := runPoller(t, p)

	if res := next(t, out); res.Outcome != Changed {
		t.Fatalf("first result %v (%v), want Changed", res.Outcome, res.Err)
	}
	second := r.commit(map[string]string{"a.yaml": "2\n"}, "two")
	p.Trigger()
	res := next(t, out)
	if res.Outcome != Changed || res.Revision.Hash != second {
		t.Fatalf("after Trigger: %v %s (%v), want Changed to %s", res.Outcome, res.Revision, res.Err, second)
	}
}

func TestRunReportsFailureAndRecovers(t *testing.T) {
	r := newRepo(t)
	r.commit(map[string]string{"a.yaml": "1\n"}, "one")
	srv := startHTTP(t, r)
	o := testOptions(srv.URL)
	o.Interval = time.Hour
	p := mustPoller(t, o)
	out := runPoller(t, p)
	if res := next(t, out); res.Outcome != Changed {
		t.Fatalf("first result %v (%v), want Changed", res.Outcome, res.Err)
	}

	r.deleteRef("refs/heads/main")
	p.Trigger()
	if res := next(t, out); res.Outcome != Failed || !errors.Is(res.Err, ErrRefNotFound) {
		t.Fatalf("after deleting the branch: %v (%v), want Failed with ErrRefNotFound", res.Outcome, res.Err)
	}
	third := r.commit(map[string]string{"a.yaml": "3\n"}, "three")
	p.Trigger()
	if res := next(t, out); res.Outcome != Changed || res.Revision.Hash != third {
		t.Fatalf("after restoring the branch: %v %s (%v), want Changed to %s", res.Outcome, res.Revision, res.Err, third)
	}
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	o := testOptions("https://example.invalid/repo.git")
	o.MinBackoff, o.MaxBackoff, o.Jitter = time.Second, 5*time.Second, 0
	p := mustPoller(t, o)
	var got []time.Duration
	for failures := 0; failures <= 5; failures++ {
		got = append(got, p.delay(failures))
	}
	want := []time.Duration{time.Minute, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays after 0..5 failures = %v, want %v", got, want)
		}
	}
}

// mustChange polls and requires a new snapshot.
func mustChange(t testing.TB, p *Poller) *Snapshot {
	t.Helper()
	snap, changed, err := p.Poll(context.Background())
	if err != nil || !changed {
		t.Fatalf("poll: changed=%v err=%v, want a new snapshot", changed, err)
	}
	return snap
}

// runPoller runs p until the test ends.
func runPoller(t *testing.T, p *Poller) <-chan Result {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Result)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, out) }()
	t.Cleanup(func() { cancel(); <-done })
	return out
}

// next waits for Run's next result; the deadline only guards against a hang.
func next(t *testing.T, out <-chan Result) Result {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no result from Run within 30s")
		return Result{}
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var conns []net.Conn
	var mu sync.Mutex
	go func() { // accept and never answer
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	o := testOptions("http://" + l.Addr().String() + "/repo.git")
	o.Timeout = 300 * time.Millisecond
	_, err = mustPoller(t, o).Head(context.Background())
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Errorf("Head against a silent server: %v, want ErrUnreachable saying it timed out", err)
	}
}

// A hostile or broken server's error text is bounded and never carries the
// credentials, even when it echoes the request's headers back.
func TestHTTPErrorsAreBoundedAndRedacted(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusBadGateway} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, "Authorization: %s\nyour token is %s\n", r.Header.Get("Authorization"), "s3cret-token")
			_, _ = w.Write(bytes.Repeat([]byte("x"), 5<<20))
		}))
		o := testOptions(srv.URL + "/repo.git")
		o.Auth = AuthOptions{Username: "oauth2", TokenFile: writeFile(t, "token", []byte("s3cret-token\n"))}
		_, err := mustPoller(t, o).Head(context.Background())
		srv.Close()
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		msg := err.Error()
		if len(msg) > MaxCauseBytes+300 {
			t.Errorf("status %d: error of %d bytes, want it bounded", status, len(msg))
		}
		basic := base64.StdEncoding.EncodeToString([]byte("oauth2:s3cret-token"))
		if strings.Contains(msg, "s3cret") || strings.Contains(msg, basic) {
			t.Errorf("status %d: error carries the token: %.300s", status, msg)
		}
	}
}
