package kube

import "k8s.io/apimachinery/pkg/runtime/schema"

// PretendWrite makes the caches believe ringops wrote the object name of
// resource (core group) in namespace of kctx, answered at resourceVersion
// rv: the observations must then not read that cache until it holds the
// object at rv.
func (m *Manager) PretendWrite(kctx, namespace, resource, name, rv string) {
	m.caches.wrote(cacheKey{context: kctx, namespace: namespace, gvr: schema.GroupVersionResource{Version: "v1", Resource: resource}}, rv, "", name, false)
}
