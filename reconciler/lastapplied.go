package reconciler

import (
	"context"
	"fmt"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// recordedSpecs are the specs a revision's change is validated against
// besides Source.Previous: every distinct one the clusters recorded as
// last applied
// (contract.AnnotationLastApplied on the ConfigMap <cluster>-config) in the
// contexts of the target that can be read. The clusters' records are what
// a restarted daemon, or `ringops apply` without --previous, would
// otherwise forget (DESIGN rule 8). A record that cannot be read is an
// error: the change cannot be judged.
func (e *Engine) recordedSpecs(ctx context.Context, src Source, contexts []string) ([]*schemas.CassandraCluster, error) {
	var out []*schemas.CassandraCluster
	seen := map[string]bool{}
	if src.Previous != nil {
		seen[schemas.EncodeLastApplied(src.Previous)] = true // judged already
	}
	c := src.Cluster
	obs := e.kube.Observe(ctx, kube.Query{Cluster: c.Metadata.Name, Namespace: c.Metadata.Namespace, Contexts: contexts})
	for _, kc := range contexts {
		o := obs[kc]
		if o == nil || o.Err != nil {
			continue // unreachable: its record is read when a later revision is prepared
		}
		for _, u := range o.Objects {
			if u.GetKind() != "ConfigMap" || u.GetName() != render.ConfigMapName(c.Metadata.Name) {
				continue
			}
			rec, ok := u.GetAnnotations()[contract.AnnotationLastApplied]
			if !ok || seen[rec] {
				continue
			}
			seen[rec] = true
			prev, err := schemas.DecodeLastApplied(rec)
			if err != nil {
				return nil, fmt.Errorf("context %s: configmap %s/%s: annotation %s: %w", kc, u.GetNamespace(), u.GetName(), contract.AnnotationLastApplied, err)
			}
			out = append(out, prev)
		}
	}
	return out, nil
}
