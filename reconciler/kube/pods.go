package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ringops/ringops/internal/contract"
)

// ClusterSelector selects every pod of a Cassandra cluster (the label
// ringops.dev/cluster of the pod contract, see render/doc.go).
func ClusterSelector(cluster string) labels.Selector {
	return labels.SelectorFromSet(labels.Set{contract.LabelCluster: cluster})
}

// ListPods lists the pods matching selector in namespace, in every context
// at once. The result is keyed by context, each list sorted by name. A
// context that fails is missing from the result and named in the error;
// the others are still returned.
func (c *Clients) ListPods(ctx context.Context, namespace string, selector labels.Selector) (map[string][]corev1.Pod, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  = map[string][]corev1.Pod{}
		errs []error
	)
	for _, name := range c.contexts {
		wg.Go(func() {
			pods, err := c.listPods(ctx, name, namespace, selector)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[name] = pods
		})
	}
	wg.Wait()
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return out, errors.Join(errs...)
}

func (c *Clients) listPods(ctx context.Context, kctx, namespace string, selector labels.Selector) ([]corev1.Pod, error) {
	list, err := c.sets[kctx].CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, fmt.Errorf("context %s: list pods in %s: %w", kctx, namespace, err)
	}
	pods := list.Items
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods, nil
}
