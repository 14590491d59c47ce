package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/ringops/ringops/reconciler/daemon/leader"
	"github.com/ringops/ringops/reconciler/kube"
)

// newElection wires the --leader-election-* flags to a leader.Election on
// the Lease --leader-election-id, which also relays webhooks between
// replicas through the Lease <id>-webhook (see charts/ringops/README.md).
func newElection(f runFlags, clients *kube.Clients, current string, log *slog.Logger, onLeading func(bool)) (*leader.Election, error) {
	kctx := f.leaderElectionCtx
	switch {
	case kctx != "":
	case f.inClusterContext != "":
		kctx = f.inClusterContext
	default:
		kctx = current
	}
	if kctx == "" {
		return nil, errors.New("--leader-elect: no context for the Lease: set --leader-election-context or --in-cluster-context")
	}
	cs, err := clients.Clientset(kctx)
	if err != nil {
		return nil, fmt.Errorf("--leader-elect: %w", err)
	}
	o := leader.DefaultOptions()
	o.Namespace, o.Name, o.Identity = f.leaderElectionNamespace, f.leaderElectionID, leader.Identity()
	if o.Namespace == "" {
		o.Namespace = os.Getenv("POD_NAMESPACE")
	}
	if o.Namespace == "" {
		return nil, errors.New("--leader-elect: --leader-election-namespace (or $POD_NAMESPACE) is required")
	}
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = f.leaseDuration, f.renewDeadline, f.retryLE
	o.OnLeading, o.Logger = onLeading, log.With("context", kctx)
	e, err := leader.New(cs, o)
	if err != nil {
		return nil, fmt.Errorf("--leader-elect: %w", err)
	}
	return e, nil
}
