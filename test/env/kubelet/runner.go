package kubelet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// runner runs the containers of one pod, from its binding to its end.
type runner struct {
	k                    *Kubelet
	key, namespace, name string
	uid                  types.UID
	node, hostIP         string
	pod                  *corev1.Pod // as first seen: the spec does not change
	ip                   string

	mu          sync.Mutex
	container   Container // the running container, nil when none
	starting    bool      // a container is starting
	terminating bool      // the pod is being deleted: stop gracefully, then delete it
	abandoned   bool      // the pod is gone: kill, write nothing
	killed      bool      // Kill asked for the container to die
	signal      chan struct{}
	done        chan struct{}

	st        podState // what the runner last decided, written by flush
	written   bool     // st is in the API server
	spec      Spec
	graceful  bool // the last container was stopped gracefully
	sandboxAt metav1.Time
}

// podState is the part of the pod status the runner owns.
type podState struct {
	phase    corev1.PodPhase
	state    corev1.ContainerState
	last     corev1.ContainerState
	ready    bool
	started  bool
	restarts int32
	id       string
}

func newRunner(k *Kubelet, pod *corev1.Pod) *runner {
	r := &runner{
		k: k, key: pod.Namespace + "/" + pod.Name, namespace: pod.Namespace, name: pod.Name,
		uid: pod.UID, node: pod.Spec.NodeName, pod: pod.DeepCopy(),
		signal: make(chan struct{}, 1), done: make(chan struct{}),
	}
	r.hostIP = k.hostIP(r.node)
	return r
}

func (r *runner) wake() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *runner) terminate() {
	r.mu.Lock()
	r.terminating = true
	r.mu.Unlock()
	r.wake()
}

func (r *runner) abandon() {
	r.mu.Lock()
	r.abandoned = true
	r.mu.Unlock()
	r.wake()
}

// kill asks the running container to die; false when none runs.
func (r *runner) kill() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if (r.container == nil && !r.starting) || r.terminating || r.abandoned {
		return false
	}
	r.killed = true
	r.wake()
	return true
}

// stopping reports whether the runner must end: the pod is being deleted or
// is gone, or the kubelet stops.
func (r *runner) stopping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.terminating || r.abandoned || r.k.ctx.Err() != nil
}

func (r *runner) gone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.abandoned || r.k.ctx.Err() != nil
}

func (r *runner) takeKill() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.killed
	r.killed = false
	return k
}

func (r *runner) setStarting(on bool) {
	r.mu.Lock()
	r.starting = on
	r.mu.Unlock()
}

func (r *runner) setContainer(c Container) {
	r.mu.Lock()
	r.container = c
	r.mu.Unlock()
}

func (r *runner) logf(format string, args ...any) {
	r.k.opts.Logf("kubelet %s: pod %s: %s", r.k.opts.Region, r.key, fmt.Sprintf(format, args...))
}

// run is the pod's life: sandbox (IP), then start / supervise / restart
// until the pod is deleted or gone.
func (r *runner) run() {
	defer close(r.done)
	defer r.k.forget(r)
	defer r.k.forgetPodVolumes(r)
	if !r.sandbox() {
		return
	}
	defer r.k.ips.release(r.ip)
	defer r.k.dir.Delete(r.k.opts.Region, r.namespace, r.name, r.ip)
	backoff := r.k.opts.RestartBackoff
	for !r.stopping() {
		c, err := r.start()
		if err == nil {
			err = r.supervise(c, &backoff)
		}
		if r.stopping() {
			break
		}
		r.crashed(err, backoff)
		r.sleep(backoff)
		backoff = min(2*backoff, r.k.opts.MaxRestartBackoff)
	}
	r.finish()
}

// sandbox gives the pod its IP and publishes it; false when the pod went
// away first.
func (r *runner) sandbox() bool {
	for {
		ip, err := r.k.ips.allocate()
		if err == nil {
			r.ip = ip
			break
		}
		r.logf("%v", err)
		if r.sleep(r.k.opts.RetryInterval); r.stopping() {
			if !r.gone() {
				_ = r.k.deletePod(r.namespace, r.name, r.uid)
			}
			return false
		}
	}
	r.k.dir.Set(r.k.opts.Region, r.namespace, r.name, r.pod.Spec.Subdomain, r.ip)
	r.sandboxAt = metav1.Now()
	r.st = podState{phase: corev1.PodPending, state: waiting("ContainerCreating", "")}
	r.flush()
	return true
}

