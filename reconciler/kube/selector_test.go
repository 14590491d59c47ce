package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ringops/ringops/render"
)

// TestObjectSelectorSkipsKeptSecrets: the Secret of the agents'
// credentials carries the cluster's labels but is never observed with the
// rendered objects, so never pruned as "no longer rendered".
func TestObjectSelectorSkipsKeptSecrets(t *testing.T) {
	rendered := labels.Set{render.LabelManagedBy: render.ManagedBy, render.LabelCluster: "orders"}
	kept := labels.Set{render.LabelManagedBy: render.ManagedBy, render.LabelCluster: "orders", render.LabelCredentials: render.CredentialsJolokia}
	s := ObjectSelector("orders")
	if !s.Matches(rendered) {
		t.Errorf("%s does not select a rendered object", s)
	}
	if s.Matches(kept) {
		t.Errorf("%s selects the Secret ringops keeps", s)
	}
	if s.Matches(labels.Set{render.LabelManagedBy: render.ManagedBy, render.LabelCluster: "users"}) {
		t.Errorf("%s selects another cluster's object", s)
	}
}
