package env

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/controlplane"
	"github.com/ringops/ringops/test/env/internal/proc"
	"github.com/ringops/ringops/test/env/kubelet"
	"github.com/ringops/ringops/test/env/loopback"
	"github.com/ringops/ringops/test/env/realcassandra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// World is a running local world.
type World struct {
	// Dir is the world's directory.
	Dir string
	// Kubeconfig is the path of the kubeconfig with one context per region.
	Kubeconfig string
	// Sim is the simulated Cassandra (partitions, ground truth of the
	// rings); nil in a world of real nodes.
	Sim *cassandra.Sim
	// Real runs the real Cassandra nodes (nodetool, logs, JMX ports); nil
	// in a simulated world.
	Real *realcassandra.Runtime
	// Directory resolves pod names to pod IPs across regions.
	Directory *kubelet.Directory

	opts    Options
	block   *loopback.Block
	regions []*Region
	log     *os.File
	logMu   sync.Mutex
	stop    sync.Once
	stopErr error
	dns     *dns
}

// Region is one region of the world.
type Region struct {
	Name string
	// URL is the API server's address.
	URL string
	// Token is the admin's bearer token (group system:masters). Never log it.
	Token string
	// CA is the PEM certificate that signed the API server's certificate.
	CA []byte
	// Config is an admin client configuration; Client a clientset built on it.
	Config *rest.Config
	Client kubernetes.Interface
	// Kubelet is the region's simulated kubelet (fault injection).
	Kubelet *kubelet.Kubelet
	// ControlPlane is the region's control plane.
	ControlPlane *controlplane.ControlPlane
}

// Start starts a world for a test; t.Cleanup stops it. When the test has
// failed, the world's directory is kept and its log files are listed.
//
// A world of real nodes first takes the machine's real-Cassandra lock
// (realcassandra.Exclusive), held until the world is stopped: the JVMs of
// two test packages never start side by side.
func Start(t testing.TB, opts Options) *World {
	t.Helper()
	if opts.RealCassandra {
		release, err := realcassandra.Exclusive(t.Context(), func() {
			t.Logf("waiting for another test process's real Cassandra nodes (lock %s)", realcassandra.LockFile)
		})
		if err != nil {
			t.Fatalf("local world: %v", err)
		}
		t.Cleanup(release) // after the world's stop, registered below
	}
	w, err := StartWorld(t.Context(), opts)
	if err != nil {
		t.Fatalf("local world: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			w.opts.KeepDir = true
			t.Logf("local world %s kept; logs:\n  %s", w.Dir, strings.Join(w.Logs(), "\n  "))
		}
		if err := w.Stop(); err != nil {
			t.Errorf("local world: %v", err)
		}
	})
	return w
}

// StartWorld starts a world; ctx bounds the start only. Stop stops it.
func StartWorld(ctx context.Context, opts Options) (*World, error) {
	opts = opts.withDefaults()
	w := &World{opts: opts, Directory: kubelet.NewDirectory()}
	if err := w.start(ctx); err != nil {
		w.opts.KeepDir = w.opts.KeepDir || w.Dir != ""
		logs := strings.Join(w.Logs(), " ")
		_ = w.Stop()
		return nil, fmt.Errorf("%w (world %s kept; logs: %s)", err, w.Dir, logs)
	}
	return w, nil
}

func (w *World) start(ctx context.Context) error {
	if err := w.makeDir(); err != nil {
		return err
	}
	if w.opts.ControlPlaneDir == "" {
		dir, err := controlplane.BinDir(ctx)
		if err != nil {
			return err
		}
		w.opts.ControlPlaneDir = dir
	}
	block, err := loopback.Reserve()
	if err != nil {
		return err
	}
	w.block = block
	if err := w.startControlPlanes(ctx); err != nil {
		return err
	}
	if err := w.writeKubeconfig(); err != nil {
		return err
	}
	var runtime kubelet.Runtime
	if w.opts.RealCassandra {
		rt, err := w.startReal(ctx)
		if err != nil {
			return err
		}
		w.Real, runtime = rt, rt
	} else {
		// Seed names resolve as on the real nodes: exactly the names of the
		// region's hosts file (its cluster DNS, the Services' external-DNS
		// names of every region).
		d, err := w.startDNS(ctx)
		if err != nil {
			return err
		}
		w.dns = d
		w.Sim = cassandra.New(*w.opts.Cassandra, w.Directory.Lookup)
		runtime = simRuntime{w.Sim}
	}
	return w.startKubelets(ctx, runtime)
}

func (w *World) makeDir() error {
	if w.opts.Dir == "" {
		dir, err := os.MkdirTemp("", "ringops-world-")
		if err != nil {
			return fmt.Errorf("world: %w", err)
		}
		w.opts.Dir = dir
	} else if err := os.MkdirAll(w.opts.Dir, 0o700); err != nil {
		return fmt.Errorf("world: %w", err)
	}
	w.Dir = w.opts.Dir
	log, err := os.Create(filepath.Join(w.Dir, "world.log"))
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	w.log = log
	return nil
}

