package bitbucket

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/internal/httpapi"
)

// CloudOptions configure a Cloud client.
type CloudOptions struct {
	// Target is the repository: Owner is the workspace, Repo the slug,
	// APIURL "https://api.bitbucket.org/2.0".
	Target forge.Target
	// Auth: a token with the "repository:write" scope.
	Auth Auth
	// DefaultURL is sent as the status url when a Status has no TargetURL
	// (Bitbucket requires one); default: the repository's web page.
	DefaultURL string
	// HTTPClient defaults to a client without timeout (the Queue bounds
	// each request through its context).
	HTTPClient *http.Client
}

// Cloud posts build statuses to one Bitbucket Cloud repository
// (https://developer.atlassian.com/cloud/bitbucket/rest/api-group-commit-statuses/).
type Cloud struct {
	opts CloudOptions
	base string // APIURL + /repositories/{workspace}/{slug}
}

var _ forge.Client = (*Cloud)(nil)

// NewCloud returns a Cloud client; it does not contact Bitbucket.
func NewCloud(opts CloudOptions) (*Cloud, error) {
	t := opts.Target
	if t.Kind != forge.BitbucketCloud || t.APIURL == "" || t.Owner == "" || t.Repo == "" {
		return nil, fmt.Errorf("bitbucket: target %s is not a Bitbucket Cloud repository with an API URL", t)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.DefaultURL == "" {
		opts.DefaultURL = "https://bitbucket.org/" + url.PathEscape(t.Owner) + "/" + url.PathEscape(t.Repo)
	}
	base := strings.TrimRight(t.APIURL, "/") + "/repositories/" + url.PathEscape(t.Owner) + "/" + url.PathEscape(t.Repo)
	return &Cloud{opts: opts, base: base}, nil
}

func (c *Cloud) Kind() forge.Kind { return forge.BitbucketCloud }

func (c *Cloud) Limits() forge.Limits { return forge.Limits{Description: DescriptionLimit} }

// NativeState: INPROGRESS, SUCCESSFUL, FAILED, STOPPED (superseded).
func (c *Cloud) NativeState(s forge.State) string {
	switch s {
	case forge.StatePending:
		return "INPROGRESS"
	case forge.StateSuccess:
		return "SUCCESSFUL"
	case forge.StateCanceled:
		return "STOPPED"
	default:
		return "FAILED"
	}
}

// Post creates or replaces (same key) a build status:
// POST /2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build.
func (c *Cloud) Post(ctx context.Context, s forge.Status) error {
	h, err := c.opts.Auth.header(forge.BitbucketCloud)
	if err != nil {
		return err
	}
	body := statusBody{Key: Key(s.Context), State: c.NativeState(s.State), Name: s.Context,
		URL: orDefault(s.TargetURL, c.opts.DefaultURL), Description: s.Description}
	return httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.BitbucketCloud, Op: "post status",
		Method: http.MethodPost, URL: c.base + "/commit/" + url.PathEscape(s.Revision) + "/statuses/build",
		Header: h, Body: body}, nil, classify)
}

// Latest lists the commit's build statuses (one per key):
// GET /2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/statuses (first 100).
func (c *Cloud) Latest(ctx context.Context, revision string) ([]forge.Remote, error) {
	h, err := c.opts.Auth.header(forge.BitbucketCloud)
	if err != nil {
		return nil, err
	}
	var page struct {
		Values []remoteBody `json:"values"`
	}
	err = httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.BitbucketCloud, Op: "list statuses",
		Method: http.MethodGet, URL: c.base + "/commit/" + url.PathEscape(revision) + "/statuses?pagelen=100",
		Header: h}, &page, classify)
	if err != nil {
		return nil, err
	}
	return remotes(page.Values), nil
}

func remotes(values []remoteBody) []forge.Remote {
	out := make([]forge.Remote, 0, len(values))
	for _, v := range values {
		if v.Key == Key(v.Name) { // ours: statuses of other tools keep their own keys
			out = append(out, v.remote())
		}
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
