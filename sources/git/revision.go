package git

import (
	"io/fs"
	"strings"
	"time"
)

// Revision names one commit reached through one ref.
type Revision struct {
	Ref  string // full ref name, e.g. "refs/heads/main", "refs/tags/v1.2.0", "refs/pull/7/head"
	Hash string // commit hash, lowercase hex
}

// String renders the revision the way Flux does (RFC-0005):
// "main@sha1:<hex>" for a branch, "v1.2.0@sha1:<hex>" for a tag and the
// full name for any other ref, e.g. "refs/pull/7/head@sha1:<hex>".
func (r Revision) String() string {
	if r.Hash == "" {
		return ""
	}
	return shortRef(r.Ref) + "@sha1:" + r.Hash
}

// IsZero reports whether the revision is unset.
func (r Revision) IsZero() bool { return r.Hash == "" }

// shortRef drops refs/heads/ and refs/tags/; other refs stay full.
func shortRef(ref string) string {
	for _, prefix := range []string{"refs/heads/", "refs/tags/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok {
			return name
		}
	}
	return ref
}

// fullRef expands a short branch name to refs/heads/<name>; names starting
// with "refs/" are returned unchanged.
func fullRef(name string) string {
	if strings.HasPrefix(name, "refs/") {
		return name
	}
	return "refs/heads/" + name
}

// Person is a commit author or committer.
type Person struct {
	Name  string
	Email string
	When  time.Time
}

// Commit is the metadata of a snapshot's commit.
type Commit struct {
	Hash      string
	Author    Person
	Committer Person
	Message   string
	// Signer identifies the key that signed the commit when the signature
	// was verified: "openpgp:<key id>" or "ssh:SHA256:<fingerprint>".
	// Empty when verification is off (Options.Verify nil).
	Signer string
}

// Snapshot is the tree of one revision, ready for the renderer.
type Snapshot struct {
	Revision Revision
	Commit   Commit
	// FS is the tree at Revision, held in memory and read-only. Paths are
	// slash-separated and relative to the repository root; it cannot be
	// escaped (see TreeFS for symlinks). Submodules are not included.
	FS *TreeFS
}

// compile-time checks: the snapshot tree is a full read-only fs.FS.
var (
	_ fs.FS         = (*TreeFS)(nil)
	_ fs.ReadDirFS  = (*TreeFS)(nil)
	_ fs.ReadFileFS = (*TreeFS)(nil)
	_ fs.StatFS     = (*TreeFS)(nil)
	_ fs.ReadLinkFS = (*TreeFS)(nil)
)
