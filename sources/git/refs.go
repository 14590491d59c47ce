package git

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// Refs asks the remote for every ref whose full name matches one of
// patterns (path.Match globs, where * stops at a slash:
// "refs/pull/*/head", "refs/merge-requests/*/head") in one ref
// advertisement, with the auth, CA and timeout of Head; nothing is
// fetched. Annotated tags are peeled to their commit. The revisions are
// sorted by ref; a remote with no refs at all has none. A malformed
// pattern is an error before any request. Refs does not change the
// Poller's state.
func (p *Poller) Refs(ctx context.Context, patterns ...string) ([]Revision, error) {
	for _, pat := range patterns {
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("git %s: ref pattern %q: %w", p.opts.URL, pat, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	adv, err := p.advertisedRefs(ctx)
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, p.opError(ctx, "ls-remote", err)
	}
	return matchRefs(adv, patterns), nil
}

// matchRefs returns the advertised refs matching any of patterns, peeled
// and sorted by name.
func matchRefs(adv *packp.AdvRefs, patterns []string) []Revision {
	var out []Revision
	for name, h := range adv.References {
		if !matchAny(patterns, name) {
			continue
		}
		if peeled, ok := adv.Peeled[name]; ok {
			h = peeled
		}
		out = append(out, Revision{Ref: name, Hash: h.String()})
	}
	slices.SortFunc(out, func(a, b Revision) int { return strings.Compare(a.Ref, b.Ref) })
	return out
}

// matchAny reports whether name matches one of the (valid) patterns.
func matchAny(patterns []string, name string) bool {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// advertisedRefs opens an upload-pack session with the current credentials
// and reads the remote's ref advertisement.
func (p *Poller) advertisedRefs(ctx context.Context) (*packp.AdvRefs, error) {
	auth, ca, err := p.creds.load(p.opts.Timeout)
	if err != nil {
		return nil, err
	}
	ep := *p.ep
	ep.CaBundle = ca
	cl, err := client.NewClient(&ep)
	if err != nil {
		return nil, err
	}
	sess, err := cl.NewUploadPackSession(&ep, auth)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	return sess.AdvertisedReferencesContext(ctx)
}
