package review

import (
	"context"
	"fmt"

	"github.com/ringops/ringops/reconciler/plan/replay"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// side is one cluster at one revision: its spec and renders by context.
type side struct {
	dir       string
	spec      *schemas.CassandraCluster
	manifests map[string]*render.Manifests
}

// changed compares a cluster whose files differ (or that exists on one
// side only); nil when its rendered objects are the same on both sides.
func (c *comparer) changed(ctx context.Context, p pair) (*Cluster, error) {
	if p.headDir == "" {
		return c.removed(p.baseDir), nil
	}
	cl := &Cluster{Dir: p.headDir, Change: Modified}
	switch {
	case p.baseDir == "":
		cl.Change = Added
	case p.baseDir != p.headDir:
		cl.Change, cl.BaseDir = Moved, p.baseDir
		cl.Notes = append(cl.Notes, fmt.Sprintf("moved from %s to %s: the same cluster (name and namespace), compared with its former directory", p.baseDir, p.headDir))
	}
	headSpec, problems := loadSpec(c.head, p.headDir)
	cl.Name = nameOf(headSpec, p.headDir)
	if len(problems) > 0 {
		cl.Refused = problems
		return cl, nil
	}
	var base *side
	if p.baseDir != "" {
		base = c.loadBase(ctx, p.baseDir, cl)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if base != nil {
		cl.Refused = append(cl.Refused, problemsOf(schemas.ValidateChange(base.spec, headSpec).Err())...)
		for _, w := range schemas.ChangeWarnings(base.spec, headSpec) {
			cl.Notes = append(cl.Notes, w.Error())
		}
	}
	var baseSpec *schemas.CassandraCluster
	if base != nil {
		baseSpec = base.spec
	}
	cl.Notes = append(cl.Notes, cqlAuthNotes(baseSpec, headSpec)...)
	head := &side{dir: p.headDir, spec: headSpec}
	var err error
	head.manifests, problems, err = renderAll(ctx, c.opts.Renderer, c.head, p.headDir, headSpec)
	if err != nil {
		return nil, err
	}
	cl.Refused = append(cl.Refused, problems...)
	if len(cl.Refused) > 0 {
		return cl, nil
	}
	ch := newChange(base, head, c.opts.Now, replay.Options{ManageKeyspaces: c.opts.ManageKeyspaces, Planner: c.opts.Planner})
	cl.Operations = ch.operations()
	cl.Contexts = ch.diffs(c.opts.ContextLines)
	if len(cl.Operations) == 0 && len(cl.Contexts) == 0 {
		return nil, nil
	}
	return cl, nil
}

// loadBase loads and renders the base side; nil (with a note on cl) when
// it does not load, the change then being described as from nothing.
func (c *comparer) loadBase(ctx context.Context, dir string, cl *Cluster) *side {
	spec, problems := loadSpec(c.base, dir)
	if len(problems) == 0 {
		manifests, renderProblems, err := renderAll(ctx, c.opts.Renderer, c.base, dir, spec)
		if err != nil { // ctx is done: the caller returns its error
			return nil
		}
		if len(renderProblems) == 0 {
			return &side{dir: dir, spec: spec, manifests: manifests}
		}
		problems = renderProblems
	}
	cl.Notes = append(cl.Notes, fmt.Sprintf("at base, this cluster does not load (%s); the operations below are derived as if the cluster were new: check what its regions hold with ringops diff",
		problems[0]))
	return nil
}

// removed is a cluster whose directory is gone at head.
func (c *comparer) removed(dir string) *Cluster {
	spec, _ := loadSpec(c.base, dir)
	cl := &Cluster{Name: nameOf(spec, dir), Dir: dir, Change: Removed}
	text := "cluster removed from the repository: ringops stops managing it and deletes nothing"
	if spec != nil {
		text += fmt.Sprintf("; its StatefulSets, pods and PVCs keep running, unmanaged, in %s. To retire it, first scale every datacenter to 0 (nodesPerRack: 0) and let that roll out",
			joinAnd(spec.Contexts()))
	}
	cl.Operations = []Operation{{Kind: ClusterRemoved, Text: text}}
	return cl
}
