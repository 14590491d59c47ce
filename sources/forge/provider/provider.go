package provider

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

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

// registration is one forge: the kinds it serves, its status client and
// its webhook (nil when ringops does not read its webhooks). Adding a forge
// is its package and one line in forges.
type registration struct {
	kinds   []forge.Kind
	client  func(forge.Target, Options) (forge.Client, error)
	webhook forge.Webhook
}

var forges = []registration{
	{[]forge.Kind{forge.GitHub}, newGitHub, github.Webhook{}},
	{[]forge.Kind{forge.GitLab}, newGitLab, gitlab.Webhook{}},
	{[]forge.Kind{forge.Gitea, forge.Forgejo}, newGitea, gitea.Webhook{}},
	{[]forge.Kind{forge.BitbucketCloud}, newBitbucketCloud, nil},
	{[]forge.Kind{forge.BitbucketServer}, newBitbucketServer, nil},
}

func newClient(t forge.Target, o Options) (forge.Client, error) {
	for _, r := range forges {
		if slices.Contains(r.kinds, t.Kind) {
			return r.client(t, o)
		}
	}
	return nil, errors.New("forge: unknown kind " + t.Kind.String())
}

func newGitHub(t forge.Target, o Options) (forge.Client, error) {
	return github.New(github.Options{Target: t, Token: o.Token, HTTPClient: o.HTTPClient})
}

func newGitLab(t forge.Target, o Options) (forge.Client, error) {
	return gitlab.New(gitlab.Options{Target: t, Token: o.Token, Ref: o.GitLabRef, HTTPClient: o.HTTPClient})
}

func newGitea(t forge.Target, o Options) (forge.Client, error) {
	return gitea.New(gitea.Options{Target: t, Token: o.Token, HTTPClient: o.HTTPClient})
}

func newBitbucketCloud(t forge.Target, o Options) (forge.Client, error) {
	auth := bitbucket.Auth{Token: o.Token, Username: o.Username}
	return bitbucket.NewCloud(bitbucket.CloudOptions{Target: t, Auth: auth, HTTPClient: o.HTTPClient})
}

func newBitbucketServer(t forge.Target, o Options) (forge.Client, error) {
	auth := bitbucket.Auth{Token: o.Token, Username: o.Username}
	return bitbucket.NewServer(bitbucket.ServerOptions{Target: t, Auth: auth, HTTPClient: o.HTTPClient})
}

// Webhooks are the webhooks of every forge whose deliveries ringops reads,
// in the order of the table; each is served at /hooks/<its kind>.
func Webhooks() []forge.Webhook {
	var out []forge.Webhook
	for _, r := range forges {
		if r.webhook != nil {
			out = append(out, r.webhook)
		}
	}
	return out
}

// NewWebhookHandler returns a forge.WebhookHandler that knows every forge's
// webhook (Webhooks) and calls target.Trigger on a verified push.
func NewWebhookHandler(opts forge.WebhookOptions, target forge.Triggerer) *forge.WebhookHandler {
	return forge.NewWebhookHandler(Webhooks(), opts, target)
}
