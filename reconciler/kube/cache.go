package kube

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/ringops/ringops/internal/contract"
)

// The watch-fed caches (#18, ManagerOptions.Watch): the daemon observes
// its clusters from them instead of listing every kind of every cluster
// in every region at each observation.
//
// One informer per context and kind, of every namespace when ringops may
// list and watch the kind there, else per namespace too (the chart grants
// a Role per Cassandra namespace: caches.scope), made at the first
// observation that needs it, filtered by the API server on
// app.kubernetes.io/managed-by=ringops (the kinds of ObservedKinds and a
// region's extra kinds, pods and PersistentVolumeClaims: everything
// ringops renders carries the label, and the pods and claims of its
// StatefulSets take it from their templates), without managedFields, and
// indexed by the cluster label. An event wakes the waits of its cluster
// (Manager.Changes).
//
// A cache is read only when it can be trusted; otherwise that context is
// listed as without caches, which fails as it always did when the API
// server is away (the planner then holds the disruptive steps):
//
//   - it has synced (its first list);
//   - its watch stream is open (watched.track): an API server gone ends
//     it, and the reflector's retries fail until the server is back; the
//     watch then resumes from where it was (or lists once, if that is
//     too old), and the cache is read again;
//   - it holds every object ringops wrote through the Manager at the
//     resourceVersion the write's answer carried, or a later one
//     (trackWrites), and every object ringops deleted is gone
//     from it or marked for deletion. A write not seen within
//     cacheCatchUp is read by a list instead: no decision is taken on a
//     cache older than ringops' own last step.

// cacheCatchUp bounds how long an observation waits for a cache to see
// ringops' own last write before it lists instead.
const cacheCatchUp = 2 * time.Second

// neverSeen is how long a write may stay unseen before it no longer keeps
// its cache unread: an object a cache never shows (without ringops'
// label) is listed around for that long, not forever.
const neverSeen = time.Minute

// syncWait bounds how long an observation waits for a new cache's first
// list before it lists on its own.
const syncWait = 15 * time.Second

// indexCluster indexes cached objects by "<namespace>/<cluster label>".
const indexCluster = "cluster"

// caches are a Manager's informers, in every context.
type caches struct {
	stop    chan struct{}
	stopped sync.Once
	log     *slog.Logger
	timeout time.Duration // ManagerOptions.RequestTimeout: bounds scope's questions

	mu      sync.Mutex
	byKey   map[cacheKey]*watched
	wide    map[cacheKey]*decision   // by context and kind: scope
	subs    map[string]chan struct{} // by "<namespace>/<cluster>": Changes
	written map[cacheKey]*writes     // what ringops wrote, cache or not yet
}

// cacheKey is one informer's: a context, a namespace ("" for a kind
// without namespace) and a resource.
type cacheKey struct {
	context, namespace string
	gvr                schema.GroupVersionResource
}

func (k cacheKey) String() string {
	r := k.gvr.Resource
	if k.gvr.Group != "" {
		r += "." + k.gvr.Group
	}
	if k.namespace == "" {
		return "context " + k.context + ": " + r
	}
	return "context " + k.context + ": " + r + " in " + k.namespace
}

// writes are ringops' writes to one cacheKey not yet seen in its cache:
// the resourceVersion answered for each object written, and the objects
// deleted (by UID), by store key ("<namespace>/<name>", or "<name>"). An
// informer's own resourceVersion is not enough: the reflector moves it as
// an event arrives, before the event reaches the store.
type writes struct {
	objs    map[string]pending // store key -> the write
	deleted map[string]string  // uid -> store key
}

// pending is a write not seen yet: the resourceVersion answered, and when.
type pending struct {
	rv uint64
	at time.Time
}

// decision is scope's, for one context and kind.
type decision struct {
	once  sync.Once
	known bool // decided (c.mu): wrote then records for that informer only
	wide  bool
}

// watched is one informer and what makes its cache trustworthy: its
// watch is open. The reflector retries a watch that fails to connect
// (an API server away) without telling anyone, so the informer's own
// watch function says: open while a watch stream runs, not between one
// that ended and the next that starts (lastErr says why, if it failed).
type watched struct {
	key cacheKey
	inf cache.SharedIndexInformer

	mu      sync.Mutex
	open    int   // watch streams running (0 or 1)
	lastErr error // the last watch that could not start
}

