package realnodes

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
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

// checkAuthenticated (#21): a cluster of real 5.0 nodes rolled out with
// the default spec.cql.authentication (Password), r being its
// bootstrap's output, came up with PasswordAuthenticator (ringops'
// rendered cassandra.yaml); ringops keeps the Secret <cluster>-cql in
// every region, created its role ringops through the default superuser
// Cassandra creates at start (superuser_setup_delay_ms), disabled that
// one, and manages system_auth's replication logged in as ringops
// (wantAuth: its factor per datacenter). On every node a client without
// credentials is refused, and so is cassandra/cassandra.
func checkAuthenticated(t *testing.T, c *realCluster, r harness.Run, wantAuth map[string]int) {
	t.Helper()
	if !strings.Contains(r.Stdout, "AlterKeyspace system_auth") {
		t.Errorf("ringops did not alter system_auth:\n%s", lastLines(r.Stdout, 30))
	}
	user, password := "", ""
	for _, rg := range c.w.Regions() {
		s, err := rg.Client.CoreV1().Secrets("cassandra").Get(t.Context(), c.name+"-cql", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("region %s: %v", rg.Name, err)
		}
		u, p := string(s.Data["username"]), string(s.Data["password"])
		if u != "ringops" || len(p) < 32 {
			t.Errorf("region %s: secret %s-cql: user %q, a password of %d characters", rg.Name, c.name, u, len(p))
		}
		if user != "" && (u != user || p != password) {
			t.Errorf("region %s: secret %s-cql differs from another region's: one role, one password", rg.Name, c.name)
		}
		user, password = u, p
	}
	for dc := range wantAuth {
		for _, p := range c.pods(t, dc) {
			ip := p.Status.PodIP
			if _, err := login(ip, dc, "", ""); err == nil || !strings.Contains(err.Error(), "authentication required") {
				t.Errorf("%s: a client without credentials: %v", p.Name, err)
			}
			if _, err := login(ip, dc, "cassandra", "cassandra"); err == nil || !strings.Contains(err.Error(), "Provided username cassandra and/or password are incorrect") {
				t.Errorf("%s: the default superuser: %v", p.Name, err)
			}
		}
	}
	pods := c.pods(t, "dc1")
	if len(pods) == 0 {
		t.Fatal("no pod in dc1")
	}
	own, err := login(pods[0].Status.PodIP, "dc1", user, password)
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
	want := map[string]string{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy"}
	for dc, rf := range wantAuth {
		want[dc] = strconv.Itoa(rf)
	}
	if fmt.Sprint(repl) != fmt.Sprint(want) {
		t.Errorf("system_auth replicates %v, want %v", repl, want)
	}
}

// checkRotation (#21): edit gives spec.cql.rotate a new token; the
// apply that follows carries out no step and replaces no pod, every
// region's <cluster>-cql holds one new password (the one before kept as
// previous-password), and on the real 5.0 nodes the new password logs
// in and, once the nodes' credentials caches have expired
// (credentials_validity, 2 s), the old one is refused.
func checkRotation(t *testing.T, c *realCluster, edit func()) {
	t.Helper()
	secret := func(rg string) *corev1.Secret {
		s, err := c.w.Region(rg).Client.CoreV1().Secrets("cassandra").Get(t.Context(), c.name+"-cql", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("region %s: %v", rg, err)
		}
		return s
	}
	regions := c.w.Regions()
	old := string(secret(regions[0].Name).Data["password"])
	uids := func() map[string]string {
		out := map[string]string{}
		for _, r := range regions {
			l, err := r.Client.CoreV1().Pods("cassandra").List(t.Context(), metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + c.name})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range l.Items {
				out[p.Name] = string(p.UID)
			}
		}
		return out
	}
	before := uids()
	edit()
	r := c.apply(t, 10*time.Minute)
	if m := regexp.MustCompile(`requests total: .* writes=(\d+)`).FindStringSubmatch(r.Stdout); m == nil || m[1] != strconv.Itoa(len(regions)) {
		t.Errorf("a rotation writes the Secret %s-cql of each of the %d regions, nothing else:\n%s", c.name, len(regions), lastLines(r.Stdout, 30))
	}
	if after := uids(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("pods replaced by the rotation: %v -> %v", before, after)
	}
	next := string(secret(regions[0].Name).Data["password"])
	if next == old || len(next) < 32 {
		t.Fatalf("no new password (a password of %d characters)", len(next))
	}
	for _, rg := range regions {
		s := secret(rg.Name)
		if string(s.Data["password"]) != next || string(s.Data["previous-password"]) != old {
			t.Errorf("region %s: not the one new password with the old one kept", rg.Name)
		}
	}
	pods := c.pods(t, "dc1")
	if len(pods) == 0 {
		t.Fatal("no pod in dc1")
	}
	for _, p := range pods {
		s, err := login(p.Status.PodIP, "dc1", "ringops", next)
		if err != nil {
			t.Errorf("%s: the new password: %v", p.Name, err)
			continue
		}
		s.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range pods {
		for {
			s, err := login(p.Status.PodIP, "dc1", "ringops", old)
			if err != nil {
				if !strings.Contains(err.Error(), "password are incorrect") {
					t.Errorf("%s: the old password: %v", p.Name, err)
				}
				break
			}
			s.Close()
			if time.Now().After(deadline) {
				t.Errorf("%s: the old password still logs in 30 s after the rotation", p.Name)
				break
			}
			time.Sleep(time.Second) // a node's credentials cache (credentials_validity) expiring
		}
	}
}
