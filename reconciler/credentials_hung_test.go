package reconciler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/schemas"
)

// hungAPI never answers: it tells when a request arrived and holds it
// until the request's context ends (the client gave up) or the test does.
type hungAPI struct {
	arrived chan struct{}
	stop    chan struct{}
}

func (h *hungAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case h.arrived <- struct{}{}:
	default:
	}
	select {
	case <-r.Context().Done():
	case <-h.stop:
	}
}

// TestSecretRouterHungRegionBlocksNoOther: the API server of one region
// hangs on the read of a cluster's Secret. Routing to another cluster's
// node in another region goes on meanwhile (no lock is held across the
// read), and the hung routing ends when its caller's context does.
func TestSecretRouterHungRegionBlocksNoOther(t *testing.T) {
	hung := &hungAPI{arrived: make(chan struct{}, 1), stop: make(chan struct{})}
	slow := httptest.NewServer(hung)
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(hung.stop) })
	api := &fakeAPI{objects: map[string]any{
		"/api/v1/namespaces/cassandra/secrets/fast-jolokia": secret("fast-jolokia", map[string]string{"username": "u", "password": "p"}),
	}}
	fast := httptest.NewServer(api)
	t.Cleanup(fast.Close)
	clients, err := kube.NewClientsFromConfigs(map[string]*rest.Config{"eu-west": {Host: slow.URL}, "us-east": {Host: fast.URL}})
	if err != nil {
		t.Fatal(err)
	}
	r := NewSecretRouter(clients, SecretRouterOptions{Timeout: time.Hour}) // only the caller's context ends the hung read
	for _, name := range []string{"slow", "fast"} {
		c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: name, Namespace: "cassandra"},
			Spec: schemas.ClusterSpec{Jolokia: &schemas.Jolokia{CredentialsSecret: name + "-jolokia"}}}
		r.SetCluster(c)
	}
	slowNode := ring.Node{Cluster: "slow", Context: "eu-west", Namespace: "cassandra", Pod: "slow-dc1-r1-0", IP: "10.0.0.1"}
	fastNode := ring.Node{Cluster: "fast", Context: "us-east", Namespace: "cassandra", Pod: "fast-dc1-r1-0", IP: "10.0.1.1"}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slowDone := make(chan error, 1)
	go func() {
		_, err := r.Route(ctx, slowNode)
		slowDone <- err
	}()
	select {
	case <-hung.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the Secret of cluster slow was never read")
	}

	fastDone := make(chan error, 1)
	go func() {
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer fcancel()
		rt, err := r.Route(fctx, fastNode)
		if err == nil && (rt.Credentials == nil || rt.Credentials.Username != "u") {
			t.Errorf("cluster fast routed without its credentials: %+v", rt)
		}
		fastDone <- err
	}()
	select {
	case err := <-fastDone:
		if err != nil {
			t.Errorf("cluster fast: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("routing to cluster fast (us-east) waits for the hung read of cluster slow's Secret in eu-west")
	}

	cancel()
	select {
	case err := <-slowDone:
		if err == nil {
			t.Error("the hung routing ended without an error when its context was cancelled")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the hung routing did not end when its context was cancelled")
	}
}
