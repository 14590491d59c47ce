package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/internal/httpapi"
)

// Limits of the "Set commit pipeline status" endpoint: description and
// target_url "must be 255 characters or fewer"
// (https://docs.gitlab.com/api/commits/#set-commit-pipeline-status).
const (
	DescriptionLimit = 255
	TargetURLLimit   = 255
)

// Options configure a Client.
type Options struct {
	// Target is the project; Target.APIURL is "https://gitlab.com/api/v4"
	// or "https://HOST/api/v4"; Owner/Repo is the project path
	// ("group/subgroup", "project"), or Repo alone its numeric ID.
	Target forge.Target
	// Token is a personal, project or group access token with the "api"
	// scope, sent as PRIVATE-TOKEN.
	Token forge.TokenSource
	// Ref, when set, is sent with every status (the branch the pipeline
	// belongs to); GitLab otherwise picks a branch that holds the commit.
	Ref string
	// HTTPClient defaults to a client without timeout (the Queue bounds
	// each request through its context).
	HTTPClient *http.Client
}

// Client posts commit statuses to one GitLab project.
type Client struct {
	opts Options
	base string // APIURL + /projects/{id}
}

var _ forge.Client = (*Client)(nil)

// New returns a Client; it does not contact GitLab.
func New(opts Options) (*Client, error) {
	t := opts.Target
	if t.Kind != forge.GitLab || t.APIURL == "" || t.Repo == "" {
		return nil, fmt.Errorf("gitlab: target %s is not a GitLab project with an API URL", t)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	// The project is its numeric ID or its URL-encoded path
	// (https://docs.gitlab.com/api/rest/#namespaced-paths).
	base := strings.TrimRight(t.APIURL, "/") + "/projects/" + url.PathEscape(t.FullName())
	return &Client{opts: opts, base: base}, nil
}

func (c *Client) Kind() forge.Kind { return forge.GitLab }

func (c *Client) Limits() forge.Limits {
	return forge.Limits{Description: DescriptionLimit, TargetURL: TargetURLLimit}
}

// NativeState maps to GitLab's job states: a rollout under way is
// "running"; failure and error are "failed"; superseded is "canceled".
func (c *Client) NativeState(s forge.State) string {
	switch s {
	case forge.StatePending:
		return "running"
	case forge.StateSuccess:
		return "success"
	case forge.StateCanceled:
		return "canceled"
	default:
		return "failed"
	}
}

type statusBody struct {
	State       string `json:"state"`
	Name        string `json:"name"`
	Ref         string `json:"ref,omitempty"`
	Description string `json:"description,omitempty"`
	TargetURL   string `json:"target_url,omitempty"`
}

// Post sets a status: POST /projects/:id/statuses/:sha. GitLab answers a
// repeated running state with 400 "Cannot transition status via :run from
// :running"; that is ErrAlreadyPosted (the description of a running status
// cannot be changed through this API).
func (c *Client) Post(ctx context.Context, s forge.Status) error {
	h, err := c.header()
	if err != nil {
		return err
	}
	body := statusBody{State: c.NativeState(s.State), Name: s.Context, Ref: c.opts.Ref,
		Description: s.Description, TargetURL: s.TargetURL}
	return httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.GitLab, Op: "post status",
		Method: http.MethodPost, URL: c.base + "/statuses/" + url.PathEscape(s.Revision), Header: h, Body: body},
		nil, classify)
}

// Latest lists the newest status per name on the commit:
// GET /projects/:id/repository/commits/:sha/statuses (first 100).
func (c *Client) Latest(ctx context.Context, revision string) ([]forge.Remote, error) {
	h, err := c.header()
	if err != nil {
		return nil, err
	}
	q := url.Values{"per_page": {"100"}}
	if c.opts.Ref != "" {
		q.Set("ref", c.opts.Ref)
	}
	var list []struct {
		Name        string `json:"name"`
		Status      string `json:"status"`
		Description string `json:"description"`
		TargetURL   string `json:"target_url"`
	}
	err = httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.GitLab, Op: "list statuses",
		Method: http.MethodGet, URL: c.base + "/repository/commits/" + url.PathEscape(revision) + "/statuses?" + q.Encode(),
		Header: h}, &list, classify)
	if err != nil {
		return nil, err
	}
	out := make([]forge.Remote, 0, len(list))
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s.Name] { // newest first per name, should GitLab ever list more than one
			seen[s.Name] = true
			out = append(out, forge.Remote{Context: s.Name, State: s.Status, Description: s.Description, TargetURL: s.TargetURL})
		}
	}
	return out, nil
}

func (c *Client) header() (http.Header, error) {
	tok, err := httpapi.Token(forge.GitLab, c.opts.Token)
	if err != nil {
		return nil, err
	}
	return http.Header{"Private-Token": {string(tok)}}, nil
}

// classify reads GitLab's answers: 429 with RateLimit-Reset (epoch) and
// Retry-After (https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers),
// and the 400 of a state machine transition that is already done.
func classify(e *forge.APIError, h http.Header) {
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		e.ResetAt = httpapi.EpochHeader(h, "Ratelimit-Reset")
	case e.StatusCode == http.StatusBadRequest && strings.Contains(e.Message, "Cannot transition status"):
		e.Class = forge.ErrAlreadyPosted
	}
}
