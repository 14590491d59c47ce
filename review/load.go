package review

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// loadSpec reads and parses dir/cluster.yaml (schemas.LoadFS): the
// defaulted, valid spec, or why not.
func loadSpec(fsys fs.FS, dir string) (*schemas.CassandraCluster, []Problem) {
	spec, err := schemas.LoadFS(fsys, dir)
	if err != nil {
		return nil, problemsOf(err)
	}
	return spec, nil
}

// renderAll renders every context of spec; the first error is returned as
// a Problem.
func renderAll(ctx context.Context, r Renderer, fsys fs.FS, dir string, spec *schemas.CassandraCluster) (map[string]*render.Manifests, []Problem, error) {
	out := map[string]*render.Manifests{}
	for _, kc := range spec.Contexts() {
		m, err := r.Render(ctx, fsys, dir, spec, kc)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err != nil {
			return nil, []Problem{renderProblem(kc, err)}, nil
		}
		out[kc] = m
	}
	return out, nil, nil
}

// renderProblem locates a render error in its file when it has one.
func renderProblem(kc string, err error) Problem {
	var fe *render.FileError
	if errors.As(err, &fe) {
		return Problem{File: fe.Path, Field: fe.Field, Message: "context " + kc + ": " + fe.Err.Error()}
	}
	msg := err.Error()
	if i := strings.Index(msg, ": context "+kc+": "); i >= 0 { // "cluster x: context y: ..."
		msg = msg[i+2:]
	}
	return Problem{Message: msg}
}

// problemsOf converts a schemas.ErrorList (or any error) to Problems.
func problemsOf(err error) []Problem {
	if err == nil {
		return nil
	}
	list, ok := schemas.AsErrorList(err)
	if !ok {
		return []Problem{{Message: err.Error()}}
	}
	out := make([]Problem, len(list))
	for i, fe := range list {
		out[i] = Problem{File: fe.File, Line: fe.Line, Field: fe.Field, Message: fe.Message}
	}
	return out
}

// nameOf is the cluster's name, or its directory's base name.
func nameOf(spec *schemas.CassandraCluster, dir string) string {
	if spec != nil {
		return spec.Metadata.Name
	}
	return path.Base(dir)
}
