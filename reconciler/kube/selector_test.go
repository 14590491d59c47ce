package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ringops/ringops/internal/contract"
)

// TestObjectSelectorSkipsKeptSecrets: the Secret of the agents'
// credentials carries the cluster's labels but is never observed with the
// rendered objects, so never pruned as "no longer rendered".
func TestObjectSelectorSkipsKeptSecrets(t *testing.T) {
	rendered := labels.Set{contract.LabelManagedBy: contract.ManagedBy, contract.LabelCluster: "orders"}
	kept := labels.Set{contract.LabelManagedBy: contract.ManagedBy, contract.LabelCluster: "orders", contract.LabelCredentials: contract.CredentialsJolokia}
	s := ObjectSelector("orders")
	if !s.Matches(rendered) {
		t.Errorf("%s does not select a rendered object", s)
	}
	if s.Matches(kept) {
		t.Errorf("%s selects the Secret ringops keeps", s)
	}
	if s.Matches(labels.Set{contract.LabelManagedBy: contract.ManagedBy, contract.LabelCluster: "users"}) {
		t.Errorf("%s selects another cluster's object", s)
	}
}
