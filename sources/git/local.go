package git

import (
	"errors"
	"fmt"
	"path/filepath"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// ErrRevisionNotFound: a revision given to Local.Snapshot names no commit
// of the repository.
var ErrRevisionNotFound = errors.New("revision not found")

// Local is a Git repository on the local disk, read through go-git: only
// committed revisions, never the working tree or the index, and nothing
// is ever written. It is what `ringops plan` compares.
type Local struct {
	repo *gogit.Repository
	root string
	opts Options
}

// OpenLocal opens the repository holding path (path or one of its parent
// directories has the .git; linked worktrees work too). Only the size
// limits of opts are used (MaxFileBytes, MaxTreeBytes; zero: the defaults).
func OpenLocal(path string, opts Options) (*Local, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", path, err)
	}
	repo, err := gogit.PlainOpenWithOptions(abs, &gogit.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", path, err)
	}
	root := abs
	if wt, err := repo.Worktree(); err == nil { // a bare repository has none
		root = wt.Filesystem.Root()
	}
	d := DefaultOptions()
	if opts.MaxFileBytes <= 0 {
		opts.MaxFileBytes = d.MaxFileBytes
	}
	if opts.MaxTreeBytes <= 0 {
		opts.MaxTreeBytes = d.MaxTreeBytes
	}
	return &Local{repo: repo, root: root, opts: opts}, nil
}

// Root is the absolute directory of the repository's working tree (of the
// repository itself when it is bare): the root of every snapshot's FS.
func (l *Local) Root() string { return l.root }

// Snapshot reads the tree of rev into memory, under the size limits. rev
// is anything git rev-parse takes for a commit that go-git resolves: a
// branch, a tag (annotated tags are peeled), a remote branch such as
// origin/main, a full or abbreviated hash, HEAD, HEAD~1, main^2...
// The snapshot's Revision.Ref is rev as given.
func (l *Local) Snapshot(rev string) (*Snapshot, error) {
	h, err := l.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("revision %q: %w: %w", rev, ErrRevisionNotFound, err)
	}
	c, err := l.repo.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("revision %q: commit %s: %w", rev, h, err)
	}
	return newSnapshot(l.repo.Storer, Revision{Ref: rev, Hash: h.String()}, c, l.opts)
}
