package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ringops/ringops/test/env/internal/proc"
	"k8s.io/client-go/rest"
)

// Ports every component listens on, at the control plane's own address.
const (
	EtcdClientPort        = 2379
	EtcdPeerPort          = 2380
	APIServerPort         = 6443
	ControllerManagerPort = 10257
)

// Options configure one control plane.
type Options struct {
	// Name names the control plane (the region); it appears in process
	// names, certificates and the service account issuer. Required.
	Name string
	// Dir is the working directory (certificates, etcd data, logs). It is
	// created if missing. Required.
	Dir string
	// Address is the loopback IP every component binds to. Required.
	Address string
	// BinDir holds kube-apiserver and kube-controller-manager. Default: BinDir(ctx).
	BinDir string
	// EtcdPath is the etcd binary. Default: "etcd" from PATH.
	EtcdPath string
	// EtcdQuotaBytes is etcd's backend quota. Default: 256 MiB.
	EtcdQuotaBytes int64
	// ReadyTimeout bounds the wait for the control plane to be ready.
	// Default: 2 minutes.
	ReadyTimeout time.Duration
	// GOGC is the Go GC target of kube-apiserver and
	// kube-controller-manager: 50 trades a little CPU for about 15% less
	// resident memory of the API server. Default: 50; -1 leaves Go's default.
	GOGC int
	// Logf receives one line per component when it is ready, with the time
	// it took. Default: discard.
	Logf func(format string, args ...any)
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
	// Default: 10 seconds.
	StopGrace time.Duration
}

// DefaultOptions returns the defaults of the optional fields.
func DefaultOptions() Options {
	return Options{
		EtcdPath:       Etcd,
		EtcdQuotaBytes: 256 << 20,
		ReadyTimeout:   2 * time.Minute,
		GOGC:           50,
		StopGrace:      10 * time.Second,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.EtcdPath == "" {
		o.EtcdPath = d.EtcdPath
	}
	if o.EtcdQuotaBytes == 0 {
		o.EtcdQuotaBytes = d.EtcdQuotaBytes
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = d.ReadyTimeout
	}
	if o.GOGC == 0 {
		o.GOGC = d.GOGC
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.StopGrace == 0 {
		o.StopGrace = d.StopGrace
	}
	return o
}

// ControlPlane is one running control plane.
type ControlPlane struct {
	Name string
	// URL is the API server's address, https://<address>:6443.
	URL string
	// CA is the PEM certificate of the authority that signed the API
	// server's serving certificate.
	CA  []byte
	Dir string

	opts       Options
	adminToken string
	kcmToken   string
	files      files
	mu         sync.Mutex
	procs      []*proc.Process
}

// Start brings up etcd, kube-apiserver and kube-controller-manager and waits
// until they are ready. On error, everything started is stopped again.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	opts = opts.withDefaults()
	if opts.Name == "" || opts.Dir == "" || net.ParseIP(opts.Address) == nil {
		return nil, fmt.Errorf("control plane %q: name, dir and address are required", opts.Name)
	}
	if opts.BinDir == "" {
		dir, err := BinDir(ctx)
		if err != nil {
			return nil, fmt.Errorf("control plane %s: %w", opts.Name, err)
		}
		opts.BinDir = dir
	}
	c := &ControlPlane{
		Name: opts.Name,
		URL:  "https://" + net.JoinHostPort(opts.Address, fmt.Sprint(APIServerPort)),
		Dir:  opts.Dir,
		opts: opts,
	}
	ctx, cancel := context.WithTimeout(ctx, opts.ReadyTimeout)
	defer cancel()
	if err := c.start(ctx); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("control plane %s: %w (logs: %s)", opts.Name, err, c.logList())
	}
	return c, nil
}

