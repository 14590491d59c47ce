package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// ListStatefulSets lists the StatefulSets matching selector in namespace,
// in every context at once, as the objects Observe returns (unstructured,
// apps/v1 StatefulSet): what plan.Members reads the live racks from. The
// result is keyed by context, each list sorted by name. A context that
// fails is missing from the result and named in the error; the others are
// still returned.
func (c *Clients) ListStatefulSets(ctx context.Context, namespace string, selector labels.Selector) (map[string][]*unstructured.Unstructured, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  = map[string][]*unstructured.Unstructured{}
		errs []error
	)
	for _, name := range c.contexts {
		wg.Go(func() {
			sets, err := c.listStatefulSets(ctx, name, namespace, selector)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[name] = sets
		})
	}
	wg.Wait()
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return out, errors.Join(errs...)
}

func (c *Clients) listStatefulSets(ctx context.Context, kctx, namespace string, selector labels.Selector) ([]*unstructured.Unstructured, error) {
	list, err := c.sets[kctx].AppsV1().StatefulSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, fmt.Errorf("context %s: list statefulsets in %s: %w", kctx, namespace, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	out := make([]*unstructured.Unstructured, 0, len(list.Items))
	for i := range list.Items {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&list.Items[i])
		if err != nil {
			return nil, fmt.Errorf("context %s: statefulset %s/%s: %w", kctx, namespace, list.Items[i].Name, err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(appsv1.SchemeGroupVersion.WithKind("StatefulSet"))
		out = append(out, u)
	}
	return out, nil
}
