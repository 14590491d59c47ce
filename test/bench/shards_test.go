package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/daemon/shard"
	"github.com/ringops/ringops/test/env"
)

// leaseReader reads the shard Leases ringops-shard-<i>.
type leaseReader struct {
	client kubernetes.Interface
	shards int
}

// holders are the holders of the shard Leases, by shard ("" when free or
// not created yet).
func (l leaseReader) holders(b *testing.B) []string {
	out := make([]string, l.shards)
	for i := range l.shards {
		name := fmt.Sprintf("%s-shard-%d", leaseID, i)
		lease, err := l.client.CoordinationV1().Leases(leaseNamespace).Get(b.Context(), name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			b.Fatalf("lease %s: %v", name, err)
		case lease.Spec.HolderIdentity != nil:
			out[i] = *lease.Spec.HolderIdentity
		}
	}
	return out
}

// heldBy are the shards whose Lease names holder.
func (l leaseReader) heldBy(b *testing.B, holder string) []int {
	var out []int
	for i, h := range l.holders(b) {
		if h == holder {
			out = append(out, i)
		}
	}
	if len(out) == 0 {
		b.Fatalf("%s holds no shard Lease", holder)
	}
	return out
}

// awaitTakenOver polls the Leases every 50 ms until every shard of held
// names a holder other than dead, and returns when; it fails the
// benchmark after limit.
func (l leaseReader) awaitTakenOver(b *testing.B, held []int, dead string, limit time.Duration) time.Time {
	b.Helper()
	deadline := time.Now().Add(limit)
	for {
		hs := l.holders(b)
		if !slices.ContainsFunc(held, func(i int) bool { return hs[i] == "" || hs[i] == dead }) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			b.Fatalf("shards %v of %s not taken over after %s: holders %q", held, dead, limit, hs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logLine is one JSON line of a daemon's log: a step carried out (Result
// set) or a shard taken (Shard and Term set), among others.
type logLine struct {
	Time     time.Time `json:"time"`
	Msg      string    `json:"msg"`
	Cluster  string    `json:"cluster"`
	Revision string    `json:"revision"`
	Result   string    `json:"result"`
	Shard    *int      `json:"shard"`
	Term     string    `json:"term"`
	replica  string
}

// readSteps reads the JSON lines of a daemon's log, each marked with the
// replica that wrote it; a line cut by a SIGKILL is skipped.
func readSteps(b *testing.B, path, replica string) []logLine {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			l.replica = replica
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	return out
}

// victim is the killed replica and the shards it held then.
type victim struct {
	name   string
	shards []int
}

// audit is what the logs and the objects say of a whole run.
type audit struct {
	victim   string   // the replica killed
	steps    int      // steps carried out (result ok), over every replica
	stamped  int      // objects carrying a shard term
	repeated []string // a step carried out twice for a cluster and revision
	skipped  []string // a cluster's steps other than its peers'
	unlogged []string // steps of the plan the SIGKILL cut, written but never logged
	overlaps []string // a step of a replica after another took the cluster's shard
	terms    []string // a shard term taken twice, an object stamped with a term nobody took, or with none
}

// auditRun reads every replica's log and the objects of every cluster in
// every region (views: the clusters as last listed, for their
// directories).
func auditRun(b *testing.B, w *env.World, rs *replicas, views [][]clusterView, revs [2]string, v victim) audit {
	var lines []logLine
	for i, d := range rs.ds {
		lines = append(lines, readSteps(b, d.log, rs.names[i])...)
	}
	dirs := map[string]string{}
	for _, cs := range views {
		for _, c := range cs {
			dirs[c.Name] = c.Dir
		}
	}
	a := audit{victim: v.name}
	taken := a.checkTerms(lines)
	a.checkSteps(lines, revs, v, dirs)
	a.checkObjects(b, w, dirs, taken)
	b.Logf("audit: %d steps carried out, %d objects stamped with a shard term, %d shard terms taken (%v)",
		a.steps, a.stamped, len(taken), slices.Sorted(maps.Keys(taken)))
	return a
}

// checkTerms: every shard term ("<holder>/<transitions>") is taken by one
// replica, the one it names. It returns the terms taken, "<shard> <term>".
func (a *audit) checkTerms(lines []logLine) map[string]string {
	taken := map[string]string{}    // "<shard> <term>" -> replica
	byNumber := map[string]string{} // "<shard> <transitions>" -> term
	for _, l := range lines {
		if l.Msg != "shard taken" || l.Shard == nil {
			continue
		}
		key := fmt.Sprintf("%d %s", *l.Shard, l.Term)
		holder, n, _ := strings.Cut(l.Term, "/")
		if holder != l.replica {
			a.terms = append(a.terms, fmt.Sprintf("%s took shard %d in the term %s of another", l.replica, *l.Shard, l.Term))
		}
		num := fmt.Sprintf("%d %s", *l.Shard, n)
		if t, ok := byNumber[num]; ok && t != l.Term {
			a.terms = append(a.terms, fmt.Sprintf("shard %d: term %s and %s share transition %s", *l.Shard, t, l.Term, n))
		}
		byNumber[num] = l.Term
		taken[key] = l.replica
	}
	return taken
}

// checkSteps: no step carried out twice for a cluster and revision; every
// step logged by the replica that took the cluster's shard last (no step
// of a replica after another took its shard); every cluster took the steps
// of its peers on each revision (the clusters are alike but for their
// names, host IDs and addresses), but for the steps of the plan the SIGKILL
// cut in the victim's clusters on the second revision: a plan's steps are
// logged once it is over, so those written before the kill are in no log;
// the new holder does not take them again (that would be extra), and the
// cluster's convergence shows they were done.
func (a *audit) checkSteps(lines []logLine, revs [2]string, v victim, dirs map[string]string) {
	takes := shardTakes(lines)
	seen := map[string]int{}
	done := [2]map[string][]string{{}, {}} // revision -> cluster -> steps, the name replaced by X
	for _, l := range lines {
		if l.Result != "ok" && l.Result != "unchanged" {
			continue
		}
		if l.Result == "ok" {
			a.steps++
			key := l.Cluster + " " + l.Revision + " " + l.Msg
			if seen[key]++; seen[key] == 2 {
				a.repeated = append(a.repeated, fmt.Sprintf("%s at %.8s: %s", l.Cluster, l.Revision, l.Msg))
			}
		}
		if dir, ok := dirs[l.Cluster]; ok {
			a.checkHolder(l, shard.Of(dir, *shardsFlag), takes)
		}
		for i, rev := range revs {
			if sameRevision(l.Revision, rev) {
				done[i][l.Cluster] = append(done[i][l.Cluster], alike(l))
			}
		}
	}
	for i := range revs {
		a.checkAlike(done[i], dirs, i == 1, v)
	}
}

var (
	hostIDs   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	addresses = regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+\b`)
)

// alike is the step of l as every cluster takes it: its cluster's name,
// its nodes' host IDs and addresses replaced, "(unchanged)" dropped.
func alike(l logLine) string {
	s := strings.ReplaceAll(l.Msg, l.Cluster, "X")
	s = hostIDs.ReplaceAllString(s, "<host-id>")
	s = addresses.ReplaceAllString(s, "<address>")
	return strings.TrimSuffix(s, " (unchanged)")
}

// shardTakes are the "shard taken" lines of every replica, by shard, in
// time order.
func shardTakes(lines []logLine) map[int][]logLine {
	takes := map[int][]logLine{}
	for _, l := range lines {
		if l.Msg == "shard taken" && l.Shard != nil {
			takes[*l.Shard] = append(takes[*l.Shard], l)
		}
	}
	for _, ts := range takes {
		slices.SortFunc(ts, func(x, y logLine) int { return x.Time.Compare(y.Time) })
	}
	return takes
}

// checkHolder: the step l on a cluster of shard sh was logged by the
// replica that took sh last before it, never after another took it over.
// The daemon logs a plan's steps once the plan is over: a replica that
// lost sh in the middle of a long plan (the fence refusing the rest) logs
// the steps it wrote before at the plan's end, which may come after the
// new holder's take; the finding names both times, and the objects' terms
// (checkObjects) tell whether the writes were fenced.
func (a *audit) checkHolder(l logLine, sh int, takes map[int][]logLine) {
	var last *logLine
	for i, t := range takes[sh] {
		if t.Time.After(l.Time) {
			break
		}
		last = &takes[sh][i]
	}
	switch {
	case last == nil:
		a.overlaps = append(a.overlaps, fmt.Sprintf("%s stepped %s (%s) before any replica took shard %d",
			l.replica, l.Cluster, l.Msg, sh))
	case last.replica != l.replica:
		a.overlaps = append(a.overlaps, fmt.Sprintf("%s stepped %s at %s (%s) after %s took shard %d (term %s) at %s",
			l.replica, l.Cluster, l.Time.Format("15:04:05.000"), l.Msg, last.replica, sh, last.Term, last.Time.Format("15:04:05.000")))
	}
}

// checkAlike compares every cluster's steps of one revision with those
// most clusters took (after the kill, most clusters of the shards the
// victim did not hold: a SIGKILL cuts nothing there).
func (a *audit) checkAlike(done map[string][]string, dirs map[string]string, afterKill bool, v victim) {
	count := map[string]int{}
	for cluster, steps := range done {
		slices.Sort(steps)
		if !afterKill || !slices.Contains(v.shards, shard.Of(dirs[cluster], *shardsFlag)) {
			count[strings.Join(steps, "\n")]++
		}
	}
	if len(count) == 0 { // every cluster is the victim's: compare them with each other
		for _, steps := range done {
			count[strings.Join(steps, "\n")]++
		}
	}
	var ref []string
	best := 0
	for k, c := range count {
		if c > best || (c == best && k < strings.Join(ref, "\n")) {
			ref, best = strings.Split(k, "\n"), c
		}
	}
	for _, cluster := range slices.Sorted(maps.Keys(dirs)) {
		steps := done[cluster]
		missing, extra := diff(ref, steps), diff(steps, ref)
		victims := slices.Contains(v.shards, shard.Of(dirs[cluster], *shardsFlag))
		switch {
		case len(missing) == 0 && len(extra) == 0:
		case afterKill && victims && len(extra) == 0:
			for _, m := range missing {
				a.unlogged = append(a.unlogged, cluster+": "+m)
			}
		default:
			a.skipped = append(a.skipped, fmt.Sprintf("%s: missing %q, extra %q", cluster, missing, extra))
		}
	}
}

// diff is the elements of x (sorted) not matched in y (sorted), with
// their multiplicity.
func diff(x, y []string) []string {
	var out []string
	j := 0
	for _, s := range x {
		for j < len(y) && y[j] < s {
			j++
		}
		if j < len(y) && y[j] == s {
			j++
			continue
		}
		out = append(out, s)
	}
	return out
}

// checkObjects: every ringops object of every cluster (StatefulSets,
// ConfigMaps, Services, in every region; every one of them written by a
// step of a sharded replica) carries a shard term that the replica it
// names took, for the cluster's shard.
func (a *audit) checkObjects(b *testing.B, w *env.World, dirs map[string]string, taken map[string]string) {
	sel := metav1.ListOptions{LabelSelector: contract.LabelManagedBy + "=" + contract.ManagedBy}
	for _, cluster := range slices.Sorted(maps.Keys(dirs)) {
		sh := shard.Of(dirs[cluster], *shardsFlag)
		for _, r := range w.Regions() {
			for _, o := range clusterObjects(b, r.Client, cluster, sel) {
				term, ok := o.GetAnnotations()[contract.AnnotationShardTerm]
				if !ok {
					a.terms = append(a.terms, fmt.Sprintf("%s %s/%s in %s: no shard term: written outside the fence",
						cluster, o.GetNamespace(), o.GetName(), r.Name))
					continue
				}
				a.stamped++
				if _, ok := taken[strconv.Itoa(sh)+" "+term]; !ok {
					a.terms = append(a.terms, fmt.Sprintf("%s %s/%s in %s: stamped %s, a term of shard %d no replica took",
						cluster, o.GetNamespace(), o.GetName(), r.Name, term, sh))
				}
			}
		}
	}
}

// clusterObjects are the StatefulSets, ConfigMaps and Services of a
// cluster (its namespace is its name) that ringops manages.
func clusterObjects(b *testing.B, c kubernetes.Interface, ns string, sel metav1.ListOptions) []metav1.Object {
	ctx := b.Context()
	var out []metav1.Object
	sts, err := c.AppsV1().StatefulSets(ns).List(ctx, sel)
	if err != nil {
		b.Fatalf("statefulsets in %s: %v", ns, err)
	}
	for i := range sts.Items {
		out = append(out, &sts.Items[i])
	}
	cms, err := c.CoreV1().ConfigMaps(ns).List(ctx, sel)
	if err != nil {
		b.Fatalf("configmaps in %s: %v", ns, err)
	}
	for i := range cms.Items {
		out = append(out, &cms.Items[i])
	}
	svcs, err := c.CoreV1().Services(ns).List(ctx, sel)
	if err != nil {
		b.Fatalf("services in %s: %v", ns, err)
	}
	for i := range svcs.Items {
		out = append(out, &svcs.Items[i])
	}
	return out
}

// fail fails the benchmark with every finding of (a) writes by two
// replicas at once or in one term and (b) steps repeated or skipped.
func (a audit) fail(b *testing.B) {
	if len(a.unlogged) > 0 {
		b.Logf("cut by the SIGKILL of %s between write and log line (done, as convergence shows): %q", a.victim, a.unlogged)
	}
	for what, found := range map[string][]string{
		"steps carried out twice":                          a.repeated,
		"clusters whose steps differ from their peers'":    a.skipped,
		"steps by a replica that no longer held the shard": a.overlaps,
		"shard terms taken twice or stamped untaken":       a.terms,
	} {
		if len(found) > 0 {
			b.Errorf("%s (%d):\n  %s", what, len(found), strings.Join(found[:min(20, len(found))], "\n  "))
		}
	}
}