// errKilled is the exit of a container that was killed (Kill, CrashLoop).
var errKilled = errors.New("container killed (exit code 137)")

// errExited is the exit of a container that ended by itself.
var errExited = errors.New("container exited")

// exitedError is a container that ended by itself, with the end of its
// log as its message (terminationMessagePolicy FallbackToLogsOnError).
type exitedError struct{ tail string }

func (e *exitedError) Error() string { return e.tail }
func (e *exitedError) Unwrap() error { return errExited }

// exited is the exit of c, which ended by itself: errExited, or the end
// of its log when the pod's cassandra container asks for it
// (FallbackToLogsOnError) and c keeps one.
func (r *runner) exited(c Container) error {
	spec := cassandraContainer(r.pod)
	lt, ok := c.(LogTailer)
	if !ok || spec == nil || spec.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError {
		return errExited
	}
	if tail := strings.TrimSpace(lt.LogTail(80, 2048)); tail != "" {
		return &exitedError{tail: tail}
	}
	return errExited
}

// errCrashLoopFault is the start failure of a pod with the CrashLoop fault.
var errCrashLoopFault = errors.New("container exited at start: CrashLoop fault")

// start starts the pod's Cassandra container: the container runs (not
// ready) while the node starts; a start error is the container exiting.
func (r *runner) start() (Container, error) {
	c := cassandraContainer(r.pod)
	if c == nil {
		r.running()
		return noContainer{}, nil
	}
	if r.k.fault(r.key) == CrashLoop {
		r.running()
		return nil, errCrashLoopFault
	}
	spec, err := r.k.spec(r.k.ctx, r.pod, c, r.ip)
	if err != nil {
		return nil, err
	}
	r.spec = spec
	r.running()
	ctr, err := r.startInterruptible(spec)
	if err != nil {
		return nil, err
	}
	r.setContainer(ctr)
	r.logf("container started (%s)", r.ip)
	return ctr, nil
}

// running records a container that has just started.
func (r *runner) running() {
	r.st.phase = corev1.PodRunning
	r.st.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}
	r.st.started, r.st.ready = true, false
	r.st.id = fmt.Sprintf("sim://%s-%d", r.uid, r.st.restarts)
	r.written = false
	r.flush()
}

// startInterruptible runs Runtime.Start, cancelled when the pod stops or
// the container is killed while it starts.
func (r *runner) startInterruptible(spec Spec) (Container, error) {
	ctx, cancel := context.WithCancel(r.k.ctx)
	defer cancel()
	type result struct {
		c   Container
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := r.k.runtime.Start(ctx, spec)
		ch <- result{c, err}
	}()
	r.setStarting(true)
	defer r.setStarting(false)
	killed := false
	for {
		select {
		case res := <-ch:
			switch {
			case res.err != nil && killed:
				return nil, errKilled
			case res.err != nil:
				return nil, fmt.Errorf("container exited at start: %w", res.err)
			case killed || r.stopping():
				res.c.Kill()
				return nil, errKilled
			}
			return res.c, nil
		case <-r.signal:
			if r.takeKill() || r.stopping() {
				killed = true
				cancel()
			}
		}
	}
}

// supervise probes the container until it must stop or die. It returns nil
// when the pod is stopping, errKilled when the container was killed.
func (r *runner) supervise(c Container, backoff *time.Duration) error {
	defer r.setContainer(nil)
	tick := time.NewTicker(r.k.opts.ProbeInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.signal:
		case <-tick.C:
		case <-r.k.ctx.Done():
		case <-c.Done():
			if !r.stopping() {
				return r.exited(c)
			}
		}
		switch {
		case r.gone():
			c.Kill()
			return nil
		case r.stopping():
			r.logf("stopping container gracefully")
			c.Stop()
			r.graceful = true
			return nil
		case r.takeKill() || r.k.fault(r.key) == CrashLoop:
			c.Kill()
			return errKilled
		}
		if ready := r.ready(c); ready != r.st.ready {
			r.st.ready = ready
			r.written = false
			r.logf("ready=%t", ready)
			if ready {
				*backoff = r.k.opts.RestartBackoff
			}
		}
		r.flush()
	}
}