func (c *ControlPlane) start(ctx context.Context) error {
	if err := c.prepare(); err != nil {
		return err
	}
	steps := []struct {
		name  string
		start func() (*proc.Process, error)
		ready func(context.Context) error
	}{
		{Etcd, c.startEtcd, c.etcdReady},
		{APIServer, c.startAPIServer, c.apiServerReady},
		{ControllerManager, c.startControllerManager, c.controllerManagerReady},
	}
	begin := time.Now()
	for _, s := range steps {
		p, err := s.start()
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.procs = append(c.procs, p)
		c.mu.Unlock()
		if err := waitReady(ctx, p, s.ready); err != nil {
			return fmt.Errorf("%s: not ready: %w", s.name, err)
		}
		c.opts.Logf("control plane %s: %s ready after %s", c.Name, s.name, time.Since(begin).Round(time.Millisecond))
	}
	return nil
}

// ErrExited is returned when a component exits while the control plane waits
// for it to become ready.
var ErrExited = errors.New("process exited")

// waitReady polls ready until it succeeds, the process exits or ctx ends.
func waitReady(ctx context.Context, p *proc.Process, ready func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		if exited, status := p.Exited(); exited {
			return fmt.Errorf("%w (%v); see %s", ErrExited, status, p.Log)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %w", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// AdminToken is the bearer token of a user in group system:masters.
func (c *ControlPlane) AdminToken() string { return c.adminToken }

// RESTConfig returns a client configuration authenticated as the admin.
func (c *ControlPlane) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.URL,
		BearerToken:     c.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CA},
		QPS:             100,
		Burst:           200,
	}
}

// Processes returns the running components, in start order.
func (c *ControlPlane) Processes() []*proc.Process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*proc.Process(nil), c.procs...)
}

// Logs returns the paths of the components' log files.
func (c *ControlPlane) Logs() []string {
	var out []string
	for _, p := range c.Processes() {
		out = append(out, p.Log)
	}
	return out
}

func (c *ControlPlane) logList() string {
	if len(c.Logs()) == 0 {
		return filepath.Join(c.Dir, "*.log")
	}
	return fmt.Sprint(c.Logs())
}

// Stop stops every component, last started first, and waits for each to be
// reaped. It is safe to call more than once.
func (c *ControlPlane) Stop() error {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		err := procs[i].Stop(c.opts.StopGrace)
		if errors.Is(err, proc.ErrKilled) {
			// Gone all the same: on a loaded machine an API server may take
			// longer than the grace period to drain its watches.
			c.opts.Logf("%s: %v", procs[i].Name, err)
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("control plane %s: stop: %w", c.Name, err)
	}
	return nil
}

// StopAPIServer stops kube-apiserver alone: etcd and the controller
// manager go on, every client of the region fails to connect until
// StartAPIServer (an API server that went away for a while).
func (c *ControlPlane) StopAPIServer() error {
	c.mu.Lock()
	i := c.procIndex(APIServer)
	var p *proc.Process
	if i >= 0 {
		p = c.procs[i]
	}
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("control plane %s: no %s running", c.Name, APIServer)
	}
	if err := p.Stop(c.opts.StopGrace); err != nil && !errors.Is(err, proc.ErrKilled) {
		return fmt.Errorf("control plane %s: stop %s: %w", c.Name, APIServer, err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the
// same address, certificates and etcd, and waits until it is ready.
func (c *ControlPlane) StartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	i := c.procIndex(APIServer)
	running := i >= 0
	if running {
		exited, _ := c.procs[i].Exited()
		running = !exited
	}
	c.mu.Unlock()
	if running {
		return fmt.Errorf("control plane %s: %s is running", c.Name, APIServer)
	}
	p, err := c.startAPIServer()
	if err != nil {
		return fmt.Errorf("control plane %s: %w", c.Name, err)
	}
	c.mu.Lock()
	if i >= 0 {
		c.procs[i] = p
	} else {
		c.procs = append(c.procs, p)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReadyTimeout)
	defer cancel()
	if err := waitReady(ctx, p, c.apiServerReady); err != nil {
		return fmt.Errorf("control plane %s: %s: not ready: %w", c.Name, APIServer, err)
	}
	return nil
}

// procIndex is the index of the component name in c.procs, -1 if none
// (c.mu held).
func (c *ControlPlane) procIndex(name string) int {
	for i, p := range c.procs {
		if p.Name == c.Name+"/"+name {
			return i
		}
	}
	return -1
}

func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
	}
	return nil
}
