package contract

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

// keys are every label and annotation key of the contract.
var keys = []string{
	LabelName, LabelInstance, LabelManagedBy, LabelCluster, LabelDatacenter, LabelRack,
	LabelCredentials, LabelRevision,
	AnnotationSpecHash, AnnotationConfigHash, AnnotationLastApplied, AnnotationAdopt, AnnotationRotate,
	AnnotationStep, AnnotationStepAt, AnnotationDecommission, AnnotationChange, AnnotationAttempt,
	AnnotationDecommissioned, AnnotationRebuild, AnnotationRebuilt, AnnotationCleanup, AnnotationCleaned,
}

// TestKeys: every key is one the API server accepts, and no two keys are
// the same (a copied line would make two meanings share one annotation).
func TestKeys(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range keys {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			t.Errorf("%s: not a valid label or annotation key: %v", k, errs)
		}
		if seen[k] {
			t.Errorf("%s: two keys of the contract share it", k)
		}
		seen[k] = true
	}
	for _, v := range []string{ManagedBy, AppName, CredentialsJolokia} {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("%s: not a valid label value: %v", v, errs)
		}
	}
}

func TestReserved(t *testing.T) {
	for key, want := range map[string]bool{
		LabelName: true, LabelInstance: true, LabelManagedBy: true, LabelCluster: true,
		AnnotationSpecHash: true, "ringops.dev/anything": true,
		"app.kubernetes.io/version": false, "team": false, "example.com/ringops.dev": false,
		LabelRevision: false, // the StatefulSet controller's
	} {
		if got := Reserved(key); got != want {
			t.Errorf("Reserved(%q) = %v, want %v", key, got, want)
		}
	}
}
