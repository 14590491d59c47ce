package render

import (
	"context"
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Paths of the in-memory overlay.
const (
	overlayRoot = "/"
	baseDir     = "/base"
	baseFile    = "objects.yaml"
	// componentDir holds the region's Component in the overlay: a fixed
	// name, as kustomize's in-memory filesystem refuses directory names
	// a kube context may have ("admin@prod").
	componentDir = "/ringops-region"
	topKustomize = "kustomization.yaml"
)

// krustyLock serialises every kustomize build of the process: kustomize
// keeps global state (the OpenAPI schema) and is not safe for concurrent
// builds (kubernetes-sigs/kustomize#3659; Flux's SecureBuild does the same).
// A channel rather than a mutex, so that a waiting render can be cancelled.
var krustyLock = make(chan struct{}, 1)

// krustyOptions: no plugins (hence no exec or container functions), no
// Helm, loads confined to each kustomization's root, input order kept.
func krustyOptions() *krusty.Options {
	return &krusty.Options{
		Reorder:          krusty.ReorderOptionNone,
		LoadRestrictions: types.LoadRestrictionsRootOnly,
		PluginConfig:     types.DisabledPluginConfig(),
	}
}

// overlay builds the in-memory filesystem kustomize runs on:
//
//	/kustomization.yaml      resources: [base], components: [region]
//	/base/kustomization.yaml resources: [objects.yaml]
//	/base/objects.yaml       the generated objects
//	/ringops-region/...      the region's Component (clusters/<name>/regions/<context>/), when there is one
func overlay(baseYAML []byte, comp *component) (filesys.FileSystem, error) {
	fsys := filesys.MakeFsInMemory()
	top := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- base\n"
	if comp != nil {
		top += "components:\n- " + strings.TrimPrefix(componentDir, "/") + "\n"
	}
	files := map[string][]byte{
		path.Join(overlayRoot, topKustomize): []byte(top),
		path.Join(baseDir, topKustomize):     []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- " + baseFile + "\n"),
		path.Join(baseDir, baseFile):         baseYAML,
	}
	if comp != nil {
		for rel, data := range comp.files {
			files[path.Join(componentDir, rel)] = data
		}
	}
	for p, data := range files {
		if err := fsys.WriteFile(p, data); err != nil {
			return nil, fmt.Errorf("in-memory overlay: %s: %w", p, err)
		}
	}
	return fsys, nil
}

// kustomize builds the overlay at / under the process-wide lock, until
// ctx ends. A panic inside kustomize becomes an error. kustomize cannot be
// stopped: a build still running when ctx ends goes on in the background,
// holding the lock, and its result is dropped.
func kustomize(ctx context.Context, fsys filesys.FileSystem) (resmap.ResMap, error) {
	select {
	case krustyLock <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	type result struct {
		m   resmap.ResMap
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() { <-krustyLock }()
		var r result
		defer func() { done <- r }()
		defer func() {
			if p := recover(); p != nil {
				r.err = fmt.Errorf("%w: kustomize panicked: %v", ErrBuild, p)
			}
		}()
		r.m, r.err = krusty.MakeKustomizer(krustyOptions()).Run(fsys, overlayRoot)
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// rewrittenError is kustomize's error with the paths of the in-memory
// overlay replaced by the repository's.
type rewrittenError struct {
	msg string
	err error
}

func (e *rewrittenError) Error() string { return e.msg }
func (e *rewrittenError) Unwrap() error { return e.err }

// buildError wraps a failed build of a Component in ErrBuild, naming the
// repository's files rather than the overlay's.
func buildError(err error, comp *component) error {
	msg := strings.ReplaceAll(err.Error(), componentDir, comp.dir)
	return fmt.Errorf("%w: %w", ErrBuild, &rewrittenError{msg: msg, err: err})
}
