package realnodes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// login opens a CQL session on the node at ip as user:password (user "":
// no credentials).
func login(ip, dc, user, password string) (*gocql.Session, error) {
	cfg := gocql.NewCluster(ip)
	cfg.ProtoVersion = 4
	cfg.Timeout, cfg.ConnectTimeout = 10*time.Second, 10*time.Second
	cfg.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(dc)
	if user != "" {
		cfg.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: password}
	}
	return cfg.CreateSession()
}

// TestRealAuthentication (#21): on a real 5.0 node, a fresh ring with
// spec.cql.authentication: Password comes up with PasswordAuthenticator
// (ringops' rendered cassandra.yaml); ringops keeps the Secret auth-cql,
// creates its role ringops through the default superuser Cassandra
// creates 10 s after start (superuser_setup_delay_ms), disables that one,
// and manages system_auth's replication logged in as ringops. A client
// without credentials is refused, and so is cassandra/cassandra. One node:
// about two minutes.
func TestRealAuthentication(t *testing.T) {
	w := realWorld(t)
	c := newRealCluster(t, w, "auth")
	c.write(t, "", realDC{Name: "dc1", Context: "eu-west", RF: 1, Racks: []int{1}})
	spec := filepath.Join(c.dir, "cluster.yaml")
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec, []byte(strings.Replace(string(b), "  datacenters:\n", "  cql: {authentication: Password}\n  datacenters:\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.apply(t, 15*time.Minute)
	if !strings.Contains(r.Stdout, "AlterKeyspace system_auth") {
		t.Errorf("ringops did not alter system_auth:\n%s", lastLines(r.Stdout, 30))
	}

	s, err := w.Region("eu-west").Client.CoreV1().Secrets("cassandra").Get(t.Context(), "auth-cql", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	user, password := string(s.Data["username"]), string(s.Data["password"])
	if user != "ringops" || len(password) < 32 {
		t.Errorf("secret auth-cql: user %q, a password of %d characters", user, len(password))
	}
	pods := c.pods(t, "dc1")
	if len(pods) != 1 || pods[0].Status.PodIP == "" {
		t.Fatalf("pods of dc1: %v", podNames(pods))
	}
	ip := pods[0].Status.PodIP
	if _, err := login(ip, "dc1", "", ""); err == nil || !strings.Contains(err.Error(), "authentication required") {
		t.Errorf("a client without credentials: %v", err)
	}
	if _, err := login(ip, "dc1", "cassandra", "cassandra"); err == nil || !strings.Contains(err.Error(), "Provided username cassandra and/or password are incorrect") {
		t.Errorf("the default superuser: %v", err)
	}
	own, err := login(ip, "dc1", user, password)
	if err != nil {
		t.Fatalf("ringops' role: %v", err)
	}
	defer own.Close()
	var superuser, canLogin bool
	if err := own.Query("SELECT is_superuser, can_login FROM system_auth.roles WHERE role = 'cassandra'").Scan(&superuser, &canLogin); err != nil {
		t.Fatal(err)
	}
	if superuser || canLogin {
		t.Errorf("the default superuser: is_superuser %v, can_login %v; want both false", superuser, canLogin)
	}
	var repl map[string]string
	if err := own.Query("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'system_auth'").Scan(&repl); err != nil {
		t.Fatal(err)
	}
	if repl["class"] != "org.apache.cassandra.locator.NetworkTopologyStrategy" || repl["dc1"] != "1" {
		t.Errorf("system_auth: %v", repl)
	}
}
