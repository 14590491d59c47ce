package shard

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// homeLease is the Lease on which the shard's home replica announces
// itself while another holds the shard.
func (sl *slot) homeLease() string { return sl.name + "-home" }

// followHome runs every RetryPeriod until ctx ends: on its home shard
// held by another, this replica announces itself; on a shard not its
// home that it holds, it gives the shard back once the home replica
// announced itself.
func (sl *slot) followHome(ctx context.Context) {
	t := time.NewTicker(sl.set.opts.RetryPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		switch owns := sl.owns(); {
		case sl.home && !owns:
			if err := sl.announce(ctx); err != nil && ctx.Err() == nil {
				sl.set.log.Debug("shard: cannot announce the home replica", "lease", sl.homeLease(), "err", err)
			}
		case !sl.home && owns:
			holder, fresh, err := sl.announced(ctx)
			if err == nil && fresh && holder != sl.set.opts.Identity {
				sl.set.log.Info("shard: its home replica is back: giving it back after the step in flight", "shard", sl.i, "home", holder)
				sl.giveBack()
			}
		}
	}
}

// announce writes this replica and now on the home Lease.
func (sl *slot) announce(ctx context.Context) error {
	leases := sl.set.cs.CoordinationV1().Leases(sl.set.opts.Namespace)
	me, now := sl.set.opts.Identity, metav1.NewMicroTime(time.Now())
	l, err := leases.Get(ctx, sl.homeLease(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: sl.homeLease(), Namespace: sl.set.opts.Namespace},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &me, RenewTime: &now}}, metav1.CreateOptions{})
	} else if err == nil {
		l.Spec.HolderIdentity, l.Spec.RenewTime = &me, &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("lease %s/%s: announce the home replica: %w", sl.set.opts.Namespace, sl.homeLease(), err)
	}
	return nil
}

// announced reads the home Lease: who announced itself last, and whether
// within the last LeaseDuration (by this replica's clock: a skew between
// replicas only delays or hastens a give-back, the fence does not depend
// on it).
func (sl *slot) announced(ctx context.Context) (string, bool, error) {
	l, err := sl.set.cs.CoordinationV1().Leases(sl.set.opts.Namespace).Get(ctx, sl.homeLease(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", false, nil
	case err != nil:
		return "", false, err
	case l.Spec.HolderIdentity == nil || l.Spec.RenewTime == nil:
		return "", false, nil
	}
	return *l.Spec.HolderIdentity, time.Since(l.Spec.RenewTime.Time) < sl.set.opts.LeaseDuration, nil
}
