package main

import (
	"fmt"
	"log/slog"
	"os"

	"k8s.io/client-go/kubernetes"

	"github.com/ringops/ringops/reconciler/daemon/leader"
	"github.com/ringops/ringops/reconciler/daemon/shard"
	"github.com/ringops/ringops/reconciler/kube"
)

// leaseClient is the client, context and namespace of the Leases, from
// the --leader-election-* flags (for the leader Lease and the shard
// Leases alike); what names the flag that asked for them in errors.
func leaseClient(what string, f runFlags, clients *kube.Clients, current string) (kubernetes.Interface, string, string, error) {
	kctx := f.leaderElectionCtx
	switch {
	case kctx != "":
	case f.inClusterContext != "":
		kctx = f.inClusterContext
	default:
		kctx = current
	}
	if kctx == "" {
		return nil, "", "", fmt.Errorf("%s: no context for the Leases: set --leader-election-context or --in-cluster-context", what)
	}
	cs, err := clients.Clientset(kctx)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", what, err)
	}
	ns := f.leaderElectionNamespace
	if ns == "" {
		ns = os.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		return nil, "", "", fmt.Errorf("%s: --leader-election-namespace (or $POD_NAMESPACE) is required", what)
	}
	return cs, kctx, ns, nil
}

// newShards wires --shards and the --leader-election-* flags to a
// shard.Set on the Leases <id>-shard-<i>, in the Leases' namespace and
// context; the replica's identity is $POD_NAME (its StatefulSet ordinal
// gives its home shard).
func newShards(f runFlags, clients *kube.Clients, current string, log *slog.Logger) (*shard.Set, error) {
	what := fmt.Sprintf("--shards %d", f.shards)
	cs, kctx, ns, err := leaseClient(what, f, clients, current)
	if err != nil {
		return nil, err
	}
	o := shard.DefaultOptions()
	o.Namespace, o.Name, o.Shards, o.Identity = ns, f.leaderElectionID, f.shards, leader.Identity()
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = f.leaseDuration, f.renewDeadline, f.retryLE
	o.Logger = log.With("context", kctx)
	if _, ok := shard.Home(o.Identity, o.Shards); !ok {
		log.Warn("this replica's name has no StatefulSet ordinal ($POD_NAME ringops-<n>): it has no home shard and takes free shards first come, first served; run the replicas as a StatefulSet for an even spread", "identity", o.Identity)
	}
	s, err := shard.New(cs, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

// newElection wires the --leader-election-* flags to a leader.Election on
// the Lease --leader-election-id, which also relays webhooks between
// replicas through the Lease <id>-webhook (see charts/ringops/README.md).
func newElection(f runFlags, clients *kube.Clients, current string, log *slog.Logger, onLeading func(bool)) (*leader.Election, error) {
	cs, kctx, ns, err := leaseClient("--leader-elect", f, clients, current)
	if err != nil {
		return nil, err
	}
	o := leader.DefaultOptions()
	o.Namespace, o.Name, o.Identity = ns, f.leaderElectionID, leader.Identity()
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = f.leaseDuration, f.renewDeadline, f.retryLE
	o.OnLeading, o.Logger = onLeading, log.With("context", kctx)
	e, err := leader.New(cs, o)
	if err != nil {
		return nil, fmt.Errorf("--leader-elect: %w", err)
	}
	return e, nil
}
