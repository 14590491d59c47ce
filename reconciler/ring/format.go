package ring

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// TextOptions shape WriteText.
type TextOptions struct {
	// Cluster is named in the title.
	Cluster string
	// Datacenters is the order of the datacenter sections (the spec's, seed
	// datacenter first); datacenters not listed follow, sorted.
	Datacenters []string
}

// WriteText prints a result as `nodetool status` does, for the whole
// multi-region ring: per datacenter (with its kube context) one line per
// node (state, address, load, pod, rack, host ID, notes), then the endpoints
// that no expected node has, then the verdict and every reason.
func WriteText(w io.Writer, r Result, opts TextOptions) error {
	var b strings.Builder
	if opts.Cluster != "" {
		fmt.Fprintf(&b, "Cluster: %s\n", opts.Cluster)
	}
	byDC := map[string][]NodeStatus{}
	var unknown []NodeStatus
	for _, n := range r.Nodes {
		if n.Expected {
			byDC[n.Node.Datacenter] = append(byDC[n.Node.Datacenter], n)
		} else {
			unknown = append(unknown, n)
		}
	}
	for _, dc := range datacenterOrder(byDC, opts.Datacenters) {
		title := "Datacenter: " + dc
		if ctx := byDC[dc][0].Node.Context; ctx != "" {
			title += " (context " + ctx + ")"
		}
		writeSection(&b, title, byDC[dc])
	}
	if len(unknown) > 0 {
		writeSection(&b, "Not expected: in the ring, but no expected node has the address", unknown)
	}
	writeVerdict(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func datacenterOrder(byDC map[string][]NodeStatus, first []string) []string {
	var out []string
	for _, dc := range first {
		if len(byDC[dc]) > 0 && !slices.Contains(out, dc) {
			out = append(out, dc)
		}
	}
	var rest []string
	for dc := range byDC {
		if !slices.Contains(out, dc) {
			rest = append(rest, dc)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func writeSection(b *strings.Builder, title string, nodes []NodeStatus) {
	fmt.Fprintf(b, "\n%s\n%s\n", title, strings.Repeat("=", len(title)))
	b.WriteString("Status=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n")
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "--\tAddress\tLoad\tPod\tRack\tHost ID\tNotes")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.State, orDash(n.Node.IP), orDash(n.Load),
			orDash(n.Node.Pod), orDash(n.Node.Rack), orDash(n.HostID), notes(n))
	}
	_ = tw.Flush()
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		b.WriteString(strings.TrimRight(line, " \n"))
		if strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
}

// notes says what is off with a node, on its line.
func notes(n NodeStatus) string {
	var l []string
	if n.Error != "" {
		l = append(l, "not queried: "+n.Error)
	}
	if n.Mode != "" && n.Mode != ModeNormal {
		l = append(l, "mode "+string(n.Mode))
	}
	if n.Mode == ModeNormal && !n.NativeTransportRunning {
		l = append(l, "not serving CQL")
	}
	if len(n.DownFrom) > 0 {
		l = append(l, "down according to "+joinNames(n.DownFrom))
	}
	return strings.Join(l, "; ")
}

func writeVerdict(b *strings.Builder, r Result) {
	if r.Healthy {
		fmt.Fprintf(b, "\nVerdict: HEALTHY: %s Up and Normal in every view\n", plural(len(r.Nodes), "node"))
		if r.Partial {
			b.WriteString("(partial: only some regions were queried; endpoints of the others were not judged)\n")
		}
		return
	}
	fmt.Fprintf(b, "\nVerdict: UNHEALTHY (%s)\n", plural(len(r.Reasons), "reason"))
	for _, reason := range r.Reasons {
		fmt.Fprintf(b, "  - %s\n", reason)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// MarshalJSON adds the reason's sentence ("message") to its fields.
func (r Reason) MarshalJSON() ([]byte, error) {
	type plain Reason
	return json.Marshal(struct {
		plain
		Message string `json:"message"`
	}{plain(r), r.String()})
}
