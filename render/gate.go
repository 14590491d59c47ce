package render

import (
	corev1 "k8s.io/api/core/v1"
)

// The lost-volume gate (reconciler/plan, replace*.go). A pod whose node had
// joined the ring and whose data volume is new (the PVC was deleted, or the
// Kubernetes node died with its local volume) must not start Cassandra on
// its own: a non-seed would fail its bootstrap, a seed would join at once
// with new tokens and none of the data. ringops records in the ConfigMap
// <cluster>-nodes of each context, one key per StatefulSet, a line per
// ordinal whose node joined:
//
//	<ordinal> pvc=<uid> host=<host ID> address=<ip> joined=<time> [cleaned=<time>] [replace=<ip> | join=new]
//
// The init container "config" reads its StatefulSet's key (env
// RINGOPS_NODES, optional) and its pod's ordinal (POD_NAME) and, on a
// data volume that holds nothing yet:
//
//	no line for the ordinal         starts: a new node bootstraps
//	a line, no instruction          exits 1: ringops decides (Init:CrashLoopBackOff meanwhile)
//	replace=<ip>                    starts with -Dcassandra.replace_address_first_boot=<ip>
//	join=new                        starts: the dead node was removed, a new node bootstraps
//
// The replace option goes into the pod's jvm-server.options (jvm.options
// for 3.11), which bin/cassandra reads, so that the StatefulSet's template
// is the same for every pod; ringops clears the instruction once the node
// is NORMAL, and Cassandra ignores replace_address_first_boot on data that
// finished joining anyway (5.0.1 StorageService.isReplacing). On a volume
// that holds data the line is only read for a replace instruction (a
// replacement that crashed half way goes on replacing).

// NodesConfigMap is the name of the ConfigMap holding ringops' record of
// the nodes of a cluster in a context: written by the planner, never
// rendered, never pruned.
func NodesConfigMap(cluster string) string { return cluster + "-nodes" }

// Env of the init container "config" for the gate.
const (
	envPodName      = "POD_NAME"
	envRingopsNodes = "RINGOPS_NODES"
)

// gateScript is appended to configScript (bash).
const gateScript = `pod=${POD_NAME:-}
ord=${pod##*-}
line=$(printf '%s\n' "${RINGOPS_NODES:-}" | awk -v o="$ord" '$1 == o')
if [ -n "$line" ]; then
  fresh=
  [ -z "$(ls -A ` + dataPath + ` | grep -v '^lost+found$')" ] && fresh=yes
  case " $line " in
  *" replace="*)
    addr=${line##* replace=}
    addr=${addr%% *}
    opts=/config/jvm-server.options
    if [ -f /config/jvm.options ] && [ ! -f "$opts" ]; then opts=/config/jvm.options; fi
    echo "ringops: $pod replaces the dead node at $addr" >&2
    printf '%s\n' "-Dcassandra.replace_address_first_boot=$addr" >> "$opts" ;;
  *" join=new "*)
    echo "ringops: $pod joins as a new node" >&2 ;;
  *)
    if [ -n "$fresh" ]; then
      echo "ringops: $pod had a node in the ring ($line) and its data volume is new: it waits for ringops to replace that node" >&2
      exit 1
    fi ;;
  esac
fi
`

// gateEnv is the env of the init container "config" of StatefulSet sts.
func (b *base) gateEnv(sts string) []corev1.EnvVar {
	optional := true
	return []corev1.EnvVar{
		{Name: envPodName, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: envRingopsNodes, ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: NodesConfigMap(b.c.Metadata.Name)}, Key: sts, Optional: &optional}}},
	}
}
