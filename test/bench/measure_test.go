package bench

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ringops/ringops/test/env"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const userHZ = 100

// cpuTime is the CPU a process used so far: user plus system time.
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ")".
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime (fields 14 and 15)
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// memory is a process's resident memory, from /proc/<pid>/status.
type memory struct {
	RSS  int64 // VmRSS, bytes
	Peak int64 // VmHWM (the peak of VmRSS), bytes
	// Anon and File split RSS: the process's own memory (heap, stacks),
	// and the pages of files it maps (its binary's text and data, which
	// a kernel mapping them in huge pages makes larger).
	Anon, File int64 // RssAnon, RssFile, bytes
}

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.Peak, "RssAnon": &m.Anon, "RssFile": &m.File}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		field := fields[key]
		if !ok || field == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("/proc/%d/status %s: %w", pid, key, err)
		}
		*field = kb << 10
	}
	return m, sc.Err()
}

// metricSum sums the samples of a metric in Prometheus' text format.
func metricSum(text, name string) (float64, bool) {
	sum, found := 0.0, false
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if _, value, ok := cutValue(rest); ok {
			sum, found = sum+value, true
		}
	}
	return sum, found
}

// cutValue splits `{labels} value` (or ` value`) into its labels and value.
func cutValue(rest string) (string, float64, bool) {
	series := ""
	if strings.HasPrefix(rest, "{") {
		i := strings.LastIndexByte(rest, '}')
		if i < 0 {
			return "", 0, false
		}
		series, rest = rest[:i+1], rest[i+1:]
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
	return series, v, err == nil
}

// gateLatency is the daemon's ringops_gate_latency_seconds histogram: from
// the ring turning healthy (plus the settle time) to the next disruptive
// step applied.
type gateLatency struct {
	count, sum float64
	buckets    []bucket // cumulative, by increasing upper bound
}

type bucket struct{ le, cum float64 }

func readGateLatency(text string) gateLatency {
	const name = "ringops_gate_latency_seconds"
	g := gateLatency{}
	g.count, _ = metricSum(text, name+"_count")
	g.sum, _ = metricSum(text, name+"_sum")
	for line := range strings.Lines(text) { // buckets come in increasing order
		rest, ok := strings.CutPrefix(line, name+"_bucket")
		if !ok {
			continue
		}
		series, cum, ok := cutValue(rest)
		le, err := strconv.ParseFloat(label(series, "le"), 64)
		if ok && err == nil {
			g.buckets = append(g.buckets, bucket{le: le, cum: cum})
		}
	}
	return g
}

// quantile estimates the q-quantile as Prometheus' histogram_quantile
// does: linearly within the bucket that holds it (the last finite bound
// when it falls in +Inf).
func (g gateLatency) quantile(q float64) float64 {
	rank := q * g.count
	lower, below := 0.0, 0.0
	for _, b := range g.buckets {
		if b.cum >= rank {
			if math.IsInf(b.le, 1) || b.cum == below {
				return lower
			}
			return lower + (b.le-lower)*(rank-below)/(b.cum-below)
		}
		lower, below = b.le, b.cum
	}
	return lower
}

// listCounts are LIST requests served so far, by resource.
type listCounts map[string]float64

// total sums the counts.
func (c listCounts) total() float64 {
	sum := 0.0
	for _, n := range c {
		sum += n
	}
	return sum
}

// since is the difference to an earlier count, resources sorted.
func (c listCounts) since(before listCounts) string {
	names := make([]string, 0, len(c))
	for r := range c {
		names = append(names, r)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, r := range names {
		if d := c[r] - before[r]; d > 0 {
			fmt.Fprintf(&b, " %s=%.0f", r, d)
		}
	}
	return strings.TrimSpace(b.String())
}

// apiListRequests reads, from the world's API servers' /metrics, the LIST
// requests they have served so far (apiserver_request_total{verb="LIST"}),
// summed over the regions.
func apiListRequests(ctx context.Context, w *env.World) (listCounts, error) {
	out := listCounts{}
	for _, r := range w.Regions() {
		body, err := r.Client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			return nil, fmt.Errorf("region %s: /metrics: %w", r.Name, err)
		}
		for line := range strings.Lines(string(body)) {
			if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `verb="LIST"`) {
				continue
			}
			series, n, ok := cutValue(strings.TrimPrefix(line, "apiserver_request_total"))
			if ok {
				out[label(series, "resource")] += n
			}
		}
	}
	return out, nil
}

// label is the value of a label in `{a="x",b="y"}`, or "".
func label(series, name string) string {
	_, rest, ok := strings.Cut(series, name+`="`)
	if !ok {
		return ""
	}
	value, _, _ := strings.Cut(rest, `"`)
	return value
}

// worldCPU is the CPU used so far by the world's kube-apiservers and by
// the test process (kubelets, Cassandra nodes, Jolokia agents).
func worldCPU(w *env.World) (apiservers, self time.Duration, err error) {
	for _, p := range w.Processes() {
		if !strings.HasSuffix(p.Name, "/kube-apiserver") {
			continue
		}
		d, err := cpuTime(p.Pid)
		if err != nil {
			return 0, 0, err
		}
		apiservers += d
	}
	self, err = cpuTime(os.Getpid())
	return apiservers, self, err
}
