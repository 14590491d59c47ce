package kube

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// trackWrites wraps a context's transport when the Manager watches: every
// write ringops makes (POST, PUT, PATCH, DELETE, not a dry-run) that the
// API server accepted tells the caches the resourceVersion it answered,
// so that no observation reads a cache that has not seen it yet (and, for
// a DELETE, the object it deleted). Only JSON answers are read: the
// Manager's clients ask for JSON.
type trackWrites struct {
	next    http.RoundTripper
	context string
	caches  *caches
}

func (t *trackWrites) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch req.Method { // reads (and the watches) pass at once
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return resp, err
	}
	if err != nil || resp.StatusCode >= 300 || req.URL.Query().Has("dryRun") {
		return resp, err
	}
	namespace, gvr, ok := resourceOfPath(req.URL.Path)
	if !ok {
		return resp, err
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, err
	}
	var answer struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name            string `json:"name"`
			UID             string `json:"uid"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		// A DELETE of most kinds answers a Status naming the object; the
		// status of other kinds is an object.
		Status  json.RawMessage `json:"status"`
		Details struct {
			Name string `json:"name"`
			UID  string `json:"uid"`
		} `json:"details"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return resp, err
	}
	key := cacheKey{context: t.context, namespace: namespace, gvr: gvr}
	deleted := req.Method == http.MethodDelete
	switch {
	case answer.Kind != "Status":
		t.caches.wrote(key, answer.Metadata.ResourceVersion, answer.Metadata.UID, answer.Metadata.Name, deleted)
	case deleted && string(answer.Status) == `"`+metav1.StatusSuccess+`"` && answer.Details.UID != "":
		t.caches.wrote(key, "", answer.Details.UID, answer.Details.Name, true)
	}
	return resp, err
}

// WrappedRoundTripper lets client-go reach the transport below (to cancel
// a request).
func (t *trackWrites) WrappedRoundTripper() http.RoundTripper { return t.next }

// resourceOfPath reads the namespace and resource of an object's path
// (/api/v1/namespaces/ns/pods/name, /apis/apps/v1/namespaces/ns/statefulsets/name/scale,
// /apis/rbac.authorization.k8s.io/v1/clusterroles/name). A subresource
// counts as its object's resource (a scale answers the StatefulSet's
// resourceVersion).
func resourceOfPath(path string) (namespace string, gvr schema.GroupVersionResource, ok bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		gvr.Version, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		gvr.Group, gvr.Version, parts = parts[1], parts[2], parts[3:]
	default:
		return "", gvr, false
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		namespace, parts = parts[1], parts[2:]
	}
	if len(parts) == 0 || parts[0] == "" {
		return "", gvr, false
	}
	gvr.Resource = parts[0]
	return namespace, gvr, true
}
