package bitbucket_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/bitbucket"
	"github.com/ringops/ringops/sources/forge/forgetest"
)

const (
	sha     = "e10dae226959c2194f2b07b077c07762d93821cf"
	token   = "bbat-contract0token0for0tests"
	pending = "eu-west: r2 scaling 2 -> 3, waiting for ring: 10.1.0.7 joining"
	success = "eu-west: 6 nodes Up/Normal at this revision"
	details = "https://ringops.example.com/orders/" + sha
	refused = "clusters/orders/cluster.yaml:14: removing rack r3 is refused"
	later   = "7638417db6d59f3c431d3e1f261cc637155684cd"
)

var euWest = forge.RegionContext("orders", "eu-west")

func withURL(s forge.Status) forge.Status { s.TargetURL = details; return s }

// common are the scenarios both products share a contract for.
func common() map[string]forgetest.Scenario {
	p := withURL(forge.Pending(sha, euWest, pending))
	s := withURL(forge.Succeeded(sha, euWest, success))
	return map[string]forgetest.Scenario{
		"create-status.json":                    forgetest.PostOnce(p, nil, ""),
		"default-url.json":                      forgetest.PostOnce(forge.Failed(sha, euWest, errString(refused)), nil, ""),
		"queue-inprogress-then-successful.json": forgetest.Queued(nil, p, s),
		"restart-dedupe.json":                   forgetest.Queued(nil, p, s),
		"superseded.json":                       forgetest.PostOnce(forge.Superseded(sha, euWest, later), nil, ""),
		"server-error-retry.json":               forgetest.Queued([]time.Duration{time.Second, 2 * time.Second}, p),
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestCloudContracts(t *testing.T) {
	p := withURL(forge.Pending(sha, euWest, pending))
	badURL := forge.Pending(sha, euWest, pending)
	badURL.TargetURL = "ringops.example.com/orders"
	scenarios := common()
	scenarios["create-status-app-password.json"] = forgetest.PostOnce(withURL(forge.Succeeded(sha, euWest, success)), nil, "")
	scenarios["unauthorized-401.json"] = forgetest.PostOnce(p, forge.ErrUnauthorized, "Access token expired")
	scenarios["not-found-404.json"] = forgetest.PostOnce(p, forge.ErrNotFound, "Repository my-workspace/my-repo not found")
	scenarios["validation-400.json"] = forgetest.PostOnce(badURL, forge.ErrRejected, "url: Enter a valid URL.")
	scenarios["rate-limit-429.json"] = forgetest.Queued([]time.Duration{time.Minute}, p)
	forgetest.RunContracts(t, filepath.Join("..", "testdata", "contracts", "bitbucket-cloud"), scenarios,
		func(t *testing.T, name, url string) forge.Client {
			auth := bitbucket.Auth{Token: forge.StaticToken(token)}
			if name == "create-status-app-password.json" {
				auth.Username = "jdoe"
			}
			c, err := bitbucket.NewCloud(bitbucket.CloudOptions{
				Target: forge.Target{Kind: forge.BitbucketCloud, APIURL: url + "/2.0", Owner: "my-workspace", Repo: "my-repo"},
				Auth:   auth,
			})
			require.NoError(t, err)
			return c
		})
}

func TestServerContracts(t *testing.T) {
	p := withURL(forge.Pending(sha, euWest, pending))
	scenarios := common()
	scenarios["unauthorized-401.json"] = forgetest.PostOnce(p, forge.ErrUnauthorized, "You are not permitted to access this resource")
	scenarios["not-found-404.json"] = forgetest.PostOnce(p, forge.ErrNotFound, "Repository DB/clusters does not exist.")
	scenarios["validation-400.json"] = forgetest.PostOnce(p, forge.ErrRejected, "does not exist in repository 'clusters'")
	scenarios["rate-limit-429.json"] = forgetest.Queued([]time.Duration{30 * time.Second}, p)
	forgetest.RunContracts(t, filepath.Join("..", "testdata", "contracts", "bitbucket-server"), scenarios,
		func(t *testing.T, name, url string) forge.Client {
			c, err := bitbucket.NewServer(bitbucket.ServerOptions{
				Target: forge.Target{Kind: forge.BitbucketServer, APIURL: url + "/bitbucket", Owner: "DB", Repo: "clusters"},
				Auth:   bitbucket.Auth{Token: forge.StaticToken(token)},
			})
			require.NoError(t, err)
			return c
		})
}

func TestKeysAreFortyCharactersPerContext(t *testing.T) {
	a, b := bitbucket.Key(euWest), bitbucket.Key(forge.RegionContext("orders", "us-east"))
	assert.Len(t, a, 40)
	assert.NotEqual(t, a, b)
	assert.Equal(t, a, bitbucket.Key(euWest), "stable across restarts")
}

func TestStatesAsBitbucketNamesThem(t *testing.T) {
	cloud, err := bitbucket.NewCloud(bitbucket.CloudOptions{Target: forge.Target{Kind: forge.BitbucketCloud, APIURL: "https://api.bitbucket.org/2.0", Owner: "w", Repo: "r"}})
	require.NoError(t, err)
	server, err := bitbucket.NewServer(bitbucket.ServerOptions{Target: forge.Target{Kind: forge.BitbucketServer, APIURL: "https://bb.example.com", Owner: "P", Repo: "r"}})
	require.NoError(t, err)
	var got []string
	for _, s := range []forge.State{forge.StatePending, forge.StateSuccess, forge.StateFailure, forge.StateError, forge.StateCanceled} {
		got = append(got, cloud.NativeState(s)+"/"+server.NativeState(s))
	}
	assert.Equal(t, []string{"INPROGRESS/INPROGRESS", "SUCCESSFUL/SUCCESSFUL", "FAILED/FAILED", "FAILED/FAILED", "STOPPED/CANCELLED"}, got)
	assert.Equal(t, 450, server.Limits().TargetURL)
}
