package e2e

import (
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
)

// cqlLogin opens a CQL session on the node at ip as user (none: no
// credentials).
func cqlLogin(ip, dc string, c *creds) (*gocql.Session, error) {
	cfg := gocql.NewCluster(ip)
	cfg.ProtoVersion = 4
	cfg.Timeout, cfg.ConnectTimeout = 5*time.Second, 5*time.Second
	cfg.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(dc)
	cfg.HostFilter = gocql.WhiteListHostFilter(ip)
	if c != nil {
		cfg.Authenticator = gocql.PasswordAuthenticator{Username: c.user, Password: c.password}
	}
	return cfg.CreateSession()
}

// assertAuthenticated checks a cluster rolled out with the default
// spec.cql.authentication (Password) and no credentialsSecret, r being
// its bootstrap's output: every node runs PasswordAuthenticator (its
// rendered cassandra.yaml), ringops keeps the Secret <cluster>-cql (user
// ringops, one password in every region), created its role through the
// default superuser and disabled that one, and manages the system
// keyspaces' replication logged in as ringops (system_auth replicates
// wantAuth). A client without credentials, or with cassandra/cassandra,
// is refused on every node.
func assertAuthenticated(t *testing.T, w *env.World, r harness.Run, cluster string, nodes int, wantAuth map[string]string) {
	t.Helper()
	assert.Contains(t, r.Stdout, "AlterKeyspace system_auth", "ringops managed the replication, logged in as its role:\n%s", r)

	var own *creds
	for _, rg := range w.Regions() {
		s, err := rg.Client.CoreV1().Secrets("cassandra").Get(t.Context(), cluster+"-cql", metav1.GetOptions{})
		require.NoError(t, err, "region %s", rg.Name)
		got := creds{string(s.Data["username"]), string(s.Data["password"])}
		assert.Equal(t, "ringops", got.user)
		if own == nil {
			own = &got
		}
		assert.Equal(t, *own, got, "region %s: one role, one password", rg.Name)
	}
	pods := clusterPods(t, w, cluster)
	require.Len(t, pods, nodes)
	for _, p := range pods {
		dc := strings.Split(p.name, "-")[1]
		_, err := cqlLogin(p.ip, dc, nil)
		assert.Error(t, err, "%s: connected without credentials", p)
		_, err = cqlLogin(p.ip, dc, &creds{"cassandra", "cassandra"})
		assert.Error(t, err, "%s: the default superuser still logs in", p)
	}
	s, err := cqlLogin(pods[0].ip, "dc1", own)
	require.NoError(t, err, "ringops' role logs in")
	defer s.Close()
	var repl map[string]string
	require.NoError(t, s.Query("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'system_auth'").Scan(&repl))
	assert.Equal(t, wantAuth, repl)
}
