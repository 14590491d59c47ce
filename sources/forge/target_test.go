package forge_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
)

func TestResolveTarget(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts forge.TargetOptions
		want forge.Target
	}{
		{"https://github.com/acme/cassandra-clusters.git", forge.TargetOptions{},
			forge.Target{Kind: forge.GitHub, APIURL: "https://api.github.com", Owner: "acme", Repo: "cassandra-clusters"}},
		{"git@github.com:acme/cassandra-clusters.git", forge.TargetOptions{},
			forge.Target{Kind: forge.GitHub, APIURL: "https://api.github.com", Owner: "acme", Repo: "cassandra-clusters"}},
		{"ssh://git@github.com/acme/clusters", forge.TargetOptions{},
			forge.Target{Kind: forge.GitHub, APIURL: "https://api.github.com", Owner: "acme", Repo: "clusters"}},
		{"https://ghe.example.com/acme/clusters.git", forge.TargetOptions{Kind: forge.GitHub},
			forge.Target{Kind: forge.GitHub, APIURL: "https://ghe.example.com/api/v3", Owner: "acme", Repo: "clusters"}},
		{"https://gitlab.com/acme/platform/db/clusters.git", forge.TargetOptions{},
			forge.Target{Kind: forge.GitLab, APIURL: "https://gitlab.com/api/v4", Owner: "acme/platform/db", Repo: "clusters"}},
		{"git@gitlab.example.com:acme/clusters.git", forge.TargetOptions{Kind: forge.GitLab},
			forge.Target{Kind: forge.GitLab, APIURL: "https://gitlab.example.com/api/v4", Owner: "acme", Repo: "clusters"}},
		{"https://gitlab.example.com/acme/clusters.git", forge.TargetOptions{Kind: forge.GitLab, Repository: "4711"},
			forge.Target{Kind: forge.GitLab, APIURL: "https://gitlab.example.com/api/v4", Repo: "4711"}},
		{"https://bitbucket.org/acme/clusters.git", forge.TargetOptions{},
			forge.Target{Kind: forge.BitbucketCloud, APIURL: "https://api.bitbucket.org/2.0", Owner: "acme", Repo: "clusters"}},
		{"https://bitbucket.example.com/bitbucket/scm/DB/clusters.git", forge.TargetOptions{Kind: forge.BitbucketServer},
			forge.Target{Kind: forge.BitbucketServer, APIURL: "https://bitbucket.example.com/bitbucket", Owner: "DB", Repo: "clusters"}},
		{"ssh://git@bitbucket.example.com:7999/db/clusters.git", forge.TargetOptions{Kind: forge.BitbucketServer, APIURL: "https://bitbucket.example.com/"},
			forge.Target{Kind: forge.BitbucketServer, APIURL: "https://bitbucket.example.com", Owner: "db", Repo: "clusters"}},
		{"http://127.0.0.1:3000/ringops/clusters.git", forge.TargetOptions{Kind: forge.Gitea},
			forge.Target{Kind: forge.Gitea, APIURL: "http://127.0.0.1:3000/api/v1", Owner: "ringops", Repo: "clusters"}},
		{"https://code.example.com/git/acme/clusters", forge.TargetOptions{Kind: forge.Forgejo},
			forge.Target{Kind: forge.Forgejo, APIURL: "https://code.example.com/git/api/v1", Owner: "acme", Repo: "clusters"}},
		{"https://github.com/acme/clusters", forge.TargetOptions{Repository: "acme/clusters-mirror"},
			forge.Target{Kind: forge.GitHub, APIURL: "https://api.github.com", Owner: "acme", Repo: "clusters-mirror"}},
	} {
		t.Run(tc.url, func(t *testing.T) {
			got, err := forge.ResolveTarget(tc.url, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResolveTargetSaysWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		url  string
		opts forge.TargetOptions
		want string
	}{
		{"https://git.example.com/acme/clusters.git", forge.TargetOptions{}, "set --forge"},
		{"https://git.example.com/clusters.git", forge.TargetOptions{Kind: forge.Gitea}, "set --forge-repository"},
		{"https://git.example.com/a/b", forge.TargetOptions{Kind: "svn"}, "unknown"},
		{"ftp://git.example.com/a/b", forge.TargetOptions{}, "not supported"},
		{"", forge.TargetOptions{}, "empty"},
	} {
		_, err := forge.ResolveTarget(tc.url, tc.opts)
		require.Error(t, err, tc.url)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestParseKind(t *testing.T) {
	k, err := forge.ParseKind("Bitbucket-Server")
	require.NoError(t, err)
	assert.Equal(t, forge.BitbucketServer, k)
	_, err = forge.ParseKind("gogs")
	assert.ErrorContains(t, err, "bitbucket-cloud, bitbucket-server, forgejo, gitea, github, gitlab")
}

// The forge token never goes over plain http, but to a loopback address
// (a forge on the same machine); a password in a URL never reaches a
// message.
func TestTargetRefusesPlainHTTPAndRedacts(t *testing.T) {
	for url, ok := range map[string]bool{
		"http://gitea.example.com/acme/db.git":  false,
		"http://10.0.0.7:3000/acme/db.git":      false,
		"http://127.0.0.1:3000/acme/db.git":     true,
		"http://localhost:3000/acme/db.git":     true,
		"https://gitea.example.com/acme/db.git": true,
	} {
		_, err := forge.ResolveTarget(url, forge.TargetOptions{Kind: forge.Gitea})
		if (err == nil) != ok {
			t.Errorf("%s: err %v, want accepted = %t", url, err, ok)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "plain http")) {
			t.Errorf("%s: %v, want the reason (plain http)", url, err)
		}
	}
	_, err := forge.ResolveTarget("http://bob:hunter2@gitea.example.com/acme/db.git", forge.TargetOptions{Kind: forge.Gitea})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the URL's password: %v", err)
	}
	_, err = forge.ResolveTarget("https://bob:hunter2@gitea.example.com/acme/db.git", forge.TargetOptions{Kind: forge.Gitea, APIURL: "ftp://bob:hunter2@x"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the API URL's password: %v", err)
	}
}
