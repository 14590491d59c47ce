package reconciler

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
)

func configMap(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "cassandra"}}}
}

// TestReplaceNodeWritesTheRecordThenRestartsThePod: the StatefulSet and
// the record carrying replace=<address> are applied together, in order,
// then the held pod is deleted (UID precondition) so that it starts at
// once with replace_address_first_boot; no Jolokia operation is sent.
func TestReplaceNodeWritesTheRecordThenRestartsThePod(t *testing.T) {
	f := newFixture(t, Options{})
	f.observeRack(t, 2)
	step := plan.Step{Action: plan.ReplaceNode, Context: "eu-west", Pod: "orders-dc1-r1-1", DeletePod: "pod-uid-1",
		Target:  plan.ObjectRef{Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1"},
		Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7"), configMap("orders-nodes")}}
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Observe eu-west,us-east,ap-south", "Observe eu-west,us-east,ap-south",
		"Apply eu-west orders-dc1-r1,orders-nodes", "DeletePod eu-west cassandra/orders-dc1-r1-1 uid=pod-uid-1"}, f.kube.Calls())
	assert.Empty(t, f.ring.Ops())
}

// TestRemoveNodeRecordsFirstAndNamesOnlyItsHostID: the record of the
// removal is applied before removenode is sent, through the step's live
// node, for the step's host ID alone; a step without a host ID is refused
// before anything is written.
func TestRemoveNodeRecordsFirstAndNamesOnlyItsHostID(t *testing.T) {
	f := newFixture(t, Options{})
	f.observeRack(t, 2)
	step := plan.Step{Action: plan.RemoveNode, Context: "eu-west", Pod: "orders-dc1-r1-1", Via: "orders-dc1-r1-0",
		HostID: "5d1e2f3a-9b8c-4d7e-a6f5-0123456789ab", Target: plan.ObjectRef{Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1"},
		Objects: []*unstructured.Unstructured{configMap("orders-nodes"), sts("orders-dc1-r1", "7")}}
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.NoError(t, err)
	assert.Equal(t, "Apply eu-west orders-nodes,orders-dc1-r1", f.kube.Calls()[2])
	assert.Equal(t, []string{"RemoveNode 5d1e2f3a-9b8c-4d7e-a6f5-0123456789ab via orders-dc1-r1-0@10.0.1.1"}, f.ring.Ops())

	calls := len(f.kube.Calls())
	step.HostID = ""
	_, err = f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.ErrorIs(t, err, ErrBadStep)
	assert.Len(t, f.kube.Calls(), calls, "nothing written")
	assert.Len(t, f.ring.Ops(), 1, "nothing sent")
}

// TestCleanupIsBoundedAndRemembered: a cleanup goes to its node with the
// step's jobs; one that answers done in time is remembered as seen, so
// that the next observation lets the planner record it done.
func TestCleanupIsBoundedAndRemembered(t *testing.T) {
	f := newFixture(t, Options{})
	tg := f.observeRack(t, 2)
	f.ring.cleanupDone = true
	step := plan.Step{Action: plan.Cleanup, Context: "eu-west", Pod: "orders-dc1-r1-0", Jobs: 2,
		Target:  plan.ObjectRef{Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1"},
		Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}}
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Cleanup orders-dc1-r1-0@10.0.1.1 jobs 2"}, f.ring.Ops())
	o, err := f.engine.Observe(t.Context(), tg)
	require.NoError(t, err)
	n := o.Ring.Nodes["orders-dc1-r1-0"]
	assert.False(t, n.CleanupRunning)
	assert.Equal(t, f.clock.Now(), n.CleanupSeen, "the cleanup that answered done is seen")
}

// TestDowntimeNamesHowLongADeadNodeIsDown: a node the ring has down gets
// DownSince from a live node's Gossiper; nothing is read while none is
// down.
func TestDowntimeNamesHowLongADeadNodeIsDown(t *testing.T) {
	f := newFixture(t, Options{})
	e := f.engine
	rg := &plan.Ring{Nodes: map[string]plan.RingNode{"orders-dc1-r1-0": {State: ring.UN, Address: "10.0.1.1"}},
		Others: []plan.RingEndpoint{{Address: "10.0.9.9", HostID: "old", State: ring.DN}}}
	snap := &ring.Snapshot{Entries: []ring.Entry{{Node: ring.Node{Pod: "orders-dc1-r1-0", IP: "10.0.1.1"}, View: &ring.View{Mode: ring.ModeNormal}}}}
	f.ring.downtime = map[string]time.Duration{"10.0.9.9": 12 * time.Minute}
	e.readDowntime(t.Context(), snap, rg)
	assert.Equal(t, f.clock.Now().Add(-12*time.Minute), rg.Others[0].DownSince)
	assert.Equal(t, []string{"Downtime 10.0.9.9 via orders-dc1-r1-0"}, f.ring.Ops())

	rg.Others = nil
	e.readDowntime(t.Context(), snap, rg)
	assert.Len(t, f.ring.Ops(), 1, "nothing down, nothing read")
}

// TestCleanupOfKeyspacesAppliesItsRecord: the same Cleanup action scoped
// to keyspaces (#15, a lower factor) goes to its node with the step's jobs
// and keyspaces; answered done in time, its OnSuccess record is applied
// after the stamped StatefulSet, and the cleanup is remembered as seen;
// not answered, nothing more is written.
func TestCleanupOfKeyspacesAppliesItsRecord(t *testing.T) {
	f := newFixture(t, Options{})
	f.observeRack(t, 2)
	step := plan.Step{Action: plan.Cleanup, Context: "eu-west", Pod: "orders-dc1-r1-1", Jobs: 1,
		Keyspaces: []plan.KeyspaceChange{{Keyspace: "orders"}, {Keyspace: "system_auth"}},
		Target:    plan.ObjectRef{Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1"},
		Objects:   []*unstructured.Unstructured{sts("orders-dc1-r1", "7")},
		OnSuccess: []*unstructured.Unstructured{sts("orders-dc1-r1", "")}}
	calls := len(f.kube.Calls())
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Cleanup orders-dc1-r1-1@10.0.1.2 jobs 1 [orders system_auth]"}, f.ring.Ops())
	assert.Len(t, f.kube.Calls(), calls+1, "not answered: only the stamped StatefulSet")

	f.ring.cleanupDone = true
	calls = len(f.kube.Calls())
	_, err = f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{step}})
	require.NoError(t, err)
	assert.Len(t, f.kube.Calls(), calls+2, "answered done: the stamped StatefulSet, then the record")
	st := f.engine.state("orders")
	assert.Equal(t, f.clock.Now(), st.progress["orders-dc1-r1-1"].cleanupSeen)
}
