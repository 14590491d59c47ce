package review

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/ringops/ringops/reconciler/plan/sim"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// SpecFile is the name of a cluster's spec in its directory.
const SpecFile = schemas.SpecFile

// Tree is one side of a change: the repository at one revision.
type Tree struct {
	Revision Revision
	// FS holds the repository's files, slash paths from its root (a
	// sources/git snapshot, os.DirFS, fstest.MapFS...); nil is an empty
	// repository.
	FS fs.FS
}

// Renderer renders a cluster in one kube context; *render.Renderer is one.
type Renderer interface {
	Render(ctx context.Context, fsys fs.FS, clusterDir string, c *schemas.CassandraCluster, kubeContext string) (*render.Manifests, error)
}

var _ Renderer = (*render.Renderer)(nil)

// Options tune Compare. Zero fields take the value of DefaultOptions.
type Options struct {
	// Root is the slash path of the directory, in the repository, below
	// which clusters (directories holding a cluster.yaml) are looked for.
	Root string
	// Renderer renders the clusters whose files changed (the others are
	// only parsed). nil: render.New(render.DefaultOptions()).
	Renderer Renderer
	// Now is when change windows are evaluated. Zero: time.Now().
	Now time.Time
	// ContextLines is the number of context lines around each change of
	// a manifest diff; negative means none.
	ContextLines int
	// ManageKeyspaces: the clusters are rolled out with --manage-keyspaces,
	// and the replay of the planner changes replication, rebuilds new
	// datacenters and cleans up after lower factors as ringops then does;
	// false, replication is left alone, as ringops leaves it.
	ManageKeyspaces bool
	// Planner is the planner whose steps are described; nil: plan.Next,
	// the one ringops applies with.
	Planner sim.Planner
}

// DefaultOptions: the whole repository, a fresh renderer, the current
// time, 3 lines of context.
func DefaultOptions() Options { return Options{Root: ".", ContextLines: 3} }

