package env

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/ringops/ringops/test/env/kubelet"
	"github.com/ringops/ringops/test/env/realcassandra"
)

// startReal starts what a world of real Cassandra nodes needs besides the
// kubelets: the hosts files of its DNS and the runtime.
func (w *World) startReal(ctx context.Context) (*realcassandra.Runtime, error) {
	opts := realcassandra.Options{}
	if w.opts.Real != nil {
		opts = *w.opts.Real
	}
	if opts.Dir == "" {
		dir, err := realcassandra.Find(ctx)
		if err != nil {
			return nil, err
		}
		opts.Dir = dir
	}
	d, err := w.startDNS(ctx)
	if err != nil {
		return nil, err
	}
	w.dns = d
	opts.WorkDir = filepath.Join(w.Dir, "pods")
	opts.HostsFile = d.file
	opts.Logf = w.logf
	return realcassandra.New(opts)
}

// dns keeps one hosts file per region (<dir>/<region>/hosts) that the
// region's pods resolve names with: the cluster DNS names of the region's
// pods and the external-DNS names of every region's pods (see
// kubelet.Directory), rewritten whenever a pod gets or loses its IP or a
// Service's external-DNS annotation changes.
type dns struct {
	w         *World
	mu        sync.Mutex
	cancel    context.CancelFunc
	factories []informers.SharedInformerFactory
}

func (w *World) startDNS(ctx context.Context) (*dns, error) {
	d := &dns{w: w}
	for _, r := range w.regions {
		if err := os.MkdirAll(filepath.Join(w.Dir, r.Name), 0o755); err != nil {
			return nil, err
		}
	}
	if err := d.write(); err != nil {
		return nil, err
	}
	w.Directory.OnChange(func() {
		if err := d.write(); err != nil {
			w.logf("dns: %v", err)
		}
	})
	bg, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	for _, r := range w.regions {
		f := informers.NewSharedInformerFactory(r.Client, 0)
		set := func(obj any) {
			if s, ok := obj.(*corev1.Service); ok {
				w.Directory.SetService(r.Name, s.Namespace, s.Name, externalNames(s))
			}
		}
		_, _ = f.Core().V1().Services().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    set,
			UpdateFunc: func(_, obj any) { set(obj) },
			DeleteFunc: func(obj any) {
				if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
					obj = t.Obj
				}
				if s, ok := obj.(*corev1.Service); ok {
					w.Directory.SetService(r.Name, s.Namespace, s.Name, nil)
				}
			},
		})
		f.Start(bg.Done())
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				cancel()
				return nil, fmt.Errorf("dns %s: informer %v did not sync", r.Name, typ)
			}
		}
		d.factories = append(d.factories, f)
	}
	return d, nil
}

func externalNames(s *corev1.Service) []string {
	var out []string
	for _, h := range strings.Split(s.Annotations[kubelet.AnnotationExternalDNS], ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

func (d *dns) file(region string) string { return filepath.Join(d.w.Dir, region, "hosts") }

// write rewrites every region's hosts file, atomically (the JDK re-reads
// the file at every lookup it does not have cached).
func (d *dns) write() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	host, _ := os.Hostname()
	for _, r := range d.w.regions {
		var b strings.Builder
		fmt.Fprintf(&b, "# hosts of the pods of region %s (written by the local world)\n127.0.0.1 localhost %s\n", r.Name, host)
		for _, h := range d.w.Directory.Hosts(r.Name) {
			fmt.Fprintf(&b, "%s %s\n", h.IP, h.Name)
		}
		path := d.file(r.Name)
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return nil
}

func (d *dns) stop() {
	d.cancel()
	for _, f := range d.factories {
		f.Shutdown()
	}
}
