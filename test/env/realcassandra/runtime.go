package realcassandra

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ringops/ringops/test/env/internal/proc"
	"github.com/ringops/ringops/test/env/kubelet"
)

// Options configure the runtime.
type Options struct {
	// Dir is the Cassandra directory filled by test/tools/cassandra/build.sh
	// (lib/, conf/, jolokia/). Default: Find's.
	Dir string
	// Java is the java binary. Default: $JAVA_HOME/bin/java, else java from
	// PATH.
	Java string
	// WorkDir holds each pod's scratch directory and logs. Required.
	WorkDir string
	// HostsFile returns the hosts file (/etc/hosts format) the pods of a
	// region resolve names with. Required.
	HostsFile func(region string) string
	// JVMOptions are added to every node after the image's options and
	// before the pod's JVM_EXTRA_OPTS: the world's timings (ring delay,
	// gossip settling). Default: DefaultJVMOptions.
	JVMOptions []string
	// InitTimeout bounds each init container. Default: 2 minutes.
	InitTimeout time.Duration
	// Logf receives one line per container start and stop. Default: discard.
	Logf func(format string, args ...any)
}

// DefaultJVMOptions are the local world's timings, chosen by measurement
// (doc.go): RING_DELAY 5 s instead of 30 s (the bootstrap's wait for ring
// information and schema, and the pause after announcing its tokens;
// quarantine and fat-client timeouts scale with it), no wait for gossip to
// settle at start, the default superuser created at once. 1 s was too short
// on a loaded machine: a node joining a three-region ring started streaming
// before gossip had brought it the schema, found no keyspace to stream and
// joined holding none of its rows (TestRealNodes caught it).
var DefaultJVMOptions = []string{
	"-Dcassandra.ring_delay_ms=5000",
	"-Dcassandra.skip_wait_for_gossip_to_settle=0",
	"-Dcassandra.superuser_setup_delay_ms=0",
}

func (o Options) withDefaults() (Options, error) {
	if o.WorkDir == "" || o.HostsFile == nil {
		return o, errors.New("realcassandra: WorkDir and HostsFile are required")
	}
	if o.Java == "" {
		o.Java = "java"
		if home := os.Getenv("JAVA_HOME"); home != "" {
			o.Java = filepath.Join(home, "bin", "java")
		}
	}
	if o.JVMOptions == nil {
		o.JVMOptions = DefaultJVMOptions
	}
	if o.InitTimeout == 0 {
		o.InitTimeout = 2 * time.Minute
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o, nil
}

// Runtime starts each pod's "cassandra" container as one Cassandra JVM. It
// is safe for concurrent use.
type Runtime struct {
	opts  Options
	ports *portPool

	mu    sync.Mutex
	nodes map[string]*Container // by region/namespace/pod: the running ones
}

var _ kubelet.Runtime = (*Runtime)(nil)

// New returns a runtime; opts.Dir must hold a Cassandra (see Find).
func New(opts Options) (*Runtime, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, f := range []string{"lib/.complete", "conf/cassandra.yaml", "jolokia/jolokia-agent.jar"} {
		if _, err := os.Stat(filepath.Join(opts.Dir, f)); err != nil {
			return nil, fmt.Errorf("realcassandra: %s: %w (run test/tools/cassandra/build.sh)", opts.Dir, err)
		}
	}
	return &Runtime{opts: opts, ports: newPortPool(), nodes: map[string]*Container{}}, nil
}

// Start runs the pod's init containers, prepares /etc/cassandra as the
// official image's entrypoint does and starts the JVM. It returns once the
// JVM runs (not once the node is NORMAL).
func (r *Runtime) Start(ctx context.Context, spec kubelet.Spec) (kubelet.Container, error) {
	if spec.Object == nil || spec.Volumes == nil {
		return nil, errors.New("realcassandra: the kubelet must materialise volumes (kubelet.Options.VolumeRoot)")
	}
	pod := spec.Object
	main := containerNamed(pod.Spec.Containers, kubelet.ContainerCassandra)
	if main == nil {
		return nil, errors.New("realcassandra: no cassandra container")
	}
	scratch := filepath.Join(r.opts.WorkDir, spec.Region, spec.Namespace, spec.Pod+"-"+short(string(pod.UID)))
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return nil, err
	}
	log := filepath.Join(scratch, "cassandra.log")
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		if err := r.runInit(ctx, spec, main.Image, ic, scratch, log); err != nil {
			return nil, err
		}
	}
	c, err := r.newContainer(spec, main, scratch, log)
	if err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		r.ports.release(c.jmxPort)
		return nil, err
	}
	r.mu.Lock()
	r.nodes[spec.Region+"/"+spec.Namespace+"/"+spec.Pod] = c
	r.mu.Unlock()
	go func() {
		<-c.Done()
		r.ports.release(c.jmxPort)
		r.mu.Lock()
		if r.nodes[spec.Region+"/"+spec.Namespace+"/"+spec.Pod] == c {
			delete(r.nodes, spec.Region+"/"+spec.Namespace+"/"+spec.Pod)
		}
		r.mu.Unlock()
	}()
	r.opts.Logf("realcassandra: %s/%s/%s: JVM %d started on %s (JMX 127.0.0.1:%d, log %s)",
		spec.Region, spec.Namespace, spec.Pod, c.proc.Pid(), spec.IP, c.jmxPort, log)
	return c, nil
}

