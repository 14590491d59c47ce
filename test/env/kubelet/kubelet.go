package kubelet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Kubelet is the simulated kubelet, scheduler and provisioner of one region.
type Kubelet struct {
	opts    Options
	client  kubernetes.Interface
	runtime Runtime
	dir     *Directory
	ips     *ipPool

	factory   informers.SharedInformerFactory
	pods      corelisters.PodLister
	claims    corelisters.PersistentVolumeClaimLister
	volumes   corelisters.PersistentVolumeLister
	nodes     corelisters.NodeLister
	nodeNames map[string]bool
	queue     workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex
	runners map[string]*runner   // by namespace/name
	faults  map[string]Fault     // by namespace/name
	assumed map[types.UID]string // bound pods not yet seen bound: node name

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Queue keys are "<kind>/<namespace>/<name>".
const (
	kindPod    = "pod"
	kindClaim  = "pvc"
	kindVolume = "pv"
)

// New returns a kubelet for one region; Start runs it. The runtime starts
// Cassandra containers, the directory is shared by every region of a world.
func New(client kubernetes.Interface, runtime Runtime, dir *Directory, opts Options) (*Kubelet, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	k := &Kubelet{
		opts: opts, client: client, runtime: runtime, dir: dir,
		ips:       newIPPool(opts.PodIPs),
		nodeNames: map[string]bool{},
		runners:   map[string]*runner{},
		faults:    map[string]Fault{},
		assumed:   map[types.UID]string{},
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](
			opts.RetryInterval, 5*time.Second)),
	}
	for i := range opts.Nodes {
		k.nodeNames[k.nodeName(i)] = true
	}
	k.factory = informers.NewSharedInformerFactory(client, 0)
	k.pods = k.factory.Core().V1().Pods().Lister()
	k.claims = k.factory.Core().V1().PersistentVolumeClaims().Lister()
	k.volumes = k.factory.Core().V1().PersistentVolumes().Lister()
	k.nodes = k.factory.Core().V1().Nodes().Lister()
	return k, nil
}

// Region is the region this kubelet serves.
func (k *Kubelet) Region() string { return k.opts.Region }

// Start registers the nodes, syncs the informers and starts the workers.
// Stop ends them.
func (k *Kubelet) Start(ctx context.Context) error {
	k.ctx, k.cancel = context.WithCancel(context.Background())
	if err := k.registerNodes(ctx); err != nil {
		k.cancel()
		return err
	}
	k.addHandlers()
	k.factory.Start(k.ctx.Done())
	for typ, ok := range k.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			k.Stop()
			return fmt.Errorf("kubelet %s: informer %v did not sync", k.opts.Region, typ)
		}
	}
	k.wg.Add(2)
	go func() { defer k.wg.Done(); k.work() }()
	go func() { defer k.wg.Done(); k.heartbeat() }()
	return nil
}

// Stop kills every container, stops the workers and waits for them. It
// writes nothing more to the API server.
func (k *Kubelet) Stop() {
	if k.cancel == nil {
		return
	}
	k.cancel()
	k.queue.ShutDown()
	k.factory.Shutdown()
	k.mu.Lock()
	runners := make([]*runner, 0, len(k.runners))
	for _, r := range k.runners {
		runners = append(runners, r)
	}
	k.mu.Unlock()
	for _, r := range runners {
		<-r.done
	}
	k.wg.Wait()
	probeClient.CloseIdleConnections()
}

func (k *Kubelet) addHandlers() {
	enqueue := func(kind string) cache.ResourceEventHandlerFuncs {
		add := func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				k.queue.Add(kind + "/" + key)
			}
		}
		return cache.ResourceEventHandlerFuncs{
			AddFunc: add, UpdateFunc: func(_, obj any) { add(obj) }, DeleteFunc: add,
		}
	}
	core := k.factory.Core().V1()
	for kind, informer := range map[string]cache.SharedIndexInformer{
		kindPod: core.Pods().Informer(), kindClaim: core.PersistentVolumeClaims().Informer(),
		kindVolume: core.PersistentVolumes().Informer(), "": core.Nodes().Informer(),
	} {
		if kind != "" {
			_, _ = informer.AddEventHandler(enqueue(kind))
		}
		_ = informer.SetWatchErrorHandlerWithContext(k.watchError)
	}
}

// watchError reports a broken watch, unless the kubelet is stopping (the
// watches then end with "context canceled").
func (k *Kubelet) watchError(ctx context.Context, r *cache.Reflector, err error) {
	if k.ctx.Err() != nil {
		return
	}
	cache.DefaultWatchErrorHandler(ctx, r, err)
}

// work serves the queue until it shuts down: one item at a time, so that
// scheduling decisions never race each other.
func (k *Kubelet) work() {
	for {
		key, quit := k.queue.Get()
		if quit {
			return
		}
		err := k.sync(key)
		switch {
		case err == nil:
			k.queue.Forget(key)
		case errors.Is(err, errRetry):
			k.queue.Forget(key)
			k.queue.AddAfter(key, k.opts.RetryInterval)
		default:
			if k.ctx.Err() == nil {
				k.opts.Logf("kubelet %s: %s: %v", k.opts.Region, key, err)
			}
			k.queue.AddRateLimited(key)
		}
		k.queue.Done(key)
	}
}

// errRetry asks for the key to be synced again after RetryInterval.
var errRetry = errors.New("retry later")

func (k *Kubelet) sync(key string) error {
	kind, nsName, _ := strings.Cut(key, "/")
	ns, name, err := cache.SplitMetaNamespaceKey(nsName)
	if err != nil {
		return nil
	}
	switch kind {
	case kindPod:
		return k.syncPod(ns, name)
	case kindClaim:
		return k.syncClaim(ns, name)
	case kindVolume:
		return k.syncVolume(name)
	}
	return nil
}

// SetFault gives a pod (by namespace and name) a fault, or clears it with
// NoFault. It applies to the running pod at once and to its later
// incarnations.
func (k *Kubelet) SetFault(namespace, pod string, f Fault) {
	key := namespace + "/" + pod
	k.mu.Lock()
	if f == NoFault {
		delete(k.faults, key)
	} else {
		k.faults[key] = f
	}
	r := k.runners[key]
	k.mu.Unlock()
	if r != nil {
		r.wake()
	}
	k.queue.Add(kindPod + "/" + key)
}

func (k *Kubelet) fault(key string) Fault {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.faults[key]
}

// ErrNoContainer is returned by Kill when the pod has no running container
// on this kubelet.
var ErrNoContainer = errors.New("no running container")

// Kill makes the pod's Cassandra container die (SIGKILL); it is restarted
// after the restart backoff, as with restartPolicy Always.
func (k *Kubelet) Kill(namespace, pod string) error {
	k.mu.Lock()
	r := k.runners[namespace+"/"+pod]
	k.mu.Unlock()
	if r == nil || !r.kill() {
		return fmt.Errorf("kubelet %s: kill %s/%s: %w", k.opts.Region, namespace, pod, ErrNoContainer)
	}
	return nil
}

// Nodes returns the names of the registered nodes.
func (k *Kubelet) Nodes() []string {
	out := make([]string, 0, k.opts.Nodes)
	for i := range k.opts.Nodes {
		out = append(out, k.nodeName(i))
	}
	return out
}

func (k *Kubelet) nodeName(i int) string { return fmt.Sprintf("%s-node-%d", k.opts.Region, i) }

func isMine(k *Kubelet, pod *corev1.Pod) bool { return k.nodeNames[pod.Spec.NodeName] }