func (o Options) withDefaults() Options {
	if o.Root == "" {
		o.Root = "."
	}
	if o.Renderer == nil {
		o.Renderer = render.New(render.DefaultOptions())
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	switch {
	case o.ContextLines == 0:
		o.ContextLines = 3
	case o.ContextLines < 0:
		o.ContextLines = 0
	}
	return o
}

// Compare plans the change from base to head: every cluster below
// opts.Root whose files differ is loaded on both sides, its head
// validated, its change validated (schemas.ValidateChange), both sides
// rendered in every region, and the difference described as operations
// and manifest diffs. A cluster whose files are the same on both sides is
// only parsed (an invalid spec is still reported), never rendered.
//
// Problems of the specs and Components are part of the Document (Refused,
// Outcome Invalid); the error is for what is not the repository's fault:
// ctx cancelled, a tree that cannot be read.
func Compare(ctx context.Context, base, head Tree, opts Options) (*Document, error) {
	opts = opts.withDefaults()
	if !fs.ValidPath(opts.Root) {
		return nil, fmt.Errorf("root %q: not a slash path inside the repository", opts.Root)
	}
	c := &comparer{opts: opts, base: base.FS, head: head.FS}
	doc := &Document{APIVersion: APIVersion, Kind: Kind, Base: base.Revision, Head: head.Revision, Now: opts.Now.UTC()}
	if err := c.run(ctx, doc); err != nil {
		return nil, err
	}
	finish(doc)
	return doc, nil
}

// comparer holds what one Compare works with.
type comparer struct {
	opts       Options
	base, head fs.FS
}

func (c *comparer) run(ctx context.Context, doc *Document) error {
	baseDirs, err := findClusters(c.base, c.opts.Root)
	if err != nil {
		return fmt.Errorf("base %s: %w", doc.Base, err)
	}
	headDirs, err := findClusters(c.head, c.opts.Root)
	if err != nil {
		return fmt.Errorf("head %s: %w", doc.Head, err)
	}
	pairs, err := c.pair(baseDirs, headDirs)
	if err != nil {
		return err
	}
	dups := duplicates(c.head, headDirs)
	for _, p := range pairs {
		if err := ctx.Err(); err != nil {
			return err
		}
		cl, err := c.cluster(ctx, p)
		if err != nil {
			return err
		}
		if problems := dups[p.headDir]; len(problems) > 0 {
			cl = refuseDuplicate(cl, c.head, p.headDir, problems)
		}
		if cl == nil {
			doc.Unchanged++
			continue
		}
		doc.Clusters = append(doc.Clusters, *cl)
	}
	slices.SortFunc(doc.Clusters, func(a, b Cluster) int { return strings.Compare(a.Dir, b.Dir) })
	return nil
}

// pair is one cluster's directory on each side ("" where it is absent).
type pair struct{ baseDir, headDir string }

// pair matches directories by path; a directory only at base and one only
// at head holding the same cluster (name and namespace) are a move.
func (c *comparer) pair(baseDirs, headDirs []string) ([]pair, error) {
	var out []pair
	var removed, added []string
	for _, d := range headDirs {
		if slices.Contains(baseDirs, d) {
			out = append(out, pair{d, d})
		} else {
			added = append(added, d)
		}
	}
	for _, d := range baseDirs {
		if !slices.Contains(headDirs, d) {
			removed = append(removed, d)
		}
	}
	moved := map[string]string{} // base dir -> head dir
	for _, a := range added {
		id := identity(c.head, a)
		for _, r := range removed {
			if _, taken := moved[r]; !taken && id != "" && identity(c.base, r) == id {
				moved[r] = a
				break
			}
		}
	}
	for _, r := range removed {
		out = append(out, pair{r, moved[r]})
	}
	for _, a := range added {
		if !slices.Contains(mapValues(moved), a) {
			out = append(out, pair{"", a})
		}
	}
	return out, nil
}

// identity is "namespace/name" of the cluster in dir, "" when its spec
// does not load.
func identity(fsys fs.FS, dir string) string {
	spec, problems := loadSpec(fsys, dir)
	if len(problems) > 0 {
		return ""
	}
	return spec.Metadata.Namespace + "/" + spec.Metadata.Name
}

// cluster compares one pair; nil when nothing a user would notice changes.
func (c *comparer) cluster(ctx context.Context, p pair) (*Cluster, error) {
	if p.baseDir == p.headDir {
		same, err := sameFiles(c.base, c.head, p.headDir)
		if err != nil {
			return nil, err
		}
		if same {
			return c.unmodified(p.headDir), nil
		}
	}
	return c.changed(ctx, p)
}

// unmodified parses a cluster whose files did not change: nil if it is
// valid, else its problems.
func (c *comparer) unmodified(dir string) *Cluster {
	spec, problems := loadSpec(c.head, dir)
	if len(problems) == 0 {
		return nil
	}
	return &Cluster{Name: nameOf(spec, dir), Dir: dir, Change: Unmodified, Refused: problems,
		Notes: []string{"this cluster's files are the same at base: it was already invalid"}}
}

// duplicates are the problems of the head's directories that declare the
// same ring as another (schemas.Duplicates), by directory.
func duplicates(fsys fs.FS, dirs []string) map[string][]Problem {
	var specs []*schemas.CassandraCluster
	dirOf := map[string]string{} // spec file -> directory
	for _, d := range dirs {
		if spec, problems := loadSpec(fsys, d); len(problems) == 0 {
			specs = append(specs, spec)
			dirOf[spec.File()] = d
		}
	}
	out := map[string][]Problem{}
	for _, fe := range schemas.Duplicates(specs) {
		d := dirOf[fe.File]
		out[d] = append(out[d], Problem{File: fe.File, Line: fe.Line, Field: fe.Field, Message: fe.Message})
	}
	return out
}

// refuseDuplicate refuses a cluster that declares the same ring as
// another directory: nothing of it is applied, even if its own files did
// not change.
func refuseDuplicate(cl *Cluster, fsys fs.FS, dir string, problems []Problem) *Cluster {
	if cl == nil {
		spec, _ := loadSpec(fsys, dir)
		cl = &Cluster{Name: nameOf(spec, dir), Dir: dir, Change: Unmodified}
	}
	cl.Refused = append(cl.Refused, problems...)
	cl.Operations, cl.Contexts = nil, nil
	return cl
}

// findClusters lists the directories below root holding a cluster.yaml
// (schemas.FindClusters).
func findClusters(fsys fs.FS, root string) ([]string, error) {
	return schemas.FindClusters(fsys, root)
}

// sameFiles reports whether dir holds the same files with the same
// content (symlinks followed) on both sides.
func sameFiles(a, b fs.FS, dir string) (bool, error) {
	fa, err := readTree(a, dir)
	if err != nil {
		return false, err
	}
	fb, err := readTree(b, dir)
	if err != nil {
		return false, err
	}
	if len(fa) != len(fb) {
		return false, nil
	}
	for name, data := range fa {
		other, ok := fb[name]
		if !ok || other != data {
			return false, nil
		}
	}
	return true, nil
}

// readTree reads every file below dir; a file that cannot be read (a
// broken symlink) is recorded with its error, so that a fixed link counts
// as a change.
func readTree(fsys fs.FS, dir string) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			out[p] = "\x00error: " + err.Error()
			return nil
		}
		out[p] = string(data)
		return nil
	})
	return out, err
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
