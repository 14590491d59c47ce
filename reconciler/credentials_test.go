package reconciler

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/schemas"
)

// fakeAPI serves Secrets and ConfigMaps by path, and counts the reads.
type fakeAPI struct {
	mu      sync.Mutex
	objects map[string]any // "/api/v1/namespaces/<ns>/secrets/<name>" -> object
	reads   int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	obj, ok := f.objects[r.URL.Path]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: metav1.StatusFailure, Reason: metav1.StatusReasonNotFound, Code: http.StatusNotFound, Message: "not found"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(obj)
}

func (f *fakeAPI) set(path string, obj any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[path] = obj
}

func newRouter(t *testing.T, api *fakeAPI, opts SecretRouterOptions) *SecretRouter {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	clients, err := kube.NewClientsFromConfigs(map[string]*rest.Config{"eu-west": {Host: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	return NewSecretRouter(clients, opts)
}

func secret(name string, data map[string]string) *corev1.Secret {
	s := &corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "cassandra"}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestSecretRouterCredentialsAreCached(t *testing.T) {
	api := &fakeAPI{objects: map[string]any{
		"/api/v1/namespaces/cassandra/secrets/cql-admin": secret("cql-admin", map[string]string{"username": "ringops", "password": "hunter2"}),
	}}
	var warnings []string
	r := newRouter(t, api, SecretRouterOptions{Refresh: time.Hour, Retry: time.Millisecond,
		Warn: func(err error) { warnings = append(warnings, err.Error()) }})
	for range 3 {
		c, err := r.Credentials(context.Background(), "eu-west", "cassandra", "cql-admin")
		if err != nil || c.Username != "ringops" || c.Password != "hunter2" {
			t.Fatalf("credentials %v %v", c, err)
		}
	}
	if api.reads != 1 {
		t.Errorf("%d reads of the Secret, want 1 (cached)", api.reads)
	}
	_, err := r.Credentials(context.Background(), "eu-west", "cassandra", "missing")
	if err == nil || !strings.HasPrefix(err.Error(), "context eu-west: secret cassandra/missing: ") {
		t.Errorf("a missing Secret: %v", err)
	}
	if len(warnings) != 1 {
		t.Errorf("warnings %v", warnings)
	}
	_, err = r.Credentials(context.Background(), "us-east", "cassandra", "cql-admin")
	if err == nil {
		t.Error("a context without client")
	}
	for _, w := range warnings {
		if strings.Contains(w, "hunter2") {
			t.Errorf("a warning shows the password: %s", w)
		}
	}
}

func TestCQLOptions(t *testing.T) {
	ca := testCAPEM(t)
	api := &fakeAPI{objects: map[string]any{
		"/api/v1/namespaces/cassandra/secrets/cql-admin": secret("cql-admin", map[string]string{"username": "ringops", "password": "hunter2"}),
		"/api/v1/namespaces/cassandra/configmaps/cassandra-ca": &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: "cassandra-ca", Namespace: "cassandra"}, Data: map[string]string{"ca.crt": ca}},
	}}
	r := newRouter(t, api, SecretRouterOptions{})
	c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra"}}
	c.Spec.CQL = &schemas.CQL{CredentialsSecret: "cql-admin",
		TLS: &schemas.CQLTLS{CAConfigMap: &schemas.KeyRef{Name: "cassandra-ca"}, ServerName: "nodes.orders.test"}}
	c.Default()
	opts, err := r.CQLOptions(context.Background(), c, "eu-west")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Port != 9042 || opts.Credentials == nil || opts.Credentials.Username != "ringops" || opts.TLS == nil || opts.TLS.ServerName != "nodes.orders.test" {
		t.Errorf("options %+v", opts)
	}
	c.Spec.CQL.TLS = &schemas.CQLTLS{CASecret: &schemas.KeyRef{Name: "cassandra-tls", Key: "ca.pem"}}
	if _, err := r.CQLOptions(context.Background(), c, "eu-west"); err == nil || !strings.HasPrefix(err.Error(), "context eu-west: secret cassandra/cassandra-tls: ") {
		t.Errorf("a missing CA Secret: %v", err)
	}
	api.set("/api/v1/namespaces/cassandra/secrets/cassandra-tls", secret("cassandra-tls", map[string]string{"ca.crt": ca}))
	if _, err := r.CQLOptions(context.Background(), c, "eu-west"); err == nil || !strings.HasSuffix(err.Error(), "no key ca.pem") {
		t.Errorf("a CA Secret without the key: %v", err)
	}
	c.Spec.CQL = nil
	if opts, err := r.CQLOptions(context.Background(), c, "eu-west"); err != nil || opts.Credentials != nil || opts.TLS != nil {
		t.Errorf("no spec.cql: %+v %v", opts, err)
	}
}

// testCAPEM is a self-signed CA certificate, PEM.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestSecretRouterHTTPS: with spec.jolokia.tls the agents are reached
// over HTTPS, trusting the CA read in the node's region; without the CA,
// never in plain HTTP.
func TestSecretRouterHTTPS(t *testing.T) {
	agent := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ringops" || p != "hunter2" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(agent.Close)
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: agent.Certificate().Raw}))
	api := &fakeAPI{objects: map[string]any{
		"/api/v1/namespaces/cassandra/secrets/jolokia-auth": secret("jolokia-auth", map[string]string{"username": "ringops", "password": "hunter2"}),
	}}
	r := newRouter(t, api, SecretRouterOptions{Retry: time.Nanosecond})
	c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra"}}
	c.Spec.Jolokia = &schemas.Jolokia{CredentialsSecret: "jolokia-auth", TLS: &schemas.JolokiaTLS{Secret: "jolokia-tls", CAConfigMap: &schemas.KeyRef{Name: "ops-ca"}}}
	c.Default()
	r.SetCluster(c)
	port, _ := strconv.Atoi(agent.URL[strings.LastIndex(agent.URL, ":")+1:])
	n := ring.Node{Cluster: "orders", Context: "eu-west", Namespace: "cassandra", Pod: "orders-dc1-r1-0", IP: "127.0.0.1", Port: int32(port)}
	if _, err := r.Route(context.Background(), n); err == nil || !strings.Contains(err.Error(), "configmap cassandra/ops-ca") {
		t.Fatalf("no CA: %v, want an error naming the ConfigMap", err)
	}
	api.set("/api/v1/namespaces/cassandra/configmaps/ops-ca", &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "ops-ca", Namespace: "cassandra"}, Data: map[string]string{"ca.crt": ca}})
	rt, err := r.Route(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rt.URL, "https://127.0.0.1:") || rt.Credentials == nil {
		t.Fatalf("route %s %v", rt.URL, rt.Credentials)
	}
	req, _ := http.NewRequest(http.MethodGet, rt.URL, nil)
	req.SetBasicAuth(rt.Credentials.Username, rt.Credentials.Password)
	resp, err := rt.HTTP.Do(req)
	if err != nil {
		t.Fatalf("the agent's certificate chains to the CA: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	api.set("/api/v1/namespaces/cassandra/configmaps/ops-ca", &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "ops-ca", Namespace: "cassandra"}, Data: map[string]string{"ca.crt": testCAPEM(t)}})
	r2 := newRouter(t, api, SecretRouterOptions{})
	r2.SetCluster(c)
	if rt, err = r2.Route(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.HTTP.Get(rt.URL); err == nil {
		t.Error("an agent whose certificate does not chain to the CA was trusted")
	}
}

// TestSecretRouterFallsBackToTheCredentialsBefore: a Secret changed by
// hand (the nodes keep the old password until they restart): the router
// sends the new credentials, and the ones it read before as fallback.
func TestSecretRouterFallsBackToTheCredentialsBefore(t *testing.T) {
	api := &fakeAPI{objects: map[string]any{
		"/api/v1/namespaces/cassandra/secrets/jolokia-auth": secret("jolokia-auth", map[string]string{"username": "ringops", "password": "old"}),
	}}
	r := newRouter(t, api, SecretRouterOptions{Refresh: time.Nanosecond})
	c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra"}}
	c.Spec.Jolokia = &schemas.Jolokia{CredentialsSecret: "jolokia-auth"}
	c.Default()
	r.SetCluster(c)
	n := ring.Node{Cluster: "orders", Context: "eu-west", Namespace: "cassandra", Pod: "orders-dc1-r1-0", IP: "10.0.0.1"}
	rt, _ := r.Route(context.Background(), n)
	if rt.Credentials == nil || rt.Credentials.Password != "old" || rt.Fallback != nil {
		t.Fatalf("before: %v %v", rt.Credentials, rt.Fallback)
	}
	api.set("/api/v1/namespaces/cassandra/secrets/jolokia-auth", secret("jolokia-auth", map[string]string{"username": "ringops", "password": "new"}))
	for range 2 {
		rt, _ = r.Route(context.Background(), n)
		if rt.Credentials == nil || rt.Credentials.Password != "new" || rt.Fallback == nil || rt.Fallback.Password != "old" {
			t.Fatalf("after: %v %v", rt.Credentials, rt.Fallback)
		}
	}
}