// ready is the readiness probe: the node is NORMAL and its Jolokia agent
// says so too, and that it serves CQL.
func (r *runner) ready(c Container) bool {
	if _, ok := c.(noContainer); ok {
		return true
	}
	if r.k.fault(r.key) == NeverReady {
		return false
	}
	if p, ok := c.(Prober); ok {
		ctx, cancel := context.WithTimeout(r.k.ctx, r.k.opts.ProbeTimeout)
		defer cancel()
		err := p.Probe(ctx)
		return err == nil
	}
	if c.Mode() != "NORMAL" {
		return false
	}
	return probeJolokia(r.k.ctx, jolokiaURL(c, r.spec), r.spec, r.k.opts.ProbeTimeout) == nil
}

// crashed records a container that exited (or could not start).
func (r *runner) crashed(err error, backoff time.Duration) {
	code, reason := int32(1), "Error"
	switch {
	case errors.Is(err, errKilled):
		code = 137
	case errors.Is(err, errConfig):
		r.st.state = waiting("CreateContainerConfigError", err.Error())
		r.st.ready, r.written = false, false
		r.logf("%v", err)
		r.flush()
		return
	}
	now := metav1.Now()
	started := now
	if run := r.st.state.Running; run != nil {
		started = run.StartedAt
	}
	r.st.last = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, Message: err.Error(), StartedAt: started, FinishedAt: now,
		ContainerID: r.st.id,
	}}
	r.st.restarts++
	r.st.phase = corev1.PodRunning
	r.st.state = waiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
		backoff, ContainerCassandra, r.name, r.namespace, r.uid))
	r.st.ready, r.written = false, false
	r.logf("container crashed: %v (restarts %d)", err, r.st.restarts)
	r.flush()
}

// sleep waits for d, or less when the pod stops.
func (r *runner) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return
		case <-r.signal:
			if r.stopping() {
				return
			}
			r.takeKill() // nothing runs: nothing to kill
		case <-r.k.ctx.Done():
			return
		}
	}
}

// finish writes the final status of a deleted pod and deletes it (grace
// period 0); a pod that is gone, or a kubelet that stops, writes nothing.
func (r *runner) finish() {
	if r.gone() {
		return
	}
	now := metav1.Now()
	r.st.ready, r.written = false, false
	if run := r.st.state.Running; run != nil || r.graceful {
		started := now
		if run != nil {
			started = run.StartedAt
		}
		r.st.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: now, ContainerID: r.st.id,
		}}
		r.st.phase = corev1.PodSucceeded
	} else {
		r.st.phase = corev1.PodFailed
	}
	r.flush()
	if err := r.k.deletePod(r.namespace, r.name, r.uid); err != nil {
		r.logf("%v", err)
		r.k.queue.AddAfter(kindPod+"/"+r.key, r.k.opts.RetryInterval)
	}
}

func waiting(reason, msg string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
}

// noContainer stands for the containers of a pod without a "cassandra"
// container: they run and are ready as soon as the pod has its IP.
type noContainer struct{}

func (noContainer) Mode() string { return "NORMAL" }
func (noContainer) Stop()        {}
func (noContainer) Kill()        {}

func (noContainer) Done() <-chan struct{} { return nil }

// flush writes the runner's state to the pod status when it is not written
// yet; a failed write is retried at the next flush.
func (r *runner) flush() {
	if r.written || r.gone() {
		return
	}
	ctx, cancel := context.WithTimeout(r.k.ctx, 10*time.Second)
	defer cancel()
	err := r.k.updatePodStatus(ctx, r.namespace, r.name, r.uid, r.apply)
	if err != nil {
		r.logf("%v", err)
		return
	}
	r.written = true
}
