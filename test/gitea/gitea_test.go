package gitea_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/provider"
	"github.com/ringops/ringops/test/gitea"
)

type triggers chan struct{}

func (t triggers) Trigger() {
	select {
	case t <- struct{}{}:
	default:
	}
}

// A push to the Gitea repository reaches sources/forge's webhook receiver as
// a signed push event for the watched ref: what makes the daemon poll.
func TestPushWebhookReachesTheReceiver(t *testing.T) {
	srv := gitea.Start(t)
	repo := srv.CreateRepo(t, "clusters")
	first := srv.Push(t, repo, map[string]string{"README.md": "# clusters\n"}, "initial")
	require.Len(t, first, 40)

	const hookSecret = "hook-secret-for-tests"
	fired := make(triggers, 1)
	opts := forge.DefaultWebhookOptions()
	opts.Ref, opts.Secrets = "refs/heads/main", map[forge.Kind]secret.Secret{forge.Gitea: secret.Secret(hookSecret)}
	receiver := httptest.NewServer(provider.NewWebhookHandler(opts, fired))
	t.Cleanup(receiver.Close)
	srv.AddPushHook(t, repo, receiver.URL+"/hooks/git", hookSecret)

	second := srv.Push(t, repo, map[string]string{"clusters/orders/cluster.yaml": "kind: CassandraCluster\n"}, "add orders")
	assert.NotEqual(t, first, second)
	select {
	case <-fired:
	case <-time.After(60 * time.Second): // a guard, not a measurement
		t.Fatal("no verified push event reached the receiver")
	}
}

// The server keeps its data across Stop and Start (a forge that goes down
// and comes back), and Start refuses nothing it did the first time.
func TestStopAndStartKeepTheData(t *testing.T) {
	srv := gitea.Start(t)
	repo := srv.CreateRepo(t, "clusters")
	sha := srv.Push(t, repo, map[string]string{"README.md": "hello\n"}, "initial")
	require.NoError(t, srv.API(http.MethodPost, "/repos/ringops/clusters/statuses/"+sha,
		map[string]string{"state": "success", "context": "ringops", "description": "before the restart"}, nil))

	require.NoError(t, srv.Stop())
	err := srv.API(http.MethodGet, "/version", nil, nil)
	require.Error(t, err, "a stopped server does not answer")
	require.NoError(t, srv.Start())

	got := srv.Statuses(t, repo, sha)
	require.Len(t, got, 1)
	assert.Equal(t, "before the restart", got[0].Description)
	assert.False(t, strings.Contains(srv.URL, "localhost"), "loopback address only")
}
