package realcassandra

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ringops/ringops/test/env/internal/proc"
	"github.com/ringops/ringops/test/env/kubelet"
)

// Container is one running Cassandra JVM: a pod's "cassandra" container.
type Container struct {
	spec    kubelet.Spec
	opts    Options
	main    *corev1.Container
	fs      fsys
	dir     string // scratch directory
	log     string
	binDir  string // holds the nodetool wrapper
	etc     string // host path of the container's /etc/cassandra
	data    string // host path of the container's /var/lib/cassandra
	jmxPort int
	env     []string

	proc      *proc.Process
	startedAt time.Time
	stopOnce  sync.Once
}

var (
	_ kubelet.Container = (*Container)(nil)
	_ kubelet.Prober    = (*Container)(nil)
)

func (r *Runtime) newContainer(spec kubelet.Spec, main *corev1.Container, scratch, log string) (*Container, error) {
	dir := filepath.Join(scratch, "cassandra")
	fs, err := r.containerFS(main, spec, main.Image, dir)
	if err != nil {
		return nil, err
	}
	etc, _ := fs.host("/etc/cassandra")
	data, _ := fs.host("/var/lib/cassandra")
	port, err := r.ports.allocate()
	if err != nil {
		return nil, err
	}
	c := &Container{spec: spec, opts: r.opts, main: main, fs: fs, dir: dir, log: log,
		binDir: filepath.Join(dir, "bin"), etc: etc, data: data, jmxPort: port}
	c.env = envList(spec.Env, dir, c.binDir)
	return c, nil
}

// Pod is the pod's name; Region and Namespace where it runs.
func (c *Container) Pod() string       { return c.spec.Pod }
func (c *Container) Region() string    { return c.spec.Region }
func (c *Container) Namespace() string { return c.spec.Namespace }

// IP is the pod IP: every address of the node (listen, broadcast, CQL
// 9042, storage 7000, Jolokia).
func (c *Container) IP() string { return c.spec.IP }

// JMXPort is the node's local JMX port on 127.0.0.1 (nodetool's -p).
func (c *Container) JMXPort() int { return c.jmxPort }

// Pid is the JVM's process id.
func (c *Container) Pid() int { return c.proc.Pid() }

// Log is the path of the node's log (its stdout and stderr).
func (c *Container) Log() string { return c.log }

var _ kubelet.LogTailer = (*Container)(nil)

// LogTail is the end of the node's log: its last lines lines, limit bytes
// at most (kubelet.LogTailer: the termination message of a container that
// failed, with terminationMessagePolicy FallbackToLogsOnError).
func (c *Container) LogTail(lines, limit int) string {
	f, err := os.Open(c.log)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-int64(limit), 0)
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if off > 0 && len(all) > 1 {
		all = all[1:] // the first line is cut
	}
	return strings.Join(all[max(len(all)-lines, 0):], "\n")
}

// DataDir is the host directory of the node's /var/lib/cassandra.
func (c *Container) DataDir() string { return c.data }

// StartedAt is when the JVM was started.
func (c *Container) StartedAt() time.Time { return c.startedAt }

// start prepares /etc/cassandra as docker-entrypoint.sh would, writes the
// nodetool wrapper and starts the JVM.
func (c *Container) start() error {
	if err := entrypoint(c.etc, c.spec.IP, c.spec.Env); err != nil {
		return err
	}
	if err := c.writeNodetool(); err != nil {
		return err
	}
	args, err := c.jvmArgs()
	if err != nil {
		return err
	}
	appendLog(c.log, "starting: "+c.opts.Java+" "+strings.Join(redactArgs(args), " "))
	cmd := exec.Command(c.opts.Java, args...)
	cmd.Env, cmd.Dir = c.env, c.dir
	p, err := proc.StartCmd(c.spec.Region+"/"+c.spec.Pod, c.log, cmd)
	if err != nil {
		return err
	}
	c.proc, c.startedAt = p, time.Now()
	return nil
}

