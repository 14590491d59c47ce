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

// ServerURLLimit: Data Center refuses a build status url "blank or longer
// than 450 characters" (Store a build status,
// https://developer.atlassian.com/server/bitbucket/rest/v1000/api-group-builds-and-deployments/).
const ServerURLLimit = 450

// ServerOptions configure a Server client.
type ServerOptions struct {
	// Target is the repository: Owner is the project key, Repo the slug,
	// APIURL the base URL with its context path ("https://HOST/bitbucket").
	Target forge.Target
	// Auth: an HTTP access token with repository write permission.
	Auth Auth
	// DefaultURL is sent as the status url when a Status has no TargetURL
	// (Bitbucket requires one); default: the repository's browse page.
	DefaultURL string
	// HTTPClient defaults to a client without timeout (the Queue bounds
	// each request through its context).
	HTTPClient *http.Client
}

// Server posts build statuses to one Bitbucket Server / Data Center
// repository (7.4 and later), through the repository-scoped builds API.
type Server struct {
	opts ServerOptions
	root string // APIURL
	repo string // /rest/api/latest/projects/{key}/repos/{slug}
}

var _ forge.Client = (*Server)(nil)

// NewServer returns a Server client; it does not contact Bitbucket.
func NewServer(opts ServerOptions) (*Server, error) {
	t := opts.Target
	if t.Kind != forge.BitbucketServer || t.APIURL == "" || t.Owner == "" || t.Repo == "" {
		return nil, fmt.Errorf("bitbucket: target %s is not a Bitbucket Server repository with a base URL", t)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	root := strings.TrimRight(t.APIURL, "/")
	if opts.DefaultURL == "" {
		opts.DefaultURL = root + "/projects/" + url.PathEscape(t.Owner) + "/repos/" + url.PathEscape(t.Repo) + "/browse"
	}
	repo := "/rest/api/latest/projects/" + url.PathEscape(t.Owner) + "/repos/" + url.PathEscape(t.Repo)
	return &Server{opts: opts, root: root, repo: repo}, nil
}

func (c *Server) Kind() forge.Kind { return forge.BitbucketServer }

func (c *Server) Limits() forge.Limits {
	return forge.Limits{Description: DescriptionLimit, TargetURL: ServerURLLimit}
}

// NativeState: INPROGRESS, SUCCESSFUL, FAILED, CANCELLED (superseded).
func (c *Server) NativeState(s forge.State) string {
	switch s {
	case forge.StatePending:
		return "INPROGRESS"
	case forge.StateSuccess:
		return "SUCCESSFUL"
	case forge.StateCanceled:
		return "CANCELLED"
	default:
		return "FAILED"
	}
}

// Post stores a build status (replacing the one with the same key):
// POST {base}/rest/api/latest/projects/{key}/repos/{slug}/commits/{sha}/builds.
func (c *Server) Post(ctx context.Context, s forge.Status) error {
	h, err := c.opts.Auth.header(forge.BitbucketServer)
	if err != nil {
		return err
	}
	// Data Center refuses state-changing requests without it (XSRF check).
	h.Set("X-Atlassian-Token", "no-check")
	body := statusBody{Key: Key(s.Context), State: c.NativeState(s.State), Name: s.Context,
		URL: orDefault(s.TargetURL, c.opts.DefaultURL), Description: s.Description}
	return httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.BitbucketServer, Op: "post status",
		Method: http.MethodPost, URL: c.root + c.repo + "/commits/" + url.PathEscape(s.Revision) + "/builds",
		Header: h, Body: body}, nil, classify)
}

// Latest lists the commit's build statuses (the newest per key) through
// the build-status API, the one that lists them all:
// GET {base}/rest/build-status/1.0/commits/{sha} (first 100).
func (c *Server) Latest(ctx context.Context, revision string) ([]forge.Remote, error) {
	h, err := c.opts.Auth.header(forge.BitbucketServer)
	if err != nil {
		return nil, err
	}
	var page struct {
		Values []remoteBody `json:"values"`
	}
	err = httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.BitbucketServer, Op: "list statuses",
		Method: http.MethodGet, URL: c.root + "/rest/build-status/1.0/commits/" + url.PathEscape(revision) + "?limit=100",
		Header: h}, &page, classify)
	if err != nil {
		return nil, err
	}
	return remotes(page.Values), nil
}
