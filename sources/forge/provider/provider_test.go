package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/provider"
)

func TestNewClientPicksTheForgeFromTheRepositoryURL(t *testing.T) {
	tok := forge.TokenEnv("RINGOPS_FORGE_TOKEN")
	for _, tc := range []struct {
		url  string
		kind forge.Kind
		want forge.Kind
	}{
		{"https://github.com/acme/clusters.git", "", forge.GitHub},
		{"git@gitlab.com:acme/db/clusters.git", "", forge.GitLab},
		{"https://bitbucket.org/acme/clusters.git", "", forge.BitbucketCloud},
		{"https://bitbucket.example.com/scm/DB/clusters.git", forge.BitbucketServer, forge.BitbucketServer},
		{"https://code.example.com/acme/clusters.git", forge.Forgejo, forge.Forgejo},
		{"http://127.0.0.1:3000/ringops/clusters.git", forge.Gitea, forge.Gitea},
		{"https://ghe.example.com/acme/clusters.git", forge.GitHub, forge.GitHub},
	} {
		c, target, err := provider.NewClient(provider.Options{RepoURL: tc.url, Target: forge.TargetOptions{Kind: tc.kind}, Token: tok})
		require.NoError(t, err, tc.url)
		assert.Equal(t, tc.want, c.Kind(), tc.url)
		assert.Equal(t, tc.want, target.Kind, tc.url)
	}
}

func TestNewClientNeedsAToken(t *testing.T) {
	_, _, err := provider.NewClient(provider.Options{RepoURL: "https://github.com/acme/clusters.git"})
	assert.ErrorIs(t, err, forge.ErrInvalidToken)
}
