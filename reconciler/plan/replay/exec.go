package replay

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
)

// Execute carries out one step as the executor and the clusters would.
func (w *World) Execute(s plan.Step) error {
	rg := w.region(s.Context)
	switch s.Action {
	case plan.ApplyObjects:
		w.applyAll(rg, s.Objects)
	case plan.CreateStatefulSet, plan.UpdateStatefulSet, plan.ScaleStatefulSet, plan.RestartPod, plan.Decommission,
		plan.ResumeBootstrap, plan.UpgradeSSTables, plan.Cleanup, plan.Rebuild, plan.ReplaceNode, plan.RemoveNode:
		return w.execSTS(rg, s)
	case plan.AlterKeyspace:
		w.applyAll(rg, s.Objects)
		for _, k := range s.Keyspaces {
			w.keyspaces[k.Keyspace] = plan.Replication{Strategy: plan.NetworkTopology, Factors: maps.Clone(k.To)}
		}
	case plan.RecreateStatefulSet:
		cur := rg.sts[s.Target.Name]
		if cur == nil || cur.uid != s.Target.UID {
			return fmt.Errorf("statefulset %s: precondition failed", s.Target.Name)
		}
		delete(rg.sts, s.Target.Name) // orphan: pods and PVCs stay
		w.applyAll(rg, s.Objects)
	case plan.DeleteStatefulSet:
		delete(rg.sts, s.Target.Name)
	case plan.DeletePVC:
		delete(rg.pvcs, s.Target.Name)
	case plan.ExpandPVC:
		if c := rg.pvcs[s.Target.Name]; c != nil {
			rg.rv++
			c.size, c.rv = s.Size, rg.rv
		}
	case plan.Prune:
		delete(rg.objects, s.Target.Kind+"/"+s.Target.Name)
	default:
		return fmt.Errorf("%s: action not simulated", s.Action)
	}
	return nil
}

// execSTS: the StatefulSets and objects of the step applied, then what it
// asks of the nodes.
func (w *World) execSTS(rg *region, s plan.Step) error {
	if c := rg.pvcs[s.MarkPVC]; c != nil {
		c.annotations[contract.AnnotationDecommissioned] = w.Now.Format(time.RFC3339)
		rg.rv++
		c.rv = rg.rv
	}
	w.applyAll(rg, s.Objects)
	p := rg.pods[s.Pod]
	switch s.Action {
	case plan.RestartPod:
		if s.DeletePod != "" && p != nil {
			p.deleted = true
		}
	case plan.ReplaceNode:
		if p != nil {
			p.deleted = true
		}
	case plan.Decommission:
		if p == nil || p.mode != modeNormal {
			return fmt.Errorf("decommission %s: the node is not NORMAL", s.Pod)
		}
		p.mode = modeDecommissioned
		rg.pvcs[render.VolumeData+"-"+p.name].decommissioned = true
	case plan.Cleanup, plan.Rebuild: // Cassandra answers within the call
		if c := rg.pvcs[render.VolumeData+"-"+s.Pod]; c != nil && s.Action == plan.Cleanup {
			c.cleanupSeen = w.Now
		}
		w.applyAll(rg, s.OnSuccess)
	}
	return nil
}

// applyAll server-side applies objects: StatefulSets to the controller,
// the others to the API server.
func (w *World) applyAll(rg *region, objs []*unstructured.Unstructured) {
	for _, u := range objs {
		if u.GetKind() == "StatefulSet" {
			w.applySTS(rg, u)
			continue
		}
		live := u.DeepCopy()
		rg.rv++
		live.SetUID(types.UID("uid-" + live.GetName()))
		live.SetResourceVersion(strconv.FormatInt(rg.rv, 10))
		rg.objects[live.GetKind()+"/"+live.GetName()] = live
	}
}

func (w *World) applySTS(rg *region, u *unstructured.Unstructured) {
	obj := u.DeepCopy()
	obj.SetResourceVersion("")
	delete(obj.Object, "status")
	rg.rv++
	cur := rg.sts[obj.GetName()]
	if cur == nil {
		rg.sts[obj.GetName()] = &statefulSet{obj: obj, uid: w.nextUID(), rv: rg.rv, generation: 1, revisions: map[string]any{}}
		return
	}
	if hashOf(cur.obj.Object["spec"]) != hashOf(obj.Object["spec"]) {
		cur.generation++
	}
	cur.obj, cur.rv = obj, rg.rv
}