// startControlPlanes starts every region's control plane concurrently.
func (w *World) startControlPlanes(ctx context.Context) error {
	w.regions = make([]*Region, len(w.opts.Regions))
	errs := make([]error, len(w.opts.Regions))
	var wg sync.WaitGroup
	for i, name := range w.opts.Regions {
		wg.Go(func() {
			cp, err := controlplane.Start(ctx, controlplane.Options{
				Name: name, Dir: filepath.Join(w.Dir, name), Address: w.block.IP(0, i+1),
				BinDir: w.opts.ControlPlaneDir, EtcdPath: w.opts.EtcdPath,
				ReadyTimeout: w.opts.StartTimeout, Logf: w.logf,
			})
			if err != nil {
				errs[i] = err
				return
			}
			w.regions[i], errs[i] = newRegion(cp)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func newRegion(cp *controlplane.ControlPlane) (*Region, error) {
	cfg := cp.RESTConfig()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("region %s: client: %w", cp.Name, err)
	}
	return &Region{
		Name: cp.Name, URL: cp.URL, Token: cp.AdminToken(), CA: cp.CA,
		Config: cfg, Client: client, ControlPlane: cp,
	}, nil
}

// writeKubeconfig writes one context per region, named after it.
func (w *World) writeKubeconfig() error {
	cfg := clientcmdapi.NewConfig()
	for _, r := range w.regions {
		user := r.Name + "-admin"
		cfg.Clusters[r.Name] = &clientcmdapi.Cluster{Server: r.URL, CertificateAuthorityData: r.CA}
		cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: r.Token}
		cfg.Contexts[r.Name] = &clientcmdapi.Context{Cluster: r.Name, AuthInfo: user}
	}
	cfg.CurrentContext = w.regions[0].Name
	w.Kubeconfig = filepath.Join(w.Dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, w.Kubeconfig); err != nil {
		return fmt.Errorf("world: kubeconfig: %w", err)
	}
	return os.Chmod(w.Kubeconfig, 0o600)
}

func (w *World) startKubelets(ctx context.Context, runtime kubelet.Runtime) error {
	for i, r := range w.regions {
		opts := *w.opts.Kubelet
		opts.Region = r.Name
		opts.Nodes = w.opts.NodesPerRegion
		opts.PodIPs = kubelet.IPRange{Prefix: fmt.Sprintf("127.%d.%d.", w.block.B, i+1), First: 1, Last: 254}
		opts.NodeIPs = kubelet.IPRange{Prefix: fmt.Sprintf("127.%d.%d.", w.block.B, 100+i), First: 1, Last: 254}
		opts.Logf = w.logf
		if w.opts.RealCassandra {
			opts.VolumeRoot = filepath.Join(w.Dir, r.Name, "kubelet")
		}
		k, err := kubelet.New(r.Client, runtime, w.Directory, opts)
		if err != nil {
			return err
		}
		if err := k.Start(ctx); err != nil {
			return err
		}
		r.Kubelet = k
	}
	return nil
}

func (w *World) logf(format string, args ...any) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	_, _ = fmt.Fprintf(w.log, format+"\n", args...)
}

// Regions returns the regions, in the order of Options.Regions.
func (w *World) Regions() []*Region { return append([]*Region(nil), w.regions...) }

// Region returns the region of that name, or nil.
func (w *World) Region(name string) *Region {
	for _, r := range w.regions {
		if r != nil && r.Name == name {
			return r
		}
	}
	return nil
}

// Logs returns the paths of the world's log files.
func (w *World) Logs() []string {
	var out []string
	if w.log != nil {
		out = append(out, w.log.Name())
	}
	for _, r := range w.regions {
		if r != nil {
			out = append(out, r.ControlPlane.Logs()...)
		}
	}
	return out
}

// Process is a child process of the world.
type Process struct {
	Name string // <region>/<component>
	Pid  int
	Log  string
}

// Processes returns the world's child processes.
func (w *World) Processes() []Process {
	var out []Process
	for _, r := range w.regions {
		if r == nil {
			continue
		}
		for _, p := range r.ControlPlane.Processes() {
			out = append(out, Process{Name: p.Name, Pid: p.Pid(), Log: p.Log})
		}
	}
	return out
}

// Stop stops the kubelets, the simulator and the control planes, releases
// the loopback block and removes the directory (unless kept). It is safe to
// call more than once.
func (w *World) Stop() error {
	w.stop.Do(func() { w.stopErr = w.stopAll() })
	return w.stopErr
}

func (w *World) stopAll() error {
	for _, r := range w.regions {
		if r != nil && r.Kubelet != nil {
			r.Kubelet.Stop()
		}
	}
	if w.Sim != nil {
		w.Sim.Close()
	}
	if w.dns != nil {
		w.dns.stop()
	}
	errs := make([]error, len(w.regions))
	var wg sync.WaitGroup
	for i, r := range w.regions {
		if r != nil {
			wg.Go(func() { errs[i] = r.ControlPlane.Stop() })
		}
	}
	wg.Wait()
	if w.block != nil {
		errs = append(errs, w.block.Release())
	}
	if w.log != nil {
		_ = w.log.Close()
	}
	if !w.opts.KeepDir && w.Dir != "" {
		errs = append(errs, os.RemoveAll(w.Dir))
	}
	return errors.Join(errs...)
}

// Stats is the resident memory of a world.
type Stats struct {
	// Processes are the child processes, by name.
	Processes []ProcessStats
	// Self is the RSS of the current process (kubelets and simulator live here).
	Self int64
	// Total is Self plus every child's RSS, in bytes.
	Total int64
}

// ProcessStats is the resident memory of one process.
type ProcessStats struct {
	Name string
	Pid  int
	RSS  int64 // bytes
}

// Stats measures the resident memory of the world's processes and of the
// current process.
func (w *World) Stats() (Stats, error) {
	self, err := proc.RSS(os.Getpid())
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Self: self, Total: self}
	for _, p := range w.Processes() {
		rss, err := proc.RSS(p.Pid)
		if err != nil {
			return Stats{}, err
		}
		st.Processes = append(st.Processes, ProcessStats{Name: p.Name, Pid: p.Pid, RSS: rss})
		st.Total += rss
	}
	return st, nil
}
