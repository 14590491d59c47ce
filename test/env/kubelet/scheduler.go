package kubelet

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// defaultScheduler is the schedulerName the simulated scheduler serves.
const defaultScheduler = corev1.DefaultSchedulerName

// placed is a pod that occupies a node.
type placed struct {
	pod  *corev1.Pod
	node string
}

// schedule binds a pending pod to a node, or marks it Unschedulable.
func (k *Kubelet) schedule(pod *corev1.Pod) error {
	if pod.Spec.SchedulerName != "" && pod.Spec.SchedulerName != defaultScheduler {
		return nil
	}
	key := pod.Namespace + "/" + pod.Name
	if k.assumedNode(pod) != "" {
		return nil // bound, the cache has not caught up yet
	}
	if k.fault(key) == Unschedulable {
		return k.markUnschedulable(pod, fmt.Sprintf("0/%d nodes are available: pod %s has the Unschedulable fault.", k.opts.Nodes, key))
	}
	if msg := k.unboundClaims(pod); msg != "" {
		if err := k.markUnschedulable(pod, msg); err != nil {
			return err
		}
		return errRetry
	}
	node, msg, err := k.pickNode(pod)
	if err != nil {
		return err
	}
	if node == "" {
		if err := k.markUnschedulable(pod, msg); err != nil {
			return err
		}
		return errRetry
	}
	return k.bind(pod, node)
}

func (k *Kubelet) bind(pod *corev1.Pod, node string) error {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := k.client.CoreV1().Pods(pod.Namespace).Bind(k.ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("pod %s/%s: bind to %s: %w", pod.Namespace, pod.Name, node, err)
	}
	k.mu.Lock()
	k.assumed[pod.UID] = node
	k.mu.Unlock()
	k.opts.Logf("kubelet %s: pod %s/%s bound to %s", k.opts.Region, pod.Namespace, pod.Name, node)
	return nil
}

func (k *Kubelet) assumedNode(pod *corev1.Pod) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.assumed[pod.UID]
}

// unboundClaims returns why the pod must wait for its claims, or "".
func (k *Kubelet) unboundClaims(pod *corev1.Pod) string {
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim == nil {
			continue
		}
		pvc, err := k.claims.PersistentVolumeClaims(pod.Namespace).Get(v.PersistentVolumeClaim.ClaimName)
		if err != nil {
			return fmt.Sprintf("persistentvolumeclaim %q not found", v.PersistentVolumeClaim.ClaimName)
		}
		if pvc.Status.Phase != corev1.ClaimBound {
			return "pod has unbound immediate PersistentVolumeClaims. preemption: 0/" +
				fmt.Sprint(k.opts.Nodes) + " nodes are available"
		}
	}
	return ""
}

// markUnschedulable sets PodScheduled=False/Unschedulable with msg.
func (k *Kubelet) markUnschedulable(pod *corev1.Pod, msg string) error {
	cond := corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: msg,
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == cond.Type && c.Status == cond.Status && c.Reason == cond.Reason && c.Message == msg {
			return nil
		}
	}
	return k.updatePodStatus(k.ctx, pod.Namespace, pod.Name, pod.UID, func(st *corev1.PodStatus) {
		st.Phase = corev1.PodPending
		setCondition(&st.Conditions, cond)
	})
}