// jvmArgs is the JVM's command line: the image's options (the container's
// /etc/cassandra/jvm-server.options when present, and jvm17-server.options), jamm, the node's directories and
// JMX port, the world's hosts file and timings, JVM_EXTRA_OPTS (paths and
// local addresses rewritten), the classpath and the main class.
func (c *Container) jvmArgs() ([]string, error) {
	opts, err := readOptions(filepath.Join(c.etc, "jvm17-server.options"))
	if err != nil {
		return nil, fmt.Errorf("jvm options: %w", err)
	}
	// bin/cassandra also reads jvm-server.options (5.0.1 cassandra.in.sh:
	// 152-160), where the pod's init container writes, e.g., ringops'
	// replace_address_first_boot (render/gate.go).
	if server, err := readOptions(filepath.Join(c.etc, "jvm-server.options")); err == nil {
		opts = append(server, opts...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("jvm options: %w", err)
	}
	lib := filepath.Join(c.opts.Dir, "lib")
	jamm, err := filepath.Glob(filepath.Join(lib, "jamm-*.jar"))
	if err != nil || len(jamm) == 0 {
		return nil, fmt.Errorf("jamm jar missing from %s", lib)
	}
	args := append(opts,
		"-javaagent:"+jamm[0],
		"-Dcassandra.jmx.local.port="+itoa(c.jmxPort),
		"-Djava.rmi.server.hostname=127.0.0.1",
		"-Dlogback.configurationFile=file://"+filepath.Join(c.etc, "logback.xml"),
		"-Dcassandra.logdir="+filepath.Join(c.dir, "logs"),
		"-Dcassandra.storagedir="+c.data,
		"-Dcassandra.config=file://"+filepath.Join(c.etc, "cassandra.yaml"),
		"-Dcassandra-foreground=yes",
		"-Djdk.net.hosts.file="+c.opts.HostsFile(c.spec.Region),
		"-Dsun.net.inetaddr.ttl=0",
		"-Dsun.net.inetaddr.negative.ttl=0",
		"-XX:HeapDumpPath="+c.dir,
	)
	args = append(args, c.opts.JVMOptions...)
	for _, o := range strings.Fields(c.spec.Env["JVM_EXTRA_OPTS"]) {
		args = append(args, rewriteAddresses(c.fs.rewrite(o), c.spec.IP))
	}
	if err := c.rewriteAgentConfig(args); err != nil {
		return nil, err
	}
	return append(args, "-cp", c.etc+":"+lib+"/*", "org.apache.cassandra.service.CassandraDaemon"), nil
}

// rewriteAgentConfig rewrites the local addresses of the Jolokia agent's
// properties file (-javaagent:...=config=<file>), which the pod's init
// container wrote for a pod that listens on all its addresses.
func (c *Container) rewriteAgentConfig(args []string) error {
	file := agentConfigFile(args)
	if file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("jolokia agent config: %w", err)
	}
	return os.WriteFile(file, []byte(rewriteAddresses(string(b), c.spec.IP)), 0o600)
}

// agentConfigFile is the config=<file> option of the Jolokia agent.
func agentConfigFile(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-javaagent:") || !strings.Contains(a, "jolokia") {
			continue
		}
		_, opts, ok := strings.Cut(a, "=")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(opts, ",") {
			if v, ok := strings.CutPrefix(kv, "config="); ok {
				return v
			}
		}
	}
	return ""
}

// redactArgs hides passwords given to the agent on the command line.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.HasPrefix(a, "-javaagent:") && strings.Contains(a, "password=") {
			parts := strings.Split(a, ",")
			for j, p := range parts {
				if strings.HasPrefix(p, "password=") {
					parts[j] = "password=REDACTED"
				}
			}
			out[i] = strings.Join(parts, ",")
		}
	}
	return out
}

// writeNodetool writes bin/nodetool: Cassandra's NodeTool against the
// node's own JMX port, for the preStop hook and the tests.
func (c *Container) writeNodetool() error {
	if err := os.MkdirAll(c.binDir, 0o755); err != nil {
		return err
	}
	opts, err := readOptions(filepath.Join(c.etc, "jvm17-clients.options"))
	if err != nil {
		return fmt.Errorf("nodetool options: %w", err)
	}
	for i, o := range opts {
		opts[i] = shellQuote(o)
	}
	script := "#!/bin/bash\n# nodetool of the local world: this node's JMX on 127.0.0.1:" + itoa(c.jmxPort) + "\n" +
		"exec " + shellQuote(c.opts.Java) + " " + strings.Join(opts, " ") +
		" -Dlogback.configurationFile=" + shellQuote("file://"+filepath.Join(c.etc, "logback-tools.xml")) +
		" -Dcassandra.storagedir=" + shellQuote(c.data) +
		" -cp " + shellQuote(filepath.Join(c.opts.Dir, "lib")+"/*") +
		" org.apache.cassandra.tools.NodeTool -h 127.0.0.1 -p " + itoa(c.jmxPort) + ` "$@"` + "\n"
	return os.WriteFile(filepath.Join(c.binDir, "nodetool"), []byte(script), 0o755)
}

