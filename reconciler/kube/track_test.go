package kube

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

type answer struct {
	status int
	body   string
}

func (a answer) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(a.body)), Request: req}, nil
}

// TestTrackWrites: the answers of writes are recorded, whatever their
// kind's status looks like (an object, or a DELETE's Status).
func TestTrackWrites(t *testing.T) {
	sts := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	for _, tc := range []struct {
		method, path, body string
		key                cacheKey
		pending, deleted   string
	}{
		{"PATCH", "/apis/apps/v1/namespaces/ns/statefulsets/a",
			`{"kind":"StatefulSet","metadata":{"name":"a","uid":"u1","resourceVersion":"42"},"status":{"replicas":0}}`,
			cacheKey{context: "c", namespace: "ns", gvr: sts}, "ns/a", ""},
		{"POST", "/api/v1/namespaces/ns/configmaps",
			`{"kind":"ConfigMap","metadata":{"name":"b","uid":"u2","resourceVersion":"43"}}`,
			cacheKey{context: "c", namespace: "ns", gvr: cms}, "ns/b", ""},
		{"DELETE", "/api/v1/namespaces/ns/configmaps/b",
			`{"kind":"Status","status":"Success","details":{"name":"b","kind":"configmaps","uid":"u2"}}`,
			cacheKey{context: "c", namespace: "ns", gvr: cms}, "", "u2"},
	} {
		c := newCaches(nil, time.Second)
		tr := &trackWrites{next: answer{200, tc.body}, context: "c", caches: c}
		req, _ := http.NewRequest(tc.method, "https://x"+tc.path, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != tc.body {
			t.Errorf("%s %s: the body passed on is %q", tc.method, tc.path, b)
		}
		for _, k := range []cacheKey{tc.key, {context: tc.key.context, gvr: tc.key.gvr}} {
			w := c.written[k]
			switch {
			case w == nil:
				t.Errorf("%s %s: nothing recorded for %s", tc.method, tc.path, k)
			case tc.pending != "" && w.objs[tc.pending].rv == 0:
				t.Errorf("%s %s: %s not pending in %s: %v", tc.method, tc.path, tc.pending, k, w.objs)
			case tc.deleted != "" && w.deleted[tc.deleted] == "":
				t.Errorf("%s %s: uid %s not recorded deleted in %s", tc.method, tc.path, tc.deleted, k)
			}
		}
	}
}