// Node returns the running container of a pod, or nil.
func (r *Runtime) Node(region, namespace, pod string) *Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nodes[region+"/"+namespace+"/"+pod]
}

// Nodes returns every running container.
func (r *Runtime) Nodes() []*Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Container, 0, len(r.nodes))
	for _, c := range r.nodes {
		out = append(out, c)
	}
	return out
}

func containerNamed(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func short(uid string) string {
	if len(uid) > 8 {
		return uid[:8]
	}
	return uid
}

// imageMounts are the directories an image brings: the Cassandra image its
// /etc/cassandra (a private, writable copy of the cache's conf/, as a
// container's own layer) and /var/lib/cassandra; any other image is taken
// for the Jolokia agent image, with /jolokia/jolokia-agent.jar.
func (r *Runtime) imageMounts(image, cassandraImage, dir string) ([]mount, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	ms := []mount{{"/tmp", tmp}}
	if image != cassandraImage {
		return append(ms, mount{"/jolokia", filepath.Join(r.opts.Dir, "jolokia")}), nil
	}
	etc := filepath.Join(dir, "etc-cassandra")
	if err := copyDir(filepath.Join(r.opts.Dir, "conf"), etc); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "var-lib-cassandra")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	return append(ms, mount{"/etc/cassandra", etc}, mount{"/var/lib/cassandra", data}), nil
}

// volumeMounts are a container's volume mounts as host paths.
func volumeMounts(c *corev1.Container, vols map[string]string) ([]mount, error) {
	var ms []mount
	for _, vm := range c.VolumeMounts {
		host, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("container %s: volume %q is not materialised", c.Name, vm.Name)
		}
		if vm.SubPath != "" {
			host = filepath.Join(host, filepath.Clean("/"+vm.SubPath))
		}
		ms = append(ms, mount{vm.MountPath, host})
	}
	return ms, nil
}

// containerFS is a container's file system: volume mounts over its image.
func (r *Runtime) containerFS(c *corev1.Container, spec kubelet.Spec, cassandraImage, dir string) (fsys, error) {
	vms, err := volumeMounts(c, spec.Volumes)
	if err != nil {
		return fsys{}, err
	}
	ims, err := r.imageMounts(c.Image, cassandraImage, dir)
	if err != nil {
		return fsys{}, err
	}
	return newFS(append(vms, ims...)), nil
}

// runInit runs one init container to its end: its command, paths and
// local addresses rewritten, with its environment.
func (r *Runtime) runInit(ctx context.Context, spec kubelet.Spec, cassandraImage string, ic *corev1.Container, scratch, log string) error {
	dir := filepath.Join(scratch, "init-"+ic.Name)
	fs, err := r.containerFS(ic, spec, cassandraImage, dir)
	if err != nil {
		return err
	}
	argv := append(append([]string(nil), ic.Command...), ic.Args...)
	if len(argv) == 0 {
		return fmt.Errorf("init container %s: no command (the local world cannot know an image's entrypoint)", ic.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.InitTimeout)
	defer cancel()
	out, err := execIn(ctx, argv, fs, spec.IP, envList(spec.InitEnv[ic.Name], dir, ""), dir)
	appendLog(log, fmt.Sprintf("init container %s: %s", ic.Name, out))
	if err != nil {
		return fmt.Errorf("init container %s: %w: %s", ic.Name, err, lastLine(out))
	}
	return nil
}

// execIn runs argv on the host as a container would: paths and local
// addresses rewritten, the binary looked up on the host's PATH, in its own
// process group (killed with ctx). It returns the combined output (at most
// 64 KiB).
func execIn(ctx context.Context, argv []string, fs fsys, ip string, env []string, dir string) (string, error) {
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = rewriteAddresses(fs.rewrite(a), ip)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return "", err
	}
	var out limitedBuffer
	cmd := exec.Command(path, args[1:]...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := proc.StartCmd(args[0], os.DevNull, cmd)
	if err != nil {
		return "", err
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		p.Kill()
		return out.String(), fmt.Errorf("%s: %w", args[0], ctx.Err())
	}
	_, err = p.Exited()
	return out.String(), err
}

// envList is a container's environment as a process gets it: its own
// variables, and a PATH (binDir first, for nodetool) and HOME of the host.
func envList(env map[string]string, home, binDir string) []string {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	if binDir != "" {
		path = binDir + ":" + path
	}
	out := []string{"PATH=" + path, "HOME=" + home, "LANG=C.UTF-8"}
	for k, v := range env {
		if k != "PATH" && k != "HOME" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

type limitedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func appendLog(path, line string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer func() { _ = f.Close() }()
	_, _ = fmt.Fprintf(f, "%s ringops-world: %s\n", time.Now().Format(time.RFC3339Nano), strings.TrimRight(line, "\n"))
}

func copyDir(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// readOptions reads a jvm*.options file: one option per line, # comments.
func readOptions(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

func itoa(i int) string { return strconv.Itoa(i) }