// pickNode returns the least loaded node the pod fits on, or "" and the
// reasons why none fits, in the scheduler's words.
func (k *Kubelet) pickNode(pod *corev1.Pod) (string, string, error) {
	nodes, err := k.myNodes()
	if err != nil {
		return "", "", err
	}
	others, err := k.placedPods(pod)
	if err != nil {
		return "", "", err
	}
	load := map[string]int{}
	for _, p := range others {
		load[p.node]++
	}
	byName := map[string]*corev1.Node{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	reasons := map[string]int{}
	best := ""
	for _, n := range nodes {
		if why := fits(pod, n, others, byName); why != "" {
			reasons[why]++
			continue
		}
		if best == "" || load[n.Name] < load[best] {
			best = n.Name
		}
	}
	if best != "" {
		return best, "", nil
	}
	return "", unschedulableMessage(len(nodes), reasons), nil
}

func unschedulableMessage(total int, reasons map[string]int) string {
	var parts []string
	for why, n := range reasons {
		parts = append(parts, fmt.Sprintf("%d %s", n, why))
	}
	sort.Strings(parts)
	return fmt.Sprintf("0/%d nodes are available: %s.", total, strings.Join(parts, ", "))
}

// myNodes returns this region's nodes, sorted by name.
func (k *Kubelet) myNodes() ([]*corev1.Node, error) {
	all, err := k.nodes.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*corev1.Node
	for _, n := range all {
		if k.nodeNames[n.Name] && n.DeletionTimestamp == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// placedPods returns the pods that occupy a node (bound or assumed, not
// finished), other than pod.
func (k *Kubelet) placedPods(pod *corev1.Pod) ([]placed, error) {
	all, err := k.pods.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []placed
	for _, p := range all {
		if p.UID == pod.UID || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		node := p.Spec.NodeName
		if node == "" {
			node = k.assumed[p.UID]
		} else {
			delete(k.assumed, p.UID)
		}
		if node != "" {
			out = append(out, placed{pod: p, node: node})
		}
	}
	return out, nil
}

// fits returns "" when pod may run on node, else the reason it may not.
func fits(pod *corev1.Pod, node *corev1.Node, others []placed, nodes map[string]*corev1.Node) string {
	switch {
	case !labels.SelectorFromSet(pod.Spec.NodeSelector).Matches(labels.Set(node.Labels)):
		return "node(s) didn't match Pod's node affinity/selector"
	case !nodeAffinityMatches(pod, node):
		return "node(s) didn't match Pod's node affinity/selector"
	case !toleratesTaints(pod, node):
		return "node(s) had untolerated taint(s)"
	case antiAffinityConflict(pod, node, others, nodes):
		return "node(s) didn't match pod anti-affinity rules"
	case !affinitySatisfied(pod, node, others, nodes):
		return "node(s) didn't match pod affinity rules"
	}
	return ""
}

func nodeAffinityMatches(pod *corev1.Pod, node *corev1.Node) bool {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if nodeSelectorTermMatches(term, node) {
			return true
		}
	}
	return false
}

func nodeSelectorTermMatches(term corev1.NodeSelectorTerm, node *corev1.Node) bool {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false
	}
	for _, r := range term.MatchExpressions {
		if !requirementMatches(r, labels.Set(node.Labels)) {
			return false
		}
	}
	for _, r := range term.MatchFields {
		if !requirementMatches(r, labels.Set{"metadata.name": node.Name}) {
			return false
		}
	}
	return true
}

var nodeSelectorOps = map[corev1.NodeSelectorOperator]selection.Operator{
	corev1.NodeSelectorOpIn: selection.In, corev1.NodeSelectorOpNotIn: selection.NotIn,
	corev1.NodeSelectorOpExists: selection.Exists, corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	corev1.NodeSelectorOpGt: selection.GreaterThan, corev1.NodeSelectorOpLt: selection.LessThan,
}

func requirementMatches(r corev1.NodeSelectorRequirement, set labels.Set) bool {
	req, err := labels.NewRequirement(r.Key, nodeSelectorOps[r.Operator], r.Values)
	return err == nil && req.Matches(set)
}

func toleratesTaints(pod *corev1.Pod, node *corev1.Node) bool {
	for i := range node.Spec.Taints {
		taint := &node.Spec.Taints[i]
		if taint.Effect == corev1.TaintEffectPreferNoSchedule {
			continue
		}
		tolerated := false
		for j := range pod.Spec.Tolerations {
			if tolerates(pod.Spec.Tolerations[j], taint) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			return false
		}
	}
	return true
}

// tolerates is Toleration.ToleratesTaint without the comparison operators.
func tolerates(t corev1.Toleration, taint *corev1.Taint) bool {
	if (t.Effect != "" && t.Effect != taint.Effect) || (t.Key != "" && t.Key != taint.Key) {
		return false
	}
	switch t.Operator {
	case corev1.TolerationOpExists:
		return true
	case "", corev1.TolerationOpEqual:
		return t.Key != "" && t.Value == taint.Value
	}
	return false
}

// antiAffinityConflict checks the pod's required anti-affinity against the
// pods already placed, and theirs against the pod (the rule is symmetric).
func antiAffinityConflict(pod *corev1.Pod, node *corev1.Node, others []placed, nodes map[string]*corev1.Node) bool {
	for _, o := range others {
		other := nodes[o.node]
		if other == nil {
			continue
		}
		for _, term := range antiAffinityTerms(pod) {
			if sameDomain(node, other, term.TopologyKey) && termMatches(term, pod, o.pod) {
				return true
			}
		}
		for _, term := range antiAffinityTerms(o.pod) {
			if sameDomain(node, other, term.TopologyKey) && termMatches(term, o.pod, pod) {
				return true
			}
		}
	}
	return false
}

// affinitySatisfied checks the pod's required pod affinity: each term needs
// a matching pod in the node's domain, unless no pod matches anywhere and the
// pod matches its own term (the first of a group).
func affinitySatisfied(pod *corev1.Pod, node *corev1.Node, others []placed, nodes map[string]*corev1.Node) bool {
	a := pod.Spec.Affinity
	if a == nil || a.PodAffinity == nil {
		return true
	}
	for _, term := range a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
		anywhere, here := false, false
		for _, o := range others {
			if termMatches(term, pod, o.pod) {
				anywhere = true
				here = here || sameDomain(node, nodes[o.node], term.TopologyKey)
			}
		}
		if !here && (anywhere || !termMatches(term, pod, pod)) {
			return false
		}
	}
	return true
}

func antiAffinityTerms(pod *corev1.Pod) []corev1.PodAffinityTerm {
	a := pod.Spec.Affinity
	if a == nil || a.PodAntiAffinity == nil {
		return nil
	}
	return a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
}

// termMatches reports whether term, declared by owner, selects pod. A
// namespace selector is taken to select every namespace.
func termMatches(term corev1.PodAffinityTerm, owner, pod *corev1.Pod) bool {
	if term.NamespaceSelector == nil {
		namespaces := term.Namespaces
		if len(namespaces) == 0 {
			namespaces = []string{owner.Namespace}
		}
		found := false
		for _, ns := range namespaces {
			found = found || ns == pod.Namespace
		}
		if !found {
			return false
		}
	}
	if term.LabelSelector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	return err == nil && sel.Matches(labels.Set(pod.Labels))
}

func sameDomain(a, b *corev1.Node, key string) bool {
	if a == nil || b == nil {
		return false
	}
	va, okA := a.Labels[key]
	vb, okB := b.Labels[key]
	return okA && okB && va == vb
}
