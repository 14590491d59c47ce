package provider

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/bitbucket"
	"github.com/ringops/ringops/sources/forge/gitea"
	"github.com/ringops/ringops/sources/forge/github"
	"github.com/ringops/ringops/sources/forge/gitlab"
)

// Options say which forge to talk to and how to authenticate.
type Options struct {
	// RepoURL is the repository ringops follows; the forge, its API and
	// the repository are derived from it where possible.
	RepoURL string
	// Target overrides or completes what RepoURL says (--forge,
	// --forge-api-url, --forge-repository).
	Target forge.TargetOptions
	// Token is where the API token is read from (a file or a variable);
	// it is read at each request and never logged.
	Token forge.TokenSource
	// Username switches Bitbucket to basic auth with Token as password.
	Username string
	// GitLabRef, when set, is the ref sent with GitLab statuses.
	GitLabRef string
	// HTTPClient defaults to a client without timeout (the Queue bounds
	// each request).
	HTTPClient *http.Client
}

// NewClient resolves the target and returns its forge's client.
func NewClient(o Options) (forge.Client, forge.Target, error) {
	t, err := forge.ResolveTarget(o.RepoURL, o.Target)
	if err != nil {
		return nil, forge.Target{}, err
	}
	if o.Token == nil {
		return nil, t, fmt.Errorf("forge %s: %w: no token file or variable configured", t, forge.ErrInvalidToken)
	}
	c, err := newClient(t, o)
	return c, t, err
}

func newClient(t forge.Target, o Options) (forge.Client, error) {
	auth := bitbucket.Auth{Token: o.Token, Username: o.Username}
	switch t.Kind {
	case forge.GitHub:
		return github.New(github.Options{Target: t, Token: o.Token, HTTPClient: o.HTTPClient})
	case forge.GitLab:
		return gitlab.New(gitlab.Options{Target: t, Token: o.Token, Ref: o.GitLabRef, HTTPClient: o.HTTPClient})
	case forge.Gitea, forge.Forgejo:
		return gitea.New(gitea.Options{Target: t, Token: o.Token, HTTPClient: o.HTTPClient})
	case forge.BitbucketCloud:
		return bitbucket.NewCloud(bitbucket.CloudOptions{Target: t, Auth: auth, HTTPClient: o.HTTPClient})
	case forge.BitbucketServer:
		return bitbucket.NewServer(bitbucket.ServerOptions{Target: t, Auth: auth, HTTPClient: o.HTTPClient})
	default:
		return nil, errors.New("forge: unknown kind " + t.Kind.String())
	}
}