// Nodetool runs nodetool against this node and returns its output.
func (c *Container) Nodetool(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "nodetool"), args...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("nodetool %s on %s: %w: %s", strings.Join(args, " "), c.spec.Pod, err, lastLine(out.String()))
	}
	return out.String(), nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Mode reads the node's OperationMode from its Jolokia agent ("" when the
// agent does not answer).
func (c *Container) Mode() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	v, err := c.Read(ctx, "org.apache.cassandra.db:type=StorageService", "OperationMode")
	if err != nil {
		return ""
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

var jolokiaClient = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 5 * time.Second}}

// Read reads one attribute from the node's Jolokia agent (the value as
// JSON), with the agent's credentials when the pod has them.
func (c *Container) Read(ctx context.Context, mbean, attribute string) (json.RawMessage, error) {
	if c.spec.JolokiaPort == 0 {
		return nil, errors.New("no jolokia port")
	}
	body, _ := json.Marshal(map[string]string{"type": "read", "mbean": mbean, "attribute": attribute})
	url := "http://" + net.JoinHostPort(c.spec.IP, itoa(c.spec.JolokiaPort)) + "/jolokia/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if user, pass := c.agentCredentials(); user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := jolokiaClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var r struct {
		Status int             `json:"status"`
		Value  json.RawMessage `json:"value"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("HTTP %s: %w", resp.Status, err)
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("jolokia status %d: %s", r.Status, r.Error)
	}
	return r.Value, nil
}

// agentCredentials are JOLOKIA_USER and JOLOKIA_PASSWORD from the pod, else
// user and password of the agent's properties file.
func (c *Container) agentCredentials() (string, string) {
	if u := c.spec.Env["JOLOKIA_USER"]; u != "" {
		return u, c.spec.Env["JOLOKIA_PASSWORD"]
	}
	args := strings.Fields(c.spec.Env["JVM_EXTRA_OPTS"])
	for i, a := range args {
		args[i] = c.fs.rewrite(a)
	}
	file := agentConfigFile(args)
	if file == "" {
		return "", ""
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", ""
	}
	var user, pass string
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(l), "=")
		switch strings.TrimSpace(k) {
		case "user":
			user = strings.TrimSpace(v)
		case "password":
			pass = strings.TrimSpace(v)
		}
	}
	return user, pass
}

// Probe runs the container's readiness probe: its exec command with bash,
// as rendered (127.0.0.1 is the pod IP here).
func (c *Container) Probe(ctx context.Context) error {
	p := c.main.ReadinessProbe
	if p == nil {
		return nil
	}
	if p.Exec == nil {
		return errors.New("readiness probe: only exec probes are run in the local world")
	}
	if p.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(p.TimeoutSeconds)*time.Second)
		defer cancel()
	}
	out, err := execIn(ctx, p.Exec.Command, c.fs, c.spec.IP, c.env, c.dir)
	if err != nil {
		return fmt.Errorf("readiness probe: %w: %s", err, lastLine(out))
	}
	return nil
}

// Stop stops the node as the kubelet stops a deleted pod: the preStop hook
// (nodetool drain), then SIGTERM, and SIGKILL when the grace period is
// over.
func (c *Container) Stop() {
	c.stopOnce.Do(func() {
		grace := c.spec.GracePeriod
		deadline := time.Now().Add(grace)
		if h := c.main.Lifecycle; h != nil && h.PreStop != nil && h.PreStop.Exec != nil {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			out, err := execIn(ctx, h.PreStop.Exec.Command, c.fs, c.spec.IP, c.env, c.dir)
			cancel()
			appendLog(c.log, fmt.Sprintf("preStop: err=%v: %s", err, out))
		}
		err := c.proc.Stop(max(time.Until(deadline), time.Second))
		appendLog(c.log, fmt.Sprintf("stopped: %v", err))
		c.opts.Logf("realcassandra: %s/%s/%s: stopped (%v)", c.spec.Region, c.spec.Namespace, c.spec.Pod, err)
	})
}

// Kill kills the JVM (SIGKILL).
func (c *Container) Kill() {
	c.proc.Kill()
	appendLog(c.log, "killed")
}

// Done is closed when the JVM has exited.
func (c *Container) Done() <-chan struct{} { return c.proc.Done() }
