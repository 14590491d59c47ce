package git

import (
	"context"
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"
	"testing"
)

// prRepo is a repository with main, three pull-request heads, the merge
// ref GitHub keeps next to one of them, a GitLab merge-request head and
// an annotated tag. It returns the commit of each ref.
func prRepo(t *testing.T) (*repo, map[string]string) {
	t.Helper()
	r := newRepo(t)
	main := r.commit(map[string]string{"a.yaml": "main\n"}, "main")
	commits := map[string]string{"refs/heads/main": main}
	for _, ref := range []string{"refs/pull/1/head", "refs/pull/2/head", "refs/pull/10/head", "refs/merge-requests/3/head"} {
		r.write(map[string]string{"a.yaml": ref + "\n"})
		r.git("add", "-A")
		r.git("commit", "-q", "-m", ref)
		commits[ref] = r.git("rev-parse", "HEAD")
		r.push("HEAD", ref)
		r.git("reset", "-q", "--hard", main)
	}
	r.push(commits["refs/pull/1/head"], "refs/pull/1/merge")
	commits["refs/pull/1/merge"] = commits["refs/pull/1/head"]
	r.git("tag", "-a", "-m", "release", "v1", commits["refs/pull/2/head"])
	r.push("refs/tags/v1", "refs/tags/v1")
	commits["refs/tags/v1"] = commits["refs/pull/2/head"] // peeled
	return r, commits
}

// refsMatching lists the refs of commits matching any of patterns, sorted.
func refsMatching(commits map[string]string, patterns ...string) []Revision {
	var out []Revision
	for ref, hash := range commits {
		for _, p := range patterns {
			if ok, _ := path.Match(p, ref); ok {
				out = append(out, Revision{Ref: ref, Hash: hash})
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b Revision) int { return strings.Compare(a.Ref, b.Ref) })
	return out
}

func TestRefsListsPullRequestHeadsInOneAdvertisement(t *testing.T) {
	r, commits := prRepo(t)
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))

	got, err := p.Refs(context.Background(), "refs/pull/*/head")
	if err != nil {
		t.Fatal(err)
	}
	wantPRs := []Revision{
		{Ref: "refs/pull/1/head", Hash: commits["refs/pull/1/head"]},
		{Ref: "refs/pull/10/head", Hash: commits["refs/pull/10/head"]},
		{Ref: "refs/pull/2/head", Hash: commits["refs/pull/2/head"]},
	}
	if !slices.Equal(got, wantPRs) {
		t.Errorf("Refs(refs/pull/*/head) = %v, want %v (no merge ref, no merge request, sorted by ref)", got, wantPRs)
	}
	if refs, packs := srv.counts(); refs != 1 || packs != 0 {
		t.Errorf("Refs made %d ref advertisements and %d upload-packs, want 1 and 0", refs, packs)
	}
	if p.Current() != nil {
		t.Error("Refs changed the poller's current snapshot")
	}

	patterns := []string{"refs/merge-requests/*/head", "refs/tags/*", "refs/pull/1/*"}
	got, err = p.Refs(context.Background(), patterns...)
	if err != nil {
		t.Fatal(err)
	}
	if w := refsMatching(commits, patterns...); !slices.Equal(got, w) {
		t.Errorf("Refs(%v) = %v, want %v (the tag peeled to its commit)", patterns, got, w)
	}
}

func TestRefsFollowTheRemote(t *testing.T) {
	r, commits := prRepo(t)
	srv := startHTTP(t, r)
	p := mustPoller(t, testOptions(srv.URL))

	r.deleteRef("refs/pull/2/head")
	r.push("main", "refs/pull/10/head") // force-pushed to another commit
	got, err := p.Refs(context.Background(), "refs/pull/*/head")
	if err != nil {
		t.Fatal(err)
	}
	w := []Revision{
		{Ref: "refs/pull/1/head", Hash: commits["refs/pull/1/head"]},
		{Ref: "refs/pull/10/head", Hash: commits["refs/heads/main"]},
	}
	if !slices.Equal(got, w) {
		t.Errorf("after deleting pull/2 and moving pull/10: %v, want %v", got, w)
	}

	if got, err := p.Refs(context.Background(), "refs/pull/*/nothing"); err != nil || len(got) != 0 {
		t.Errorf("Refs of a pattern nothing matches = %v, %v; want none, no error", got, err)
	}
	if got, err := p.Refs(context.Background()); err != nil || len(got) != 0 {
		t.Errorf("Refs without patterns = %v, %v; want none, no error", got, err)
	}
}

func TestRefsOfAnEmptyRepositoryAreNone(t *testing.T) {
	srv := startHTTP(t, newRepo(t))
	p := mustPoller(t, testOptions(srv.URL))
	got, err := p.Refs(context.Background(), "refs/pull/*/head")
	if err != nil || len(got) != 0 {
		t.Errorf("Refs of an empty repository = %v, %v; want none, no error", got, err)
	}
}

func TestRefsErrors(t *testing.T) {
	r, _ := prRepo(t)
	srv := startHTTP(t, r, withAuth(func(req *http.Request) bool {
		_, pass, ok := req.BasicAuth()
		return ok && pass == "s3cret"
	}))

	p := mustPoller(t, testOptions(srv.URL))
	_, err := p.Refs(context.Background(), "refs/pull/[/head")
	if !errors.Is(err, path.ErrBadPattern) || !strings.Contains(err.Error(), "refs/pull/[/head") {
		t.Errorf("malformed pattern: %v, want path.ErrBadPattern naming the pattern", err)
	}
	if refs, _ := srv.counts(); refs != 0 {
		t.Errorf("a malformed pattern cost %d requests, want 0", refs)
	}

	_, err = p.Refs(context.Background(), "refs/pull/*/head")
	var op *OpError
	if !errors.Is(err, ErrAuth) || !errors.As(err, &op) || op.Op != "ls-remote" {
		t.Errorf("without credentials: %v, want an ls-remote OpError matching ErrAuth", err)
	}

	o := testOptions(srv.URL)
	o.Auth.TokenFile = writeFile(t, "token", []byte("s3cret\n"))
	if got, err := mustPoller(t, o).Refs(context.Background(), "refs/pull/*/head"); err != nil || len(got) != 3 {
		t.Errorf("with the token: %v, %v; want 3 heads", got, err)
	}

	srv.Close()
	if _, err := p.Refs(context.Background(), "refs/pull/*/head"); !errors.Is(err, ErrUnreachable) {
		t.Errorf("stopped server: %v, want ErrUnreachable", err)
	}
}
