package e2e

import (
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
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

// rotateCQL gives spec.cql.rotate a token: ringops writes a new password
// into orders-cql of every region (the one before kept as
// previous-password, the token as an annotation) and sets it on its
// role, logged in with the one before; no step is carried out and no pod
// is replaced; the new password logs in, the old one is refused.
func rotateCQL(t *testing.T, s *scenario) {
	secret := func(rg string) *corev1.Secret {
		sec, err := s.w.Region(rg).Client.CoreV1().Secrets("cassandra").Get(t.Context(), "orders-cql", metav1.GetOptions{})
		require.NoError(t, err, "region %s", rg)
		return sec
	}
	old := string(secret("eu-west").Data["password"])
	pods := clusterPods(t, s.w, "orders")
	s.dir.Edit(t, "  # ringops talks CQL (port 9042", "  cql: {rotate: \"2026-12-07\"}\n  # ringops talks CQL (port 9042")
	r := harness.Ringops(t, limit, s.dir.applyArgs(s.w.Kubeconfig, "--wait", "-v")...)
	require.Equal(t, 0, r.Code, "%s", r)
	assert.Equal(t, 3, writes(t, r), "a rotation writes the three Secrets orders-cql, nothing else:\n%s", r)
	next := string(secret("eu-west").Data["password"])
	assert.NotEqual(t, old, next, "a new password")
	for _, rg := range []string{"eu-west", "us-east", "ap-south"} {
		now := secret(rg)
		assert.Equal(t, next, string(now.Data["password"]), "region %s: one password in every region", rg)
		assert.Equal(t, old, string(now.Data["previous-password"]), "region %s: the one before kept", rg)
		assert.Equal(t, "2026-12-07", now.Annotations["ringops.dev/cql-rotate"], "region %s", rg)
	}
	uids := func(ps []pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.uid)
		}
		return out
	}
	assert.ElementsMatch(t, uids(pods), uids(clusterPods(t, s.w, "orders")), "no pod replaced")
	for _, p := range pods {
		if !strings.HasPrefix(p.name, "orders-dc1-") {
			continue
		}
		if c, err := cqlLogin(p.ip, "dc1", &creds{"ringops", next}); assert.NoError(t, err, "%s: the new password", p) {
			c.Close()
		}
		_, err := cqlLogin(p.ip, "dc1", &creds{"ringops", old})
		assert.Error(t, err, "%s: the old password still logs in", p)
	}
}
