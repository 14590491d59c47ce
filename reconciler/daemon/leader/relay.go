package leader

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// webhookLease is the Lease a standby touches to relay a webhook.
func (e *Election) webhookLease() string { return e.opts.Name + "-webhook" }

// Forward relays a verified push to the leader in the background (a
// standby received it); a failure is logged: the leader sees the push at
// its next poll anyway.
func (e *Election) Forward() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Relay(ctx); err != nil {
			e.log.Warn("cannot relay the webhook to the leader; it will see the push at its next poll", "err", err)
		}
	}()
}

// Relay records a verified push in the webhook Lease (its renewTime, now),
// creating the Lease if need be, for the leader to poll.
func (e *Election) Relay(ctx context.Context) error {
	leases := e.cs.CoordinationV1().Leases(e.opts.Namespace)
	now := metav1.NewMicroTime(time.Now())
	holder := e.opts.Identity
	l, err := leases.Get(ctx, e.webhookLease(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: e.webhookLease(), Namespace: e.opts.Namespace},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &now}}, metav1.CreateOptions{})
	} else if err == nil {
		l.Spec.HolderIdentity, l.Spec.RenewTime = &holder, &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("lease %s/%s: relay a webhook: %w", e.opts.Namespace, e.webhookLease(), err)
	}
	return nil
}

// watchWebhooks triggers src each time the webhook Lease's renewTime moves
// forward, until ctx ends.
func (e *Election) watchWebhooks(ctx context.Context, src Triggerer) {
	leases := e.cs.CoordinationV1().Leases(e.opts.Namespace)
	var last time.Time
	if l, err := leases.Get(ctx, e.webhookLease(), metav1.GetOptions{}); err == nil && l.Spec.RenewTime != nil {
		last = l.Spec.RenewTime.Time
	}
	for ctx.Err() == nil {
		w, err := leases.Watch(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("metadata.name", e.webhookLease()).String()})
		if err != nil {
			e.log.Debug("webhook lease watch", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		e.follow(ctx, w, &last, src)
	}
}

// follow reads one watch until it ends or ctx does.
func (e *Election) follow(ctx context.Context, w watch.Interface, last *time.Time, src Triggerer) {
	defer w.Stop()
	for {
		var ev watch.Event
		var ok bool
		select {
		case <-ctx.Done():
			return
		case ev, ok = <-w.ResultChan():
		}
		if !ok {
			return
		}
		l, isLease := ev.Object.(*coordinationv1.Lease)
		if !isLease || l.Name != e.webhookLease() || l.Spec.RenewTime == nil {
			continue
		}
		t := l.Spec.RenewTime.Time
		if t.After(*last) {
			e.log.Info("webhook relayed by the standby: polling now")
			src.Trigger()
		}
		*last = t
	}
}
