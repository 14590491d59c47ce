package github

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/internal/httpapi"
)

// APIVersion is the REST API version ringops was written against, sent as
// X-GitHub-Api-Version (https://docs.github.com/en/rest/about-the-rest-api/api-versions).
const APIVersion = "2022-11-28"

// DescriptionLimit: GitHub answers 422 "description is too long (maximum
// is 140 characters)" beyond it (the "Create a commit status" endpoint,
// https://docs.github.com/en/rest/commits/statuses#create-a-commit-status;
// the limit is documented for deployment statuses and enforced for both).
const DescriptionLimit = 140

// secondaryWait is how long to wait after a secondary rate limit that came
// without retry-after or x-ratelimit-remaining: "at least one minute"
// (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
const secondaryWait = time.Minute

// Options configure a Client.
type Options struct {
	// Target is the repository; Target.APIURL is "https://api.github.com"
	// or, for GitHub Enterprise Server, "https://HOST/api/v3".
	Target forge.Target
	// Token is a personal access token or an app installation token with
	// "Commit statuses: write" (classic: repo:status), sent as a Bearer token.
	Token forge.TokenSource
	// HTTPClient defaults to a client without timeout (the Queue bounds
	// each request through its context).
	HTTPClient *http.Client
}

// Client posts commit statuses to one GitHub repository.
type Client struct {
	opts Options
	base string // APIURL + /repos/{owner}/{repo}
}

var _ forge.Client = (*Client)(nil)

// New returns a Client; it does not contact GitHub.
func New(opts Options) (*Client, error) {
	t := opts.Target
	if t.Kind != forge.GitHub || t.APIURL == "" || t.Owner == "" || t.Repo == "" {
		return nil, fmt.Errorf("github: target %s is not a GitHub repository with an API URL", t)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	base := strings.TrimRight(t.APIURL, "/") + "/repos/" + url.PathEscape(t.Owner) + "/" + url.PathEscape(t.Repo)
	return &Client{opts: opts, base: base}, nil
}

func (c *Client) Kind() forge.Kind { return forge.GitHub }

func (c *Client) Limits() forge.Limits { return forge.Limits{Description: DescriptionLimit} }

// NativeState: GitHub knows error, failure, pending and success; a
// superseded revision is an error whose description says so.
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

// Post creates a status: POST /repos/{owner}/{repo}/statuses/{sha}.
func (c *Client) Post(ctx context.Context, s forge.Status) error {
	h, err := c.header()
	if err != nil {
		return err
	}
	body := statusBody{State: c.NativeState(s.State), TargetURL: s.TargetURL, Description: s.Description, Context: s.Context}
	return httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.GitHub, Op: "post status",
		Method: http.MethodPost, URL: c.base + "/statuses/" + url.PathEscape(s.Revision), Header: h, Body: body},
		nil, classify)
}

// Latest reads the combined status, which holds the newest status per
// context: GET /repos/{owner}/{repo}/commits/{ref}/status (first 100 contexts).
func (c *Client) Latest(ctx context.Context, revision string) ([]forge.Remote, error) {
	h, err := c.header()
	if err != nil {
		return nil, err
	}
	var combined struct {
		Statuses []statusBody `json:"statuses"`
	}
	err = httpapi.Do(ctx, c.opts.HTTPClient, httpapi.Request{Kind: forge.GitHub, Op: "list statuses",
		Method: http.MethodGet, URL: c.base + "/commits/" + url.PathEscape(revision) + "/status?per_page=100", Header: h},
		&combined, classify)
	if err != nil {
		return nil, err
	}
	out := make([]forge.Remote, 0, len(combined.Statuses))
	for _, s := range combined.Statuses {
		out = append(out, forge.Remote{Context: s.Context, State: s.State, Description: s.Description, TargetURL: s.TargetURL})
	}
	return out, nil
}

func (c *Client) header() (http.Header, error) {
	tok, err := httpapi.Token(forge.GitHub, c.opts.Token)
	if err != nil {
		return nil, err
	}
	return http.Header{
		"Authorization":        {"Bearer " + string(tok)},
		"Accept":               {"application/vnd.github+json"},
		"X-Github-Api-Version": {APIVersion},
	}, nil
}

// classify tells GitHub's rate limits from a plain 403: a primary limit
// has x-ratelimit-remaining 0 and x-ratelimit-reset; a secondary limit
// may carry retry-after, or else only its message.
func classify(e *forge.APIError, h http.Header) {
	if e.StatusCode != http.StatusForbidden && e.StatusCode != http.StatusTooManyRequests {
		return
	}
	switch {
	case e.RetryAfter > 0:
		e.Class = forge.ErrRateLimited
	case h.Get("X-Ratelimit-Remaining") == "0":
		e.Class = forge.ErrRateLimited
		e.ResetAt = httpapi.EpochHeader(h, "X-Ratelimit-Reset")
	case e.StatusCode == http.StatusTooManyRequests || strings.Contains(strings.ToLower(e.Message), "secondary rate limit"):
		e.Class = forge.ErrRateLimited
		e.RetryAfter = secondaryWait
	}
}
