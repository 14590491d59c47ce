package render

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestComponentGuardrails: what issue 21 showed a Component could do to
// switch the guardrails off, each refused with the Component's file named.
func TestComponentGuardrails(t *testing.T) {
	stsPatch := func(spec string) map[string]string {
		return map[string]string{
			"kustomization.yaml": componentHeader + "patches:\n- path: p.yaml\n  target: {kind: StatefulSet}\n",
			"p.yaml":             "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: any}\n" + spec,
		}
	}
	added := func(obj string) map[string]string {
		return map[string]string{"kustomization.yaml": componentHeader + "resources: [r.yaml]\n", "r.yaml": obj}
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"an owner that does not exist", map[string]string{
			"kustomization.yaml": componentHeader + "patches:\n- path: p.yaml\n  target: {kind: StatefulSet}\n",
			"p.yaml":             "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: any, ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: gone, uid: \"0000\"}]}\nspec: {persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete}}\n",
		},
			"StatefulSet cassandra/orders-dc1-r1: not allowed in a region Component: "},
		{"an owner alone", map[string]string{
			"kustomization.yaml": componentHeader + "patches:\n- path: p.yaml\n  target: {kind: StatefulSet}\n",
			"p.yaml":             "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: any, ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: gone, uid: \"0000\"}]}\n",
		}, "StatefulSet cassandra/orders-dc1-r1: not allowed in a region Component: metadata.ownerReferences"},
		{"volumes deleted with the StatefulSet", stsPatch("spec: {persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Delete}}\n"),
			"spec.persistentVolumeClaimRetentionPolicy changed"},
		{"selector labels", stsPatch("spec: {selector: {matchLabels: {team: db}}, template: {metadata: {labels: {team: db}}}}\n"),
			"spec.selector changed"},
		{"update strategy", stsPatch("spec: {updateStrategy: {type: OnDelete}}\n"),
			"spec.updateStrategy changed"},
		{"parallel pods", stsPatch("spec: {podManagementPolicy: Parallel}\n"),
			"spec.podManagementPolicy changed"},
		{"claim renamed", map[string]string{
			"kustomization.yaml": componentHeader + "patches:\n- target: {kind: StatefulSet}\n  patch: |\n    - {op: replace, path: /spec/volumeClaimTemplates/0/metadata/name, value: other}\n",
		}, "spec.volumeClaimTemplates[*].metadata.name changed"},
		{"cluster-admin", added("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: pwn}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: cassandra}]\n"),
			"ClusterRoleBinding pwn: not allowed in a region Component: kind ClusterRoleBinding.rbac.authorization.k8s.io"},
		{"a privileged DaemonSet in kube-system", added("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: pwn, namespace: kube-system}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}}}\n"),
			"DaemonSet kube-system/pwn: not allowed in a region Component: kind DaemonSet.apps"},
		{"another namespace", added("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: kube-system}\n"),
			`ConfigMap kube-system/x: not allowed in a region Component: namespace "kube-system"`},
		{"a PodDisruptionBudget relaxed", map[string]string{
			"kustomization.yaml": componentHeader + "patches:\n- target: {kind: PodDisruptionBudget}\n  patch: |\n    - {op: replace, path: /spec/maxUnavailable, value: 3}\n",
		}, "spec.maxUnavailable changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderEUWest(t, regionFS(tc.files), Options{})
			requireFileError(t, err, ErrForbidden, regionFile, "")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestComponentMayStillPatch: what regions do keeps working: storage
// class, affinity, resources, annotations; added objects of allowed kinds
// in the namespace (or naming none).
func TestComponentMayStillPatch(t *testing.T) {
	m, err := renderEUWest(t, regionFS(map[string]string{
		"kustomization.yaml": componentHeader + "resources: [np.yaml]\nconfigMapGenerator:\n- {name: extra, literals: [a=b]}\npatches:\n- path: p.yaml\n  target: {kind: StatefulSet}\n",
		"p.yaml":             "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: any, annotations: {team: db}}\nspec: {volumeClaimTemplates: [{metadata: {name: data}, spec: {storageClassName: regional}}], template: {spec: {tolerations: [{key: db, operator: Exists}]}}}\n",
		"np.yaml":            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: jolokia, namespace: cassandra}\nspec: {podSelector: {}}\n",
	}), Options{})
	require.NoError(t, err)
	var kinds []string
	for _, u := range m.Objects {
		kinds = append(kinds, u.GetKind()+" "+u.GetNamespace()+"/"+u.GetName())
	}
	assert.Contains(t, kinds, "NetworkPolicy cassandra/jolokia")
	assert.Subset(t, kinds, []string{"StatefulSet cassandra/orders-dc1-r1"})
}
