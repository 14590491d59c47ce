package gitlab_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/forgetest"
	"github.com/ringops/ringops/sources/forge/gitlab"
)

const (
	sha     = "18f3e63d05582537db6d183d9d557be09e1f90c8"
	token   = "glpat-contract0token0for0tests"
	p1      = "eu-west: r1 scaling 2 -> 3, waiting for ring: 10.1.0.7 joining"
	p2      = "eu-west: r2 scaling 2 -> 3, waiting for ring: 10.1.0.8 joining"
	success = "eu-west: 6 nodes Up/Normal at this revision"
	details = "https://ringops.example.com/orders/" + sha
)

var euWest = forge.RegionContext("orders", "eu-west")

func withURL(s forge.Status) forge.Status { s.TargetURL = details; return s }

func TestContracts(t *testing.T) {
	run1 := withURL(forge.Pending(sha, euWest, p1))
	run2 := withURL(forge.Pending(sha, euWest, p2))
	done := withURL(forge.Succeeded(sha, euWest, success))
	badURL := forge.Pending(sha, euWest, p1)
	badURL.TargetURL = "ringops.example.com/orders"
	scenarios := map[string]forgetest.Scenario{
		"create-status.json":                   forgetest.PostOnce(run1, nil, ""),
		"numeric-project-id.json":              forgetest.PostOnce(done, nil, ""),
		"queue-running-then-success.json":      forgetest.Queued(nil, run1, done),
		"repeated-running-400.json":            forgetest.Queued(nil, run2, done),
		"restart-dedupe.json":                  forgetest.Queued(nil, run1, done),
		"superseded.json":                      forgetest.PostOnce(forge.Superseded(sha, euWest, "7638417db6d59f3c431d3e1f261cc637155684cd"), nil, ""),
		"unauthorized-401.json":                forgetest.PostOnce(run1, forge.ErrUnauthorized, "401 Unauthorized"),
		"not-found-404.json":                   forgetest.PostOnce(run1, forge.ErrNotFound, "404 Commit Not Found"),
		"validation-400.json":                  forgetest.PostOnce(badURL, forge.ErrRejected, "Only allowed schemes are http, https"),
		"rate-limit-429.json":                  forgetest.Queued([]time.Duration{2 * time.Minute}, run1),
		"conflict-and-server-error-retry.json": forgetest.Queued([]time.Duration{time.Second, 2 * time.Second}, run1),
	}
	forgetest.RunContracts(t, filepath.Join("..", "testdata", "contracts", "gitlab"), scenarios,
		func(t *testing.T, name, url string) forge.Client {
			target := forge.Target{Kind: forge.GitLab, APIURL: url + "/api/v4", Owner: "janedoe", Repo: "clusters"}
			if name == "numeric-project-id.json" {
				target.Owner, target.Repo = "", "17"
			}
			c, err := gitlab.New(gitlab.Options{Target: target, Token: forge.StaticToken(token)})
			require.NoError(t, err)
			return c
		})
}

func TestRepeatedStateIsAlreadyPosted(t *testing.T) {
	srv := forgetest.Serve(t, forgetest.LoadContract(t, filepath.Join("..", "testdata", "contracts", "gitlab", "repeated-running-400.json")))
	c, err := gitlab.New(gitlab.Options{
		Target: forge.Target{Kind: forge.GitLab, APIURL: srv.URL + "/api/v4", Owner: "janedoe", Repo: "clusters"},
		Token:  forge.StaticToken(token),
	})
	require.NoError(t, err)
	_, err = c.Latest(t.Context(), sha)
	require.NoError(t, err)
	err = c.Post(t.Context(), withURL(forge.Pending(sha, euWest, p2)))
	assert.ErrorIs(t, err, forge.ErrAlreadyPosted)
	assert.NotErrorIs(t, err, forge.ErrRejected)
	require.NoError(t, c.Post(t.Context(), withURL(forge.Succeeded(sha, euWest, success))))
}

func TestStatesAsGitLabNamesThem(t *testing.T) {
	c, err := gitlab.New(gitlab.Options{Target: forge.Target{Kind: forge.GitLab, APIURL: "https://gitlab.com/api/v4", Owner: "a", Repo: "b"}})
	require.NoError(t, err)
	var got []string
	for _, s := range []forge.State{forge.StatePending, forge.StateSuccess, forge.StateFailure, forge.StateError, forge.StateCanceled} {
		got = append(got, c.NativeState(s))
	}
	assert.Equal(t, []string{"running", "success", "failed", "failed", "canceled"}, got)
	assert.Equal(t, forge.Limits{Description: 255, TargetURL: 255}, c.Limits())
}
