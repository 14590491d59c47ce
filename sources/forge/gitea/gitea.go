package gitea

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/internal/httpapi"
)

// DescriptionLimit is ringops' own bound: Gitea (and Forgejo) store the
// description as TEXT with no length check (models/git/commit_status.go,
// CreateStatusOption in modules/structs/status.go, v1.26), and show it on
// one line; 255 matches GitLab and Bitbucket.
const DescriptionLimit = 255

// pageLimit is Gitea's default [api] MAX_RESPONSE_ITEMS.
const pageLimit = 50

// Options configure a Client.
type Options struct {
	// Target is the repository (Kind Gitea or Forgejo); Target.APIURL is
	// "https://HOST/api/v1".
	Target forge.Target
	// Token is an access token with the write:repository scope, sent as
	// "Authorization: token ...".
	Token forge.TokenSource
	// HTTPClient defaults to a client without timeout (the Queue bounds
	// each request through its context).
	HTTPClient *http.Client
}

// Client posts commit statuses to one Gitea or Forgejo repository.
type Client struct {
	opts Options
	base string // APIURL + /repos/{owner}/{repo}
}

var _ forge.Client = (*Client)(nil)

// New returns a Client; it does not contact the forge.
func New(opts Options) (*Client, error) {
	t := opts.Target
	if (t.Kind != forge.Gitea && t.Kind != forge.Forgejo) || t.APIURL == "" || t.Owner == "" || t.Repo == "" {
		return nil, fmt.Errorf("gitea: target %s is not a Gitea or Forgejo repository with an API URL", t)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	base := strings.TrimRight(t.APIURL, "/") + "/repos/" + url.PathEscape(t.Owner) + "/" + url.PathEscape(t.Repo)
	return &Client{opts: opts, base: base}, nil
}

func (c *Client) Kind() forge.Kind { return c.opts.Target.Kind }

func (c *Client) Limits() forge.Limits { return forge.Limits{Description: DescriptionLimit} }

// NativeState: Gitea knows pending, success, error, failure and warning;
// a superseded revision is an error whose description says so (Forgejo
// has no "skipped").
func (c *Client) NativeState(s forge.State) string {
	if s == forge.StateCanceled {
		return "error"
	}
	return s.String()
}

type statusBody struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description,omitempty"`
	Context     string `json:"context"`
}

// Post creates a status: POST /api/v1/repos/{owner}/{repo}/statuses/{sha}.
func (c *Client) Post(ctx context.Context, s forge.Status) error {
	h, err := c.header()
	if err != nil {
		return err
	}
	body := statusBody{State: c.NativeState(s.State), TargetURL: s.TargetURL, Description: s.Description, Context: s.Context}
	return httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: c.Kind(), Op: "post status",
		Method: http.MethodPost, URL: c.base + "/statuses/" + url.PathEscape(s.Revision), Header: h, Body: body},
		nil, nil)
}

// Latest reads the combined status (newest status per context):
// GET /api/v1/repos/{owner}/{repo}/commits/{ref}/status (first page of 50).
func (c *Client) Latest(ctx context.Context, revision string) ([]forge.Remote, error) {
	h, err := c.header()
	if err != nil {
		return nil, err
	}
	var combined struct {
		Statuses []struct {
			Status      string `json:"status"`
			TargetURL   string `json:"target_url"`
			Description string `json:"description"`
			Context     string `json:"context"`
		} `json:"statuses"`
	}
	err = httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: c.Kind(), Op: "list statuses",
		Method: http.MethodGet, URL: fmt.Sprintf("%s/commits/%s/status?limit=%d", c.base, url.PathEscape(revision), pageLimit),
		Header: h}, &combined, nil)
	if err != nil {
		return nil, err
	}
	out := make([]forge.Remote, 0, len(combined.Statuses))
	for _, s := range combined.Statuses {
		out = append(out, forge.Remote{Context: s.Context, State: s.Status, Description: s.Description, TargetURL: s.TargetURL})
	}
	return out, nil
}

func (c *Client) header() (http.Header, error) {
	tok, err := httpapi.Token(c.Kind(), c.opts.Token)
	if err != nil {
		return nil, err
	}
	return http.Header{"Authorization": {"token " + string(tok)}, "Accept": {"application/json"}}, nil
}
