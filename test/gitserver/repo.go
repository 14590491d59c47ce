package gitserver

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Author is the name and e-mail of every commit a Repo makes.
const (
	AuthorName  = "Ada"
	AuthorEmail = "ada@example.com"
)

// RepoOptions says where NewRepo creates a repository and what it is called.
type RepoOptions struct {
	// Dir holds the repository: Dir/<Name> is the bare repository the
	// servers serve, Dir/work the working clone, Dir/home the HOME of the git
	// commands. Empty: a new t.TempDir().
	Dir string
	// Name is the bare repository's directory under Dir and the last element
	// of its URLs, e.g. "repo.git".
	Name string
	// Branch is the default branch: HEAD of the bare repository and the
	// branch Push, ForcePush, ResetTo and DeleteBranch act on.
	Branch string
}

// DefaultRepoOptions returns a repository "repo.git" with branch main in a
// temporary directory.
func DefaultRepoOptions() RepoOptions {
	return RepoOptions{Name: "repo.git", Branch: "main"}
}

// Repo is a bare repository plus a working clone that commits and pushes
// into it. Pushes go over the local file transport, so they never show in
// a server's counters. The fields are read-only, except Env.
type Repo struct {
	t TB
	// Root is the directory the HTTP server serves (GIT_PROJECT_ROOT): the
	// bare repository is Root/<Name>.
	Root string
	// Bare is the bare repository's path; over SSH it is the URL's path.
	Bare string
	// Work is the working clone's path; its remote "origin" is Bare.
	Work string
	// Branch is the default branch.
	Branch string
	// Env is the environment of every git command the Repo runs: an isolated
	// HOME and global config, a fixed author and committer, no prompts.
	// Append to it to add variables (e.g. GNUPGHOME).
	Env []string
}

// NewRepo creates an empty bare repository whose HEAD is o.Branch and a
// working clone of it. It skips the test when git is not installed.
func NewRepo(t TB, o RepoOptions) *Repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skipf("git is not installed (apt-get install git)")
	}
	o = withRepoDefaults(o)
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	home := filepath.Join(o.Dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatalf("repo %s: %v", o.Dir, err)
	}
	r := &Repo{t: t, Root: o.Dir, Bare: filepath.Join(o.Dir, o.Name), Work: filepath.Join(o.Dir, "work"), Branch: o.Branch}
	r.Env = append(os.Environ(),
		"HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"),
		"GIT_AUTHOR_NAME="+AuthorName, "GIT_AUTHOR_EMAIL="+AuthorEmail,
		"GIT_COMMITTER_NAME="+AuthorName, "GIT_COMMITTER_EMAIL="+AuthorEmail,
		"GIT_TERMINAL_PROMPT=0",
	)
	r.must(o.Dir, "init", "-q", "--bare", "-b", o.Branch, r.Bare)
	r.must(o.Dir, "init", "-q", "-b", o.Branch, r.Work)
	r.Git("remote", "add", "origin", r.Bare)
	// So that a person can commit, push and pull in Work with their own git
	// and no arguments, as in the demo.
	r.Git("config", "branch."+o.Branch+".remote", "origin")
	r.Git("config", "branch."+o.Branch+".merge", "refs/heads/"+o.Branch)
	r.Git("config", "user.name", AuthorName)
	r.Git("config", "user.email", AuthorEmail)
	return r
}

func withRepoDefaults(o RepoOptions) RepoOptions {
	d := DefaultRepoOptions()
	if o.Name == "" {
		o.Name = d.Name
	}
	if o.Branch == "" {
		o.Branch = d.Branch
	}
	return o
}

// Run runs git in dir with Env, stdin as its input when not nil, and
// returns its trimmed stdout; the error carries git's stderr.
func (r *Repo) Run(dir string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, r.Env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// must runs git in dir and fails the test on error.
func (r *Repo) must(dir string, args ...string) string {
	r.t.Helper()
	out, err := r.Run(dir, nil, args...)
	if err != nil {
		r.t.Fatalf("repo %s: %v", r.Bare, err)
	}
	return out
}

// Git runs git in the working clone and returns its trimmed stdout.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	return r.must(r.Work, args...)
}

// Head returns the hash of the working clone's HEAD.
func (r *Repo) Head() string {
	r.t.Helper()
	return r.Git("rev-parse", "HEAD")
}

// Write writes files (slash-separated path relative to the working clone ->
// content), creating directories as needed.
func (r *Repo) Write(files map[string]string) {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.Work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatalf("repo write %s: %v", p, err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatalf("repo write %s: %v", p, err)
		}
	}
}

// Remove deletes paths (files or whole directories, slash-separated,
// relative to the working clone).
func (r *Repo) Remove(paths ...string) {
	r.t.Helper()
	for _, p := range paths {
		if err := os.RemoveAll(filepath.Join(r.Work, filepath.FromSlash(p))); err != nil {
			r.t.Fatalf("repo remove %s: %v", p, err)
		}
	}
}

// CopyDir copies the tree at src (regular files with their permission bits,
// directories, symlinks as links; any .git skipped) into the working clone
// at dst, a slash-separated path ("" or "." for the top).
func (r *Repo) CopyDir(src, dst string) {
	r.t.Helper()
	if err := copyTree(src, filepath.Join(r.Work, filepath.FromSlash(dst))); err != nil {
		r.t.Fatalf("repo copy %s: %v", src, err)
	}
}

// Commit stages everything in the working clone and commits it (even when
// nothing changed), extra arguments going to git commit (e.g. -S). It
// returns the new commit's hash and does not push.
func (r *Repo) Commit(msg string, extra ...string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git(append([]string{"commit", "-q", "--allow-empty", "-m", msg}, extra...)...)
	return r.Head()
}

// CommitAndPush writes files, commits them with msg and pushes the branch
// (fast-forward). It returns the commit's hash.
func (r *Repo) CommitAndPush(msg string, files map[string]string) string {
	r.t.Helper()
	r.Write(files)
	hash := r.Commit(msg)
	r.Push()
	return hash
}

// Push pushes the working clone's HEAD to the branch on the server; it
// fails the test when that is not a fast-forward.
func (r *Repo) Push() {
	r.t.Helper()
	r.Git("push", "-q", "origin", "HEAD:refs/heads/"+r.Branch)
}

// ForcePush pushes the working clone's HEAD to the branch on the server,
// whatever the branch held.
func (r *Repo) ForcePush() {
	r.t.Helper()
	r.PushRef("HEAD", "refs/heads/"+r.Branch)
}

// ResetTo moves the working clone to rev (git reset --hard), typically an
// older commit, and force-pushes it: history rewritten on the server.
func (r *Repo) ResetTo(rev string) {
	r.t.Helper()
	r.Git("reset", "-q", "--hard", rev)
	r.ForcePush()
}

// PushRef force-pushes src (a hash or ref of the working clone) to ref on
// the server, e.g. PushRef("HEAD", "refs/pull/1/head").
func (r *Repo) PushRef(src, ref string) {
	r.t.Helper()
	r.Git("push", "-q", "--force", "origin", src+":"+ref)
}

// DeleteRef removes ref from the server's repository.
func (r *Repo) DeleteRef(ref string) {
	r.t.Helper()
	r.must(r.Bare, "update-ref", "-d", ref)
}

// DeleteBranch removes the branch from the server's repository; the working
// clone keeps it, so Push or ForcePush brings it back.
func (r *Repo) DeleteBranch() {
	r.t.Helper()
	r.DeleteRef("refs/heads/" + r.Branch)
}