func newCaches(log *slog.Logger, timeout time.Duration) *caches {
	return &caches{stop: make(chan struct{}), log: log, timeout: timeout, byKey: map[cacheKey]*watched{}, wide: map[cacheKey]*decision{},
		subs: map[string]chan struct{}{}, written: map[cacheKey]*writes{}}
}

func (c *caches) close() { c.stopped.Do(func() { close(c.stop) }) }

// changes is the channel Manager.Changes returns for a cluster.
func (c *caches) changes(namespace, cluster string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := namespace + "/" + cluster
	ch, ok := c.subs[k]
	if !ok {
		ch = make(chan struct{}, 1)
		c.subs[k] = ch
	}
	return ch
}

// notify wakes the waits of the cluster of obj.
func (c *caches) notify(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return
	}
	cluster := m.GetLabels()[contract.LabelCluster]
	if cluster == "" {
		return
	}
	c.mu.Lock()
	ch := c.subs[m.GetNamespace()+"/"+cluster]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// wrote records a write's answer (trackWrites) for the informer that
// holds the object (scope): the one of its namespace or the one of every
// namespace, both while scope has not decided yet.
func (c *caches) wrote(key cacheKey, rv, uid, name string, deleted bool) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil && !deleted {
		return // not comparable: the caches are not held to it
	}
	storeKey := name
	if key.namespace != "" {
		storeKey = key.namespace + "/" + name
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := []cacheKey{key}
	if key.namespace != "" {
		wide := cacheKey{context: key.context, gvr: key.gvr}
		switch d := c.wide[wide]; {
		case d == nil || !d.known: // either informer may read it
			keys = append(keys, wide)
		case d.wide:
			keys = []cacheKey{wide}
		}
	}
	for _, k := range keys {
		w := c.written[k]
		if w == nil {
			w = &writes{}
			c.written[k] = w
		}
		switch {
		case deleted && uid != "":
			if w.deleted == nil {
				w.deleted = map[string]string{}
			}
			w.deleted[uid] = storeKey
			delete(w.objs, storeKey)
		case !deleted:
			if w.objs == nil {
				w.objs = map[string]pending{}
			}
			w.objs[storeKey] = pending{rv: max(w.objs[storeKey].rv, n), at: time.Now()}
		}
	}
}

// scope is the key of the informer that holds key's objects: the one of
// every namespace of its context when ringops may list and watch its
// kind there (one informer per kind, however many namespaces the
// clusters use), else the namespace's own (a Role per namespace, as the
// chart grants). Decided once per context and kind, by asking the API
// server (SelfSubjectAccessReview).
func (c *caches) scope(ctx context.Context, cc *contextClient, key cacheKey) cacheKey {
	if key.namespace == "" {
		return key
	}
	sk := cacheKey{context: key.context, gvr: key.gvr}
	c.mu.Lock()
	d, ok := c.wide[sk]
	if !ok {
		d = &decision{}
		c.wide[sk] = d
	}
	c.mu.Unlock()
	d.once.Do(func() { // asked once, by the first
		wide := cc.mayWatchEverywhere(ctx, key.gvr, c.timeout, c.log)
		c.mu.Lock()
		d.known, d.wide = true, wide
		c.mu.Unlock()
	})
	wide := d.wide
	if wide {
		return sk
	}
	return key
}

// informer returns the informer of key, made and started at its first
// use.
func (c *caches) informer(cc *contextClient, key cacheKey) *watched {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.byKey[key]; ok {
		return w
	}
	w := &watched{key: key}
	ri := cc.dyn.Resource(key.gvr).Namespace(key.namespace)
	selector := labels.SelectorFromSet(labels.Set{contract.LabelManagedBy: contract.ManagedBy}).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return ri.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			wi, err := ri.Watch(ctx, o)
			if err != nil {
				w.mu.Lock()
				w.lastErr = err
				w.mu.Unlock()
				c.log.Debug("watch failed: the cache is listed around until it is open again", "cache", key.String(), "err", err)
				return nil, err
			}
			return w.track(wi), nil
		},
	}
	w.inf = cache.NewSharedIndexInformerWithOptions(lw, &unstructured.Unstructured{}, cache.SharedIndexInformerOptions{
		Indexers: cache.Indexers{indexCluster: byCluster}, ObjectDescription: key.String()})
	_ = w.inf.SetTransform(transformFor(key.gvr))
	_, _ = w.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.notify,
		UpdateFunc: func(_, obj any) { c.notify(obj) },
		DeleteFunc: c.notify,
	})
	c.byKey[key] = w
	go w.inf.Run(c.stop)
	return w
}

