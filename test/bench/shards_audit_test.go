package bench

import (
	"slices"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/daemon/shard"
)

// The audit of BenchmarkDaemonShards finds what it is there to find, on
// logs written for the purpose.
func TestShardAudit(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	take := func(s int, replica string, sh int, term string) logLine {
		return logLine{Time: at(s), Msg: "shard taken", Shard: &sh, Term: term, replica: replica}
	}
	step := func(s int, replica, cluster, rev, msg string) logLine {
		return logLine{Time: at(s), Msg: msg, Cluster: cluster, Revision: rev, Result: "ok", replica: replica}
	}
	// Two clusters a and b in two different shards; the victim ringops-0
	// holds a's.
	a, b := clusterName(0), ""
	dirs := map[string]string{a: "clusters/" + a}
	sa := shard.Of(dirs[a], *shardsFlag)
	for i := 1; b == ""; i++ {
		if dir := "clusters/" + clusterName(i); shard.Of(dir, *shardsFlag) != sa {
			b, dirs[clusterName(i)] = clusterName(i), dir
		}
	}
	sb := shard.Of(dirs[b], *shardsFlag)
	restart := func(s int, replica, cluster, region string) logLine {
		return step(s, replica, cluster, "r2", "["+region+"] RestartPod "+cluster+"-"+region+"-0")
	}
	base := []logLine{
		take(0, "ringops-0", sa, "ringops-0/0"), take(0, "ringops-1", sb, "ringops-1/0"),
		step(1, "ringops-0", a, "r1", "[eu-west] ApplyConfigMap "+a+"-config"), step(1, "ringops-1", b, "r1", "[eu-west] ApplyConfigMap "+b+"-config"),
		restart(2, "ringops-0", a, "eu-west"), restart(2, "ringops-1", b, "eu-west"),
		take(5, "ringops-1", sa, "ringops-1/1"),
		restart(6, "ringops-1", a, "us-east"), restart(6, "ringops-1", b, "us-east"),
	}
	v := victim{name: "ringops-0", shards: []int{sa}}
	run := func(lines []logLine) audit {
		a := audit{victim: v.name}
		a.checkTerms(lines)
		a.checkSteps(lines, [2]string{"r1", "r2"}, v, dirs)
		return a
	}
	with := func(extra ...logLine) []logLine { return append(slices.Clone(base), extra...) }
	cases := map[string]struct {
		lines []logLine
		found func(audit) []string
	}{
		"a step after the takeover":          {with(restart(7, "ringops-0", a, "ap-south"), restart(7, "ringops-1", b, "ap-south")), func(a audit) []string { return a.overlaps }},
		"a step before any take":             {with(logLine{Time: at(-1), Msg: "[eu-west] ApplyService " + b, Cluster: b, Revision: "r0", Result: "ok", replica: "ringops-1"}), func(a audit) []string { return a.overlaps }},
		"a step taken twice":                 {with(restart(8, "ringops-1", a, "us-east")), func(a audit) []string { return a.repeated }},
		"a step skipped":                     {with(restart(7, "ringops-1", a, "ap-south"), restart(7, "ringops-1", b, "ap-south"), step(3, "ringops-1", b, "r1", "[eu-west] ApplyService "+b)), func(a audit) []string { return a.skipped }},
		"a step of the victim's taken again": {with(restart(7, "ringops-1", a, "ap-south"), restart(7, "ringops-1", b, "ap-south"), restart(8, "ringops-1", a, "mars")), func(a audit) []string { return a.skipped }},
		"a term taken by two replicas":       {with(take(9, "ringops-2", sb, "ringops-2/0")), func(a audit) []string { return a.terms }},
		"a term of another":                  {with(take(9, "ringops-2", sb, "ringops-1/3")), func(a audit) []string { return a.terms }},
		"the victim's last step unlogged":    {with(restart(7, "ringops-1", b, "ap-south")), func(a audit) []string { return a.unlogged }},
	}
	// Clean runs: the victim's steps taken over; the same steps on other
	// nodes (host IDs, addresses).
	nodes := func(cluster, address, hostID string) logLine {
		return step(7, "ringops-1", cluster, "r2", "[ap-south] ApplyObjects ConfigMap "+cluster+"-nodes: "+cluster+"-dc3-r1-0 at "+address+" (host ID "+hostID+")")
	}
	for _, lines := range [][]logLine{
		with(restart(7, "ringops-1", a, "ap-south"), restart(7, "ringops-1", b, "ap-south")),
		with(restart(7, "ringops-1", a, "ap-south"), restart(7, "ringops-1", b, "ap-south"),
			nodes(a, "127.18.3.10", "22257fc9-232e-4e9b-9201-c1d3413ed51a"), nodes(b, "127.18.3.7", "a4b4b745-5aa1-4a0d-9096-bcded04f73fa")),
	} {
		clean := run(lines)
		if n := len(clean.overlaps) + len(clean.repeated) + len(clean.skipped) + len(clean.terms) + len(clean.unlogged); n > 0 {
			t.Errorf("a clean run: %+v", clean)
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if found := tc.found(run(tc.lines)); len(found) == 0 {
				t.Errorf("not found; audit %+v", run(tc.lines))
			}
		})
	}
}
