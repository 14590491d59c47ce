package casskop

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing/fstest"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// Verify checks files (a Result's) as ringops validate checks a
// repository: every cluster.yaml loaded (parsed, defaulted, validated),
// every region of each rendered with its Component. It returns every
// error, joined.
func Verify(ctx context.Context, files map[string][]byte) error {
	fsys := fstest.MapFS{}
	for p, b := range files {
		fsys[p] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	dirs, err := schemas.FindClusters(fsys, ".")
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return errors.New("no cluster.yaml written")
	}
	r := render.New(render.DefaultOptions())
	var errs []error
	for _, d := range dirs {
		c, err := schemas.LoadFS(fsys, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, kc := range c.Contexts() {
			if _, err := fs.Stat(fsys, render.RegionDir(d, kc)+"/kustomization.yaml"); err != nil {
				errs = append(errs, fmt.Errorf("%s: no Component for region %s: %w", d, kc, err))
				continue
			}
			if _, err := r.Render(ctx, fsys, d, c, kc); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