// byCluster is the index function of indexCluster.
func byCluster(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	cluster := m.GetLabels()[contract.LabelCluster]
	if cluster == "" {
		return nil, nil
	}
	return []string{m.GetNamespace() + "/" + cluster}, nil
}

// transformFor drops managedFields before an object is cached (nobody
// reads them, and they are most of its bytes) and turns pods and claims
// into their types once, rather than at each observation.
func transformFor(gvr schema.GroupVersionResource) cache.TransformFunc {
	return func(obj any) (any, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil // a DeletedFinalStateUnknown, already transformed
		}
		u.SetManagedFields(nil)
		switch gvr {
		case podsResource:
			var p corev1.Pod
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p); err != nil {
				return nil, fmt.Errorf("pod %s/%s: %w", u.GetNamespace(), u.GetName(), err)
			}
			return &p, nil
		case claimsResource:
			var p corev1.PersistentVolumeClaim
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &p); err != nil {
				return nil, fmt.Errorf("claim %s/%s: %w", u.GetNamespace(), u.GetName(), err)
			}
			return &p, nil
		}
		return u, nil
	}
}

// trusted reports why the cache of w cannot be read now ("" when it can):
// not synced, stale, or behind ringops' own writes. It waits up to
// cacheCatchUp for the last two to pass.
func (c *caches) trusted(ctx context.Context, w *watched, wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		why := c.untrusted(w)
		if why == "" || !time.Now().Before(deadline) {
			return why
		}
		select {
		case <-ctx.Done():
			return ctx.Err().Error()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (c *caches) untrusted(w *watched) string {
	if !w.inf.HasSynced() {
		return "not synced yet"
	}
	w.mu.Lock()
	open, lastErr := w.open > 0, w.lastErr
	w.mu.Unlock()
	switch {
	case !open && lastErr != nil:
		return "its watch is not open: " + lastErr.Error()
	case !open:
		return "its watch is not open"
	}
	c.mu.Lock()
	objs, deleted := map[string]pending{}, map[string]string{}
	if wr := c.written[w.key]; wr != nil {
		maps.Copy(objs, wr.objs)
		maps.Copy(deleted, wr.deleted)
	}
	c.mu.Unlock()
	for key, p := range objs {
		if !holds(w, key, p.rv) && time.Since(p.at) < neverSeen {
			return fmt.Sprintf("it has not seen ringops' write of %s (resourceVersion %d)", key, p.rv)
		}
		c.seen(w.key, func(wr *writes) {
			if wr.objs[key] == p {
				delete(wr.objs, key)
			}
		})
	}
	for uid, key := range deleted {
		if present(w, key, uid) {
			return "it still holds " + key + ", deleted by ringops"
		}
		c.seen(w.key, func(wr *writes) { delete(wr.deleted, uid) })
	}
	return ""
}

// seen updates the writes of key (c.mu taken).
func (c *caches) seen(key cacheKey, f func(*writes)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if wr := c.written[key]; wr != nil {
		f(wr)
	}
}

// holds: the cache holds the object of store key key at resourceVersion
// rv or a later one.
func holds(w *watched, key string, rv uint64) bool {
	m := cached(w, key)
	if m == nil {
		return false
	}
	n, err := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
	return err == nil && n >= rv
}

// present: the cache holds the object of store key key with uid, not
// marked for deletion.
func present(w *watched, key, uid string) bool {
	m := cached(w, key)
	return m != nil && string(m.GetUID()) == uid && m.GetDeletionTimestamp() == nil
}

// cached is the object of store key key in w's cache, nil if none.
func cached(w *watched, key string) metav1.Object {
	obj, ok, err := w.inf.GetIndexer().GetByKey(key)
	if err != nil || !ok {
		return nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	return m
}

// read is one context's observation of q from the caches; ok is false
// (with why) when a cache cannot be trusted, and the caller lists.
func (c *caches) read(ctx context.Context, cc *contextClient, q Query, wait time.Duration) (obs *Observation, why string, err error) {
	kinds := kindsOf(q)
	objKeys := make([]cacheKey, 0, len(kinds))
	for _, gvk := range kinds {
		gvr, namespaced, err := cc.gvr(gvk)
		if err != nil {
			return nil, "", fmt.Errorf("context %s: list %s: %w", cc.name, gvk.Kind, err)
		}
		ns := q.Namespace
		if !namespaced {
			ns = ""
		}
		objKeys = append(objKeys, cacheKey{context: cc.name, namespace: ns, gvr: gvr})
	}
	keys := append(slices.Clone(objKeys),
		cacheKey{context: cc.name, namespace: q.Namespace, gvr: podsResource},
		cacheKey{context: cc.name, namespace: q.Namespace, gvr: claimsResource})
	ws := make([]*watched, len(keys))
	for i, k := range keys {
		ws[i] = c.informer(cc, c.scope(ctx, cc, k))
	}
	for _, w := range ws {
		if !w.inf.HasSynced() { // its first list: worth waiting for rather than listing beside it
			sctx, cancel := context.WithTimeout(ctx, syncWait)
			cache.WaitForCacheSync(sctx.Done(), w.inf.HasSynced)
			cancel()
		}
		if why := c.trusted(ctx, w, wait); why != "" {
			return nil, w.key.String() + ": " + why, nil
		}
	}
	index := q.Namespace + "/" + q.Cluster
	sel := ObjectSelector(q.Cluster)
	obs = &Observation{}
	for i, gvk := range kinds {
		items, err := ws[i].inf.GetIndexer().ByIndex(indexCluster, index)
		if err != nil {
			return nil, "", err
		}
		for _, it := range items {
			u, ok := it.(*unstructured.Unstructured)
			if !ok || !sel.Matches(labels.Set(u.GetLabels())) {
				continue
			}
			u = u.DeepCopy()
			u.SetGroupVersionKind(gvk)
			obs.Objects = append(obs.Objects, u)
		}
	}
	sortObjects(obs.Objects)
	pods, err := ws[len(kinds)].inf.GetIndexer().ByIndex(indexCluster, index)
	if err != nil {
		return nil, "", err
	}
	for _, it := range pods {
		if p, ok := it.(*corev1.Pod); ok {
			obs.Pods = append(obs.Pods, *p.DeepCopy())
		}
	}
	claims, err := ws[len(kinds)+1].inf.GetIndexer().ByIndex(indexCluster, index)
	if err != nil {
		return nil, "", err
	}
	for _, it := range claims {
		if p, ok := it.(*corev1.PersistentVolumeClaim); ok {
			obs.PVCs = append(obs.PVCs, *p.DeepCopy())
		}
	}
	sortPodsAndClaims(obs.Pods, obs.PVCs)
	return obs, "", nil
}

// track counts w's watch stream as open until it ends (or is stopped).
func (w *watched) track(in watch.Interface) watch.Interface {
	t := &trackedWatch{in: in, out: make(chan watch.Event), stop: make(chan struct{})}
	w.mu.Lock()
	w.open++
	w.lastErr = nil
	w.mu.Unlock()
	go func() {
		defer func() {
			w.mu.Lock()
			w.open--
			w.mu.Unlock()
			close(t.out)
		}()
		for {
			select {
			case ev, ok := <-in.ResultChan():
				if !ok {
					return
				}
				select {
				case t.out <- ev:
				case <-t.stop:
					return
				}
			case <-t.stop:
				return
			}
		}
	}()
	return t
}

// trackedWatch forwards a watch's events, so that its end is seen.
type trackedWatch struct {
	in       watch.Interface
	out      chan watch.Event
	stop     chan struct{}
	stopOnce sync.Once
}

func (t *trackedWatch) Stop() {
	t.stopOnce.Do(func() { close(t.stop) })
	t.in.Stop()
}

func (t *trackedWatch) ResultChan() <-chan watch.Event { return t.out }
