package git

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// maxTagDepth bounds tag-to-tag chains when peeling a tag to its commit.
const maxTagDepth = 8

// Head asks the remote where the watched ref points (one ref
// advertisement, nothing fetched). An annotated tag is peeled to its commit.
func (p *Poller) Head(ctx context.Context) (Revision, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	hash, err := p.lsRemote(ctx, p.ref)
	if err != nil {
		return Revision{}, p.opError(ctx, "ls-remote", err)
	}
	return Revision{Ref: p.ref, Hash: hash}, nil
}

// lsRemote reads the remote's ref advertisement and returns the commit the
// ref points to (the peeled value for annotated tags).
func (p *Poller) lsRemote(ctx context.Context, ref string) (string, error) {
	adv, err := p.advertisedRefs(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return "", fmt.Errorf("%w: %s is not on the remote (%w)", ErrRefNotFound, ref, err)
	}
	if err != nil {
		return "", err
	}
	if h, ok := adv.Peeled[ref]; ok {
		return h.String(), nil
	}
	if h, ok := adv.References[ref]; ok {
		return h.String(), nil
	}
	return "", fmt.Errorf("%w: %s is not on the remote", ErrRefNotFound, ref)
}

// Fetch fetches one ref at depth 1 into memory and returns the snapshot of
// its commit. ref is a full ref name ("refs/heads/main", "refs/tags/v1",
// "refs/pull/7/head", "refs/merge-requests/3/head") or a branch name.
// Fetch does not verify signatures and does not change the Poller's state;
// it serves one-off reads such as pull-request heads.
func (p *Poller) Fetch(ctx context.Context, ref string) (*Snapshot, error) {
	snap, _, err := p.fetch(ctx, fullRef(ref))
	return snap, err
}

// fetch returns the snapshot of ref and the raw bytes of its commit object.
func (p *Poller) fetch(ctx context.Context, ref string) (*Snapshot, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	st, err := p.fetchShallow(ctx, ref)
	if err != nil {
		return nil, nil, p.opError(ctx, "fetch", err)
	}
	r, err := st.Reference(plumbing.ReferenceName(ref))
	if err != nil {
		return nil, nil, p.opError(ctx, "fetch", fmt.Errorf("%w: %s not fetched: %w", ErrRefNotFound, ref, err))
	}
	commit, raw, err := peelToCommit(st, r.Hash())
	if err != nil {
		return nil, nil, fmt.Errorf("git %s: %s: %w", p.opts.URL, ref, err)
	}
	snap, err := newSnapshot(st, Revision{Ref: ref, Hash: commit.Hash.String()}, commit, p.opts)
	return snap, raw, err
}

// fetchShallow fetches ref at depth 1 into a fresh in-memory repository.
func (p *Poller) fetchShallow(ctx context.Context, ref string) (*memory.Storage, error) {
	auth, ca, err := p.creds.load(p.opts.Timeout)
	if err != nil {
		return nil, err
	}
	st := memory.NewStorage()
	remote := gogit.NewRemote(st, &config.RemoteConfig{Name: "origin", URLs: []string{p.opts.URL}})
	err = remote.FetchContext(ctx, &gogit.FetchOptions{
		RefSpecs: []config.RefSpec{config.RefSpec("+" + ref + ":" + ref)},
		Depth:    1,
		Auth:     auth,
		CABundle: ca,
		Tags:     gogit.NoTags,
	})
	return st, err
}

// peelToCommit follows annotated tags to the commit and returns it with the
// raw bytes of the commit object (what a signature covers).
func peelToCommit(st storer.EncodedObjectStorer, h plumbing.Hash) (*object.Commit, []byte, error) {
	for range maxTagDepth {
		obj, err := st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return nil, nil, fmt.Errorf("object %s: %w", h, err)
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			c, err := object.DecodeCommit(st, obj)
			if err != nil {
				return nil, nil, fmt.Errorf("commit %s: %w", h, err)
			}
			raw, err := readObject(obj)
			return c, raw, err
		case plumbing.TagObject:
			tag, err := object.DecodeTag(st, obj)
			if err != nil {
				return nil, nil, fmt.Errorf("tag %s: %w", h, err)
			}
			h = tag.Target
		default:
			return nil, nil, fmt.Errorf("object %s is a %s, not a commit", h, obj.Type())
		}
	}
	return nil, nil, fmt.Errorf("object %s: more than %d nested tags", h, maxTagDepth)
}

func readObject(obj plumbing.EncodedObject) ([]byte, error) {
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", obj.Hash(), err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

// opError wraps err of op against this repository, noting a timeout.
func (p *Poller) opError(ctx context.Context, op string, err error) error {
	switch {
	case ctx.Err() != context.DeadlineExceeded:
	case errors.Is(err, context.DeadlineExceeded):
		err = fmt.Errorf("timed out after %s: %w", p.opts.Timeout, err)
	default:
		err = fmt.Errorf("timed out after %s: %w: %w", p.opts.Timeout, err, context.DeadlineExceeded)
	}
	if classify(err) == ErrAuth {
		err = &noteError{err: err, note: "credentials: " + p.opts.Auth.String()}
	}
	e := opError(op, p.opts.URL, err)
	var oe *OpError
	if errors.As(e, &oe) {
		oe.secrets = p.creds.secrets()
	}
	return e
}

// noteError adds a note in parentheses to an error whose message may end
// in a newline (go-git's do).
type noteError struct {
	err  error
	note string
}

func (e *noteError) Error() string {
	return strings.TrimSpace(e.err.Error()) + " (" + e.note + ")"
}

func (e *noteError) Unwrap() error { return e.err }
