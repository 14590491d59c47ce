package github_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/forgetest"
	"github.com/ringops/ringops/sources/forge/github"
)

const (
	sha     = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	token   = "ghp_contract0token0for0tests0only000000"
	pending = "eu-west: r2 scaling 2 -> 3, waiting for ring: 10.1.0.7 joining"
	success = "eu-west: 6 nodes Up/Normal at this revision"
	details = "https://ringops.example.com/orders/" + sha
)

var (
	euWest    = forge.RegionContext("orders", "eu-west")
	contracts = filepath.Join("..", "testdata", "contracts", "github")
)

func withURL(s forge.Status) forge.Status { s.TargetURL = details; return s }

func newClient(t *testing.T, api string) *github.Client {
	c, err := github.New(github.Options{
		Target: forge.Target{Kind: forge.GitHub, APIURL: api, Owner: "octocat", Repo: "Hello-World"},
		Token:  forge.StaticToken(token),
	})
	require.NoError(t, err)
	return c
}

func TestContracts(t *testing.T) {
	p := withURL(forge.Pending(sha, euWest, pending))
	s := withURL(forge.Succeeded(sha, euWest, success))
	scenarios := map[string]forgetest.Scenario{
		"create-status.json":                    forgetest.PostOnce(s, nil, ""),
		"queue-pending-then-success.json":       forgetest.Queued(nil, p, s),
		"restart-dedupe.json":                   forgetest.Queued(nil, p, s),
		"superseded.json":                       forgetest.PostOnce(forge.Superseded(sha, euWest, "7638417db6d59f3c431d3e1f261cc637155684cd"), nil, ""),
		"unauthorized-401.json":                 forgetest.PostOnce(p, forge.ErrUnauthorized, "HTTP 401 Unauthorized: Bad credentials"),
		"not-found-404.json":                    forgetest.PostOnce(p, forge.ErrNotFound, "HTTP 404"),
		"validation-422-limit.json":             forgetest.PostOnce(p, forge.ErrRejected, "reached the maximum number of statuses"),
		"rate-limit-primary-403.json":           forgetest.Queued([]time.Duration{10 * time.Minute}, p),
		"rate-limit-secondary-retry-after.json": forgetest.Queued([]time.Duration{90 * time.Second}, p),
		"rate-limit-secondary-429.json":         forgetest.Queued([]time.Duration{time.Minute}, p),
		"server-error-retry.json":               forgetest.Queued([]time.Duration{time.Second, 2 * time.Second}, p),
		"enterprise-server.json":                forgetest.PostOnce(p, nil, ""),
	}
	forgetest.RunContracts(t, contracts, scenarios, func(t *testing.T, name, url string) forge.Client {
		if name == "enterprise-server.json" {
			url += "/api/v3" // GitHub Enterprise Server: https://HOST/api/v3
		}
		return newClient(t, url)
	})
}

func TestRateLimitErrorsSayWhenToRetry(t *testing.T) {
	srv := forgetest.Serve(t, forgetest.LoadContract(t, filepath.Join(contracts, "rate-limit-primary-403.json")))
	c := newClient(t, srv.URL)
	_, err := c.Latest(context.Background(), sha)
	require.NoError(t, err)
	err = c.Post(context.Background(), withURL(forge.Pending(sha, euWest, pending)))
	var api *forge.APIError
	require.ErrorAs(t, err, &api)
	assert.ErrorIs(t, err, forge.ErrRateLimited)
	assert.Equal(t, forgetest.Epoch.Add(10*time.Minute), api.ResetAt)
	require.NoError(t, c.Post(context.Background(), withURL(forge.Pending(sha, euWest, pending))))
}

func TestNewRefusesAnotherForgesTarget(t *testing.T) {
	_, err := github.New(github.Options{Target: forge.Target{Kind: forge.GitLab, APIURL: "https://gitlab.com/api/v4", Owner: "a", Repo: "b"}})
	assert.Error(t, err)
}

func TestStatesAsGitHubNamesThem(t *testing.T) {
	c := newClient(t, "https://api.github.com")
	var got []string
	for _, s := range []forge.State{forge.StatePending, forge.StateSuccess, forge.StateFailure, forge.StateError, forge.StateCanceled} {
		got = append(got, c.NativeState(s))
	}
	assert.Equal(t, []string{"pending", "success", "failure", "error", "error"}, got)
	assert.Equal(t, 140, c.Limits().Description)
}
