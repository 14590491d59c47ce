package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/schemas"
)

// statusFlags are the flags of `ringops status`.
type statusFlags struct {
	kubeconfig  string
	contexts    []string
	output      string
	via         string
	credentials string
	timeout     time.Duration
	concurrency int
}

func newStatusCommand() *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status <cluster-dir> [--kubeconfig K] [--context C]... [-o text|json]",
		Short: "Show a cluster's ring across every region, like nodetool status",
		Long: `Status asks every Cassandra node of a cluster, in every region (kube
context) of its spec, for its view of the ring over Jolokia, and prints the
multi-region equivalent of nodetool status: per datacenter and rack each
node's state (UN, DN, UJ, UL, UM; ?? when no view has it), address, load,
pod, host ID, then the verdict with its reasons, naming which nodes see what.

The ring is healthy when every expected node is Up and Normal in every
node's view, nothing joins, leaves or moves, every operation mode is NORMAL,
every node serves CQL clients (its native transport runs), the nodes report
one schema version and no unknown node is in the ring: the gate ringops
waits for before every disruptive step.

With --context, only the nodes of those regions are queried and judged:
endpoints of the other regions are not (the verdict says "partial").

Nodes are reached by pod IP (--via direct, where pod IPs are routable) or
through each region's API server (--via proxy; needs RBAC create pods/proxy,
and cannot carry Jolokia credentials nor check an agent's certificate: only
for spec.jolokia.credentialsSecret none without tls). Jolokia credentials
come from the Secret named by spec.jolokia.credentialsSecret in each
region, else from <cluster>-jolokia, the Secret ringops keeps there, or
from --jolokia-credentials (a mounted Secret directory, or a user:password
file); with spec.jolokia.tls, the agents' certificates must chain to its
CA, read in each region. Credentials are never printed.

Exit status: 0 healthy, 4 unhealthy, 2 invalid spec, 3 other errors (a
kubeconfig or context that cannot be used), 64 bad usage.`,
		Example: `  ringops status clusters/orders
  ringops status clusters/orders --context eu-west -o json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return runStatus(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fl.StringSliceVar(&f.contexts, "context", nil, "kube context (region) to query; repeatable; default: every context of the cluster")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fl.StringVar(&f.via, "via", "direct", "how to reach the Jolokia agents: direct (pod IP) or proxy (API server pod proxy)")
	fl.StringVar(&f.credentials, "jolokia-credentials", "", "Jolokia credentials: a directory with files username and password, or a user:password file (default: the spec's Secret)")
	fl.DurationVar(&f.timeout, "timeout", jolokia.DefaultOptions().Timeout, "timeout of each Jolokia call")
	fl.IntVar(&f.concurrency, "concurrency", ring.DefaultSnapshotOptions().Concurrency, "nodes queried at once")
	return cmd
}

func (f *statusFlags) check() error {
	switch {
	case f.output != "text" && f.output != "json":
		return &usageError{fmt.Errorf("--output %q: must be text or json", f.output)}
	case checkVia(f.via) != nil:
		return &usageError{checkVia(f.via)}
	case f.timeout <= 0 || f.concurrency <= 0:
		return &usageError{fmt.Errorf("--timeout and --concurrency must be positive")}
	}
	return nil
}

// statusReport is the JSON output of `ringops status`.
type statusReport struct {
	Cluster  string            `json:"cluster"`
	Contexts []string          `json:"contexts"`
	Healthy  bool              `json:"healthy"`
	Partial  bool              `json:"partial,omitempty"`
	Verdict  string            `json:"verdict"`
	Reasons  []ring.Reason     `json:"reasons"`
	Nodes    []ring.NodeStatus `json:"nodes"`
	Dead     []deadNode        `json:"dead,omitempty"` // replace (#16)
	Warnings []string          `json:"warnings,omitempty"`
}

func runStatus(ctx context.Context, stdout, stderr io.Writer, dir string, f statusFlags) error {
	cd, err := loadClusterDir(dir)
	if err != nil {
		return invalid(err)
	}
	c := cd.Cluster
	contexts, err := statusContexts(c, f.contexts)
	if err != nil {
		return err
	}
	if f.via == "proxy" {
		if err := proxyRefused(c, f.credentials); err != nil {
			return &usageError{err}
		}
	}
	clients, err := kube.NewClients(contexts, kube.Options{Kubeconfig: f.kubeconfig})
	if err != nil {
		return err
	}
	var warned []string
	pods, err := clients.ListPods(ctx, c.Metadata.Namespace, kube.ClusterSelector(c.Metadata.Name))
	if err != nil {
		warned = append(warned, err.Error())
	}
	more := &warnings{}
	router, _, err := jolokiaRouter(clients, c, f.via, f.credentials, more.add)
	if err != nil {
		return err
	}
	sets, err := clients.ListStatefulSets(ctx, c.Metadata.Namespace, kube.ClusterSelector(c.Metadata.Name))
	if err != nil {
		warned = append(warned, err.Error())
	}
	exp := statusExpected(c, contexts, sets, pods)
	client := jolokia.NewClient(router, jolokia.Options{Timeout: f.timeout, ReadLoad: true})
	res := ring.Assess(ring.Take(ctx, client, exp.Nodes, ring.SnapshotOptions{Concurrency: f.concurrency}), exp)
	// replace (#16): the dead nodes, named from the record, with their downtime.
	recorded, recordWarnings := readRecorded(ctx, clients, contexts, c.Metadata.Namespace, c.Metadata.Name)
	warned = append(warned, recordWarnings...)
	dead := deadNodes(res, recorded, downtimeVia(ctx, jolokia.NewOperations(client, jolokia.DefaultOperationOptions()), res))
	report := statusReport{Cluster: c.Metadata.Name, Contexts: contexts, Healthy: res.Healthy, Partial: res.Partial, Verdict: res.String(),
		Reasons: res.Reasons, Nodes: res.Nodes, Dead: dead, Warnings: append(warned, more.all()...)}
	if err := writeStatus(stdout, stderr, report, res, c, f.output); err != nil {
		return err
	}
	if !res.Healthy {
		return &exitError{code: ExitUnhealthy}
	}
	return nil
}

// statusExpected is the ring `ringops status` judges: the engine's
// (plan.RingExpected), the nodes below each live StatefulSet's replicas,
// so that both say the same of a ring mid-rollout. sets and pods are the
// cluster's StatefulSets and pods per context; a context asked for whose
// StatefulSets could not be listed makes the verdict partial, as does
// asking for some of the cluster's contexts only.
func statusExpected(c *schemas.CassandraCluster, contexts []string, sets map[string][]*unstructured.Unstructured, pods map[string][]corev1.Pod) ring.Expected {
	o := &plan.Observed{Contexts: map[string]*plan.Context{}}
	partial := len(contexts) < len(c.Contexts())
	for _, kc := range contexts {
		objs, ok := sets[kc]
		if !ok {
			partial = true
			continue
		}
		o.Contexts[kc] = &plan.Context{Objects: objs, Pods: pods[kc]}
	}
	exp := plan.RingExpected(c.Metadata.Name, o, jolokiaPort(c))
	exp.Partial = partial
	return exp
}

// jolokiaPort is the agents' port of the spec, where a pod names none.
func jolokiaPort(c *schemas.CassandraCluster) int32 {
	if j := c.Spec.Jolokia; j != nil && j.Port != nil {
		return *j.Port
	}
	return schemas.DefaultJolokiaPort
}

// statusContexts are the contexts asked for, all of the cluster's by default.
func statusContexts(c *schemas.CassandraCluster, asked []string) ([]string, error) {
	all := c.Contexts()
	if len(asked) == 0 {
		return all, nil
	}
	for _, kc := range asked {
		if !slices.Contains(all, kc) {
			return nil, &usageError{fmt.Errorf("--context %s: not a context of cluster %s (its contexts: %v)", kc, c.Metadata.Name, all)}
		}
	}
	return asked, nil
}

func writeStatus(stdout, stderr io.Writer, report statusReport, res ring.Result, c *schemas.CassandraCluster, output string) error {
	if output == "json" {
		b, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	for _, w := range report.Warnings {
		fmt.Fprintln(stderr, "ringops: warning:", w)
	}
	var dcs []string
	for _, dc := range c.Spec.Datacenters {
		dcs = append(dcs, dc.Name)
	}
	if err := ring.WriteText(stdout, res, ring.TextOptions{Cluster: c.Metadata.Name, Datacenters: dcs}); err != nil {
		return err
	}
	return writeDeadNodes(stdout, report.Dead)
}
