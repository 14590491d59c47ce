package kube_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/kube"
)

// TestCounter classifies requests as the API server's verbs, through a
// configuration it instrumented.
func TestCounter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	counter := kube.NewCounter()
	var inner int
	var mu sync.Mutex
	cfg := &rest.Config{Host: srv.URL, WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			inner++
			mu.Unlock()
			return rt.RoundTrip(r)
		})
	}}
	client, err := rest.HTTPClientFor(counter.Instrument("eu-west", cfg))
	if err != nil {
		t.Fatal(err)
	}
	requests := []struct{ method, path string }{
		{"GET", "/api"},
		{"GET", "/apis/apps/v1"},
		{"GET", "/api/v1/namespaces"},
		{"GET", "/api/v1/namespaces/cassandra"},
		{"GET", "/api/v1/namespaces/cassandra/pods"},
		{"GET", "/api/v1/namespaces/cassandra/pods?labelSelector=a%3Db"},
		{"GET", "/api/v1/namespaces/cassandra/pods/orders-dc1-r1-0"},
		{"GET", "/apis/apps/v1/namespaces/cassandra/statefulsets/orders-dc1-r1/status"},
		{"GET", "/apis/apps/v1/statefulsets"},
		{"GET", "/api/v1/namespaces/cassandra/pods?watch=true"},
		{"GET", "/api/v1/watch/namespaces/cassandra/pods"},
		{"POST", "/api/v1/namespaces"},
		{"PUT", "/api/v1/namespaces/cassandra/configmaps/x"},
		{"PATCH", "/apis/apps/v1/namespaces/cassandra/statefulsets/x?fieldManager=ringops&force=true"},
		{"PATCH", "/apis/apps/v1/namespaces/cassandra/statefulsets/x?dryRun=All&fieldManager=ringops"},
		{"DELETE", "/api/v1/namespaces/cassandra/pods/x"},
		{"DELETE", "/api/v1/namespaces/cassandra/pods/x?dryRun=All"},
	}
	for _, r := range requests {
		req, _ := http.NewRequestWithContext(t.Context(), r.method, srv.URL+r.path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	want := kube.Counts{Get: 5, List: 4, Watch: 2, Post: 1, Put: 1, Patch: 1, Delete: 1, DryRun: 2}
	if got := counter.Counts("eu-west"); got != want {
		t.Errorf("counts\n got %s\nwant %s", got, want)
	}
	if got := counter.Total(); got.Reads() != 11 || got.Writes() != 4 || got.Total() != int64(len(requests)) {
		t.Errorf("total %s", got)
	}
	if inner != len(requests) {
		t.Errorf("the configuration's own wrapper saw %d requests, want %d", inner, len(requests))
	}
	if got := counter.Contexts(); len(got) != 1 || got[0] != "eu-west" {
		t.Errorf("contexts %v", got)
	}
	if got := counter.Counts("us-east"); got != (kube.Counts{}) {
		t.Errorf("a context never used: %s", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
