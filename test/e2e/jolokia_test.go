package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/jolokia"
)

// agentsTLS is the Secret of the agents' certificate (spec.jolokia.tls),
// its CA in its key ca.crt (the default CA ringops trusts).
const agentsTLS = "jolokia-tls"

// agentsName is the DNS name the agents' certificate carries.
const agentsName = "agents.cassandra.svc"

// createAgentsTLS creates, in every region, the namespace and the Secret
// agentsTLS: one certificate from ca for every agent (nodes are reached by
// pod IP: ringops checks the chain, not the name), its EC key, ca.crt.
func createAgentsTLS(t *testing.T, w *env.World, ca *jolokia.TestCA) {
	t.Helper()
	cert, key, err := ca.Issue("cassandra agents", nil, []string{agentsName}, false)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, r := range w.Regions() {
		_, err := r.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: agentsTLS, Namespace: "cassandra"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": cert, "tls.key": key, "ca.crt": ca.CertPEM}}
		_, err = r.Client.CoreV1().Secrets("cassandra").Create(ctx, s, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			_, err = r.Client.CoreV1().Secrets("cassandra").Update(ctx, s, metav1.UpdateOptions{})
		}
		require.NoError(t, err)
	}
}

// setCA replaces the CA ringops trusts (ca.crt of agentsTLS) in region.
func setCA(t *testing.T, r *env.Region, pem []byte) {
	t.Helper()
	s, err := r.Client.CoreV1().Secrets("cassandra").Get(t.Context(), agentsTLS, metav1.GetOptions{})
	require.NoError(t, err)
	s.Data["ca.crt"] = pem
	_, err = r.Client.CoreV1().Secrets("cassandra").Update(t.Context(), s, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// tlsCluster is a copy of the example named name, with the agents on
// HTTPS (spec.jolokia.tls, the EC key of createAgentsTLS), the rotation
// token first and a quick settle.
func tlsCluster(t *testing.T, name string) *clusterDir {
	t.Helper()
	c := copyExample(t, name)
	c.Edit(t, "settle: 10s", "settle: 1s",
		"    port: 8778                        # default 8778\n",
		"    port: 8778                        # default 8778\n    rotate: first\n    tls: {secret: "+agentsTLS+", keyAlgorithm: EC}\n")
	return c
}

// TestJolokiaTLS rolls out the cluster "secure" with spec.jolokia.tls:
// every simulated agent serves HTTPS with the certificate of the Secret
// (and, for the readiness probe, plain HTTP on the pod's loopback only,
// one port above), ringops reads the ring over HTTPS trusting the CA of
// the Secret and gates the rollout on it; a plain-HTTP read of the agent
// port gets no answer; with another CA in one region, `ringops status`
// fails and names the cause (the certificate's unknown authority) there.
func TestJolokiaTLS(t *testing.T) {
	w := sharedWorld(t)
	ca, err := jolokia.NewTestCA("agents CA")
	require.NoError(t, err)
	createAgentsTLS(t, w, ca)
	c := tlsCluster(t, "secure")
	r := harness.Ringops(t, limit, c.applyArgs(w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "%s", r)
	assertHealthy(t, w, c.Dir, "secure", 7)

	pods := clusterPods(t, w, "secure")
	require.Len(t, pods, 7)
	for _, p := range pods {
		creds := agentCredentials(t, w.Region(p.region), "secure", false)
		assert.Equal(t, http.StatusOK, mustRead(t, ca.CertPEM, p.ip, creds), "%s over HTTPS, the CA trusted", p)
		code, err := plainRead(t, net.JoinHostPort(p.ip, "8778"), creds)
		assert.Error(t, err, "%s: plain HTTP on the agent port answered %d", p, code)
		code, err = plainRead(t, net.JoinHostPort(p.ip, "8779"), creds)
		assert.True(t, err == nil && code == http.StatusOK, "%s: the probe's plain-HTTP listener (the pod's loopback): %d %v", p, code, err)
	}

	other, err := jolokia.NewTestCA("another CA")
	require.NoError(t, err)
	setCA(t, w.Region("us-east"), other.CertPEM)
	r = harness.Ringops(t, time.Minute, "status", c.Dir, "--kubeconfig", w.Kubeconfig)
	assert.NotEqual(t, 0, r.Code, "a ring read through an untrusted certificate: %s", r)
	out := r.Stdout + r.Stderr
	assert.Contains(t, out, "certificate signed by unknown authority", "the cause is named: %s", r)
	for _, p := range pods {
		if p.region == "us-east" {
			assert.Contains(t, out, p.ip, "the node %s is named", p)
		}
	}
	setCA(t, w.Region("us-east"), ca.CertPEM)
	r = harness.Ringops(t, time.Minute, "status", c.Dir, "--kubeconfig", w.Kubeconfig)
	assert.Equal(t, 0, r.Code, "the right CA again: %s", r)
}

// TestJolokiaRotation changes spec.jolokia.rotate of the cluster
// "rotated" (agents on HTTPS): `ringops apply` rotates the Secret
// rotated-jolokia it keeps in each region, then restarts the pods one at
// a time, each gated on a healthy ring, which it reads throughout: a pod
// not restarted yet answers the previous password only, a restarted one
// the new one only (checked, with `ringops status`, mid-roll). At the end
// every agent refuses the previous password (401) and takes the new one.
//
// Without the fallback to the previous password (reconciler/ring/jolokia
// Client.send), ringops cannot read any node once the Secret is rotated:
// the first restart never passes its gate and the apply times out.
func TestJolokiaRotation(t *testing.T) {
	w := sharedWorld(t)
	ca, err := jolokia.NewTestCA("agents CA")
	require.NoError(t, err)
	createAgentsTLS(t, w, ca)
	c := tlsCluster(t, "rotated")
	c.Edit(t, "healthTimeout: 30m", "healthTimeout: 1m")
	r := harness.Ringops(t, limit, c.applyArgs(w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "%s", r)
	assertHealthy(t, w, c.Dir, "rotated", 7)
	before := map[string]creds{}
	for _, rg := range w.Regions() {
		before[rg.Name] = agentCredentials(t, rg, "rotated", false)
	}
	pods := clusterPods(t, w, "rotated")
	require.Len(t, pods, 7)
	for _, p := range pods {
		require.Equal(t, http.StatusOK, mustRead(t, ca.CertPEM, p.ip, before[p.region]), "%s before the rotation", p)
	}

	m := watchCluster(t, w, "rotated")
	// A settle long enough to look at the ring between two restarts.
	c.Edit(t, "rotate: first", "rotate: second", "settle: 1s", "settle: 8s")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	applied := make(chan harness.Run, 1)
	go func() { applied <- harness.RunBinary(ctx, limit, c.applyArgs(w.Kubeconfig, "--wait")...) }()

	// Mid-roll: some pods restarted, others not yet.
	mid := false
	harness.WaitFor(t, limit, "a pod restarted while others wait", func() error {
		select {
		case r := <-applied:
			applied <- r
			return harness.Stop(fmt.Errorf("the apply ended before a mid-roll was seen: %s", r))
		default:
		}
		now := clusterPods(t, w, "rotated")
		var restarted, waiting []pod
		for _, p := range now {
			if !p.ready {
				return fmt.Errorf("%s not ready", p)
			}
			if slices.ContainsFunc(pods, func(o pod) bool { return o.name == p.name && o.uid == p.uid }) {
				waiting = append(waiting, p)
			} else {
				restarted = append(restarted, p)
			}
		}
		if len(restarted) == 0 || len(waiting) == 0 || len(now) != 7 {
			return fmt.Errorf("%d restarted, %d waiting", len(restarted), len(waiting))
		}
		// Every read first; a pod that went down meanwhile (its restart
		// began) makes the whole look again.
		type check struct {
			p    pod
			c    creds
			want int
			what string
		}
		var checks []check
		for _, p := range restarted {
			after := agentCredentials(t, w.Region(p.region), "rotated", false)
			checks = append(checks, check{p, after, http.StatusOK, "restarted: the new password"},
				check{p, before[p.region], http.StatusUnauthorized, "restarted: the previous password"})
		}
		for _, p := range waiting {
			if s := agentCredentials(t, w.Region(p.region), "rotated", false); s != before[p.region] {
				checks = append(checks, check{p, s, http.StatusUnauthorized, "not restarted: the new password"})
			}
			checks = append(checks, check{p, before[p.region], http.StatusOK, "not restarted: the previous password"})
		}
		got := make([]int, len(checks))
		for i, ch := range checks {
			code, err := agentRead(t, ca.CertPEM, ch.p.ip, ch.c)
			if err != nil {
				return fmt.Errorf("%s: %w", ch.p, err)
			}
			got[i] = code
		}
		st := harness.RunBinary(t.Context(), time.Minute, "status", c.Dir, "--kubeconfig", w.Kubeconfig)
		mid = true
		t.Logf("mid-roll: restarted %v, waiting %v", restarted, waiting)
		for i, ch := range checks {
			assert.Equal(t, ch.want, got[i], "%s %s", ch.p, ch.what)
		}
		assert.Equal(t, 0, st.Code, "ringops reads every node mid-roll: %s", st)
		return nil
	})
	require.True(t, mid)

	var ra harness.Run
	select {
	case ra = <-applied:
	case <-time.After(limit + time.Minute):
		t.Fatal("the apply did not end")
	}
	t.Logf("%s", ra)
	require.Equal(t, 0, ra.Code, "the rotation rolled out: %s", ra)
	assert.Len(t, restarted(ra.Stdout), 7, "every node restarts once, by a gated RestartPod step:\n%s", ra)
	staged := harness.Lines(ra.Stdout, "UpdateStatefulSet")
	assert.NotEmpty(t, staged, "the new template staged:\n%s", ra)
	for _, l := range staged {
		assert.Contains(t, l, "Jolokia credentials rotated", "the reason the pods roll is named")
	}
	assertRecreatedOnce(t, m, 7)
	assertCalm(t, m)
	assertHealthy(t, w, c.Dir, "rotated", 7)
	for _, p := range clusterPods(t, w, "rotated") {
		after := agentCredentials(t, w.Region(p.region), "rotated", false)
		require.NotEqual(t, before[p.region], after, "region %s: the Secret was rotated", p.region)
		assert.Equal(t, before[p.region], agentCredentials(t, w.Region(p.region), "rotated", true), "region %s: the previous credentials kept", p.region)
		assert.Equal(t, http.StatusUnauthorized, mustRead(t, ca.CertPEM, p.ip, before[p.region]), "%s: the previous password after the rotation", p)
		assert.Equal(t, http.StatusOK, mustRead(t, ca.CertPEM, p.ip, after), "%s: the new password", p)
	}
}

// pod is one Cassandra pod of a cluster.
type pod struct {
	region, name, uid, ip string
	ready                 bool
}

func (p pod) String() string { return p.region + "/" + p.name }

// clusterPods lists the cluster's pods in every region, by name.
func clusterPods(t *testing.T, w *env.World, cluster string) []pod {
	t.Helper()
	var out []pod
	for _, r := range w.Regions() {
		list, err := r.Client.CoreV1().Pods("cassandra").List(t.Context(), metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + cluster})
		require.NoError(t, err)
		for _, p := range list.Items {
			ready := false
			for _, c := range p.Status.Conditions {
				ready = ready || (c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue)
			}
			out = append(out, pod{region: r.Name, name: p.Name, uid: string(p.UID), ip: p.Status.PodIP, ready: ready && p.DeletionTimestamp == nil})
		}
	}
	slices.SortFunc(out, func(a, b pod) int { return strings.Compare(a.name, b.name) })
	return out
}

type creds struct{ user, password string }

// agentCredentials are the credentials of the Secret <cluster>-jolokia
// ringops keeps in region r: the current ones, or the previous ones of a
// rotation.
func agentCredentials(t *testing.T, r *env.Region, cluster string, previous bool) creds {
	t.Helper()
	s, err := r.Client.CoreV1().Secrets("cassandra").Get(t.Context(), cluster+"-jolokia", metav1.GetOptions{})
	require.NoError(t, err)
	if previous {
		return creds{string(s.Data["previous-username"]), string(s.Data["previous-password"])}
	}
	return creds{string(s.Data["username"]), string(s.Data["password"])}
}

const readBody = `{"type":"read","mbean":"org.apache.cassandra.db:type=StorageService","attribute":"OperationMode"}`

// agentRead posts a read to the agent at ip:8778 over HTTPS trusting ca,
// and returns the HTTP status.
func agentRead(t *testing.T, ca []byte, ip string, c creds) (int, error) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca))
	tr := &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: agentsName}}
	return postRead(t, tr, "https://"+net.JoinHostPort(ip, "8778")+"/jolokia/", c)
}

// postRead posts the read to url with c's basic auth, and returns the
// HTTP status.
func postRead(t *testing.T, tr *http.Transport, url string, c creds) (int, error) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(readBody))
	require.NoError(t, err)
	req.SetBasicAuth(c.user, c.password)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// mustRead is agentRead, failing the test when the agent does not answer.
func mustRead(t *testing.T, ca []byte, ip string, c creds) int {
	t.Helper()
	code, err := agentRead(t, ca, ip, c)
	require.NoError(t, err, "https://%s:8778", ip)
	return code
}

// plainRead posts the read over plain HTTP to hostPort.
func plainRead(t *testing.T, hostPort string, c creds) (int, error) {
	t.Helper()
	return postRead(t, &http.Transport{Proxy: nil}, "http://"+hostPort+"/jolokia/", c)
}
