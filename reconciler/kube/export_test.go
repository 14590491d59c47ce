package kube

import "k8s.io/apimachinery/pkg/runtime/schema"

// PretendWrite makes the caches believe ringops wrote resource (core
// group) in namespace of kctx at resourceVersion rv: the observations
// must then not read that cache until it has seen rv.
func (m *Manager) PretendWrite(kctx, namespace, resource, rv string) {
	m.caches.wrote(cacheKey{context: kctx, namespace: namespace, gvr: schema.GroupVersionResource{Version: "v1", Resource: resource}}, rv, "", "", false)
}
