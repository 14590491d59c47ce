package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// applyFlags are the flags of `ringops apply`.
type applyFlags struct {
	kubeconfig  string
	contexts    []string
	wait        bool
	timeout     time.Duration
	previous    string
	via         string
	credentials string
	verbose     bool
	keyspaces   bool
}

func newApplyCommand() *cobra.Command {
	var f applyFlags
	cmd := &cobra.Command{
		Use:   "apply <cluster-dir> [--kubeconfig K] [--context C]... [--wait] [--timeout D] [--previous <cluster.yaml>]",
		Short: "Roll a cluster out to its spec, one safe step at a time",
		Long: `Apply moves a cluster towards its spec: it renders every region, observes
what the regions hold and the ring's health, and carries out the planner's
steps, seed region first, one disruptive step (a node joining, leaving or
restarting) at a time, each gated on a healthy ring. One line is printed
per step and per wait.

Without --wait it applies what is due now (the objects, then at most one
disruptive step, once the ring has been healthy for spec.rollout.settle as
this run sees it: a new run waits the settle time again) and reports what
the rollout waits for; run it again to go on. With --wait it
steps until the cluster has converged, the rollout is blocked, a step
waits longer than spec.rollout.healthTimeout, or --timeout passes.

A spec that fails validation, or whose change from --previous (the spec
rolled out before) is unsafe, applies nothing. The contexts of --previous
and --context are observed too, so that the objects of a removed
datacenter are still found. Jolokia credentials come from the Secret
named by spec.jolokia.credentialsSecret in each region, else from
<cluster>-jolokia, which ringops creates there (a random user and
password) before it first writes a StatefulSet, and rotates when
spec.jolokia.rotate changes (or --jolokia-credentials); they are never
printed.

Exit status: 0 converged (without --wait: steps taken, or the rollout in
progress), 2 invalid spec or change (nothing applied), 3 other errors,
5 blocked (needs a human, paused, outside the change windows), 6 health
timeout or --timeout, 7 an API server unreachable.`,
		Example: `  ringops apply clusters/orders --wait
  ringops apply clusters/orders --previous /tmp/cluster.yaml.old --wait --timeout 2h`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			return runApply(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fl.StringSliceVar(&f.contexts, "context", nil, "another kube context to observe, where the cluster may have objects left (repeatable)")
	fl.BoolVar(&f.wait, "wait", false, "step until converged, blocked or timed out")
	fl.DurationVar(&f.timeout, "timeout", 0, "with --wait, give up after this long (0: no limit but spec.rollout.healthTimeout)")
	fl.StringVar(&f.previous, "previous", "", "the cluster.yaml rolled out before: the change is validated against it")
	fl.StringVar(&f.via, "via", "direct", "how to reach the Jolokia agents: direct (pod IP) or proxy (API server pod proxy)")
	fl.StringVar(&f.credentials, "jolokia-credentials", "", "Jolokia credentials: a directory with files username and password, or a user:password file (default: the spec's Secret)")
	fl.BoolVar(&f.keyspaces, "manage-keyspaces", true, "read and alter keyspace replication over CQL, rebuild new datacenters and clean up after lowered factors; =false leaves replication to you")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print times, and the API requests made per region at the end")
	return cmd
}

func (f *applyFlags) check() error {
	if err := checkVia(f.via); err != nil {
		return &usageError{err}
	}
	switch {
	case f.timeout < 0:
		return &usageError{errors.New("--timeout must not be negative")}
	}
	return nil
}

func runApply(ctx context.Context, stdout, stderr io.Writer, dir string, f applyFlags) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := &progress{w: stdout, verbose: f.verbose}
	cd, err := loadClusterDir(dir)
	if err != nil {
		printErrors(stderr, err)
		out.line(fmt.Sprintf("[%s] blocked: the spec is invalid, nothing is applied", filepath.Base(filepath.Clean(dir))))
		if f.verbose { // no API server was even dialled
			out.line(fmt.Sprintf("requests total: %s writes=0", kube.Counts{}))
		}
		return &exitError{code: ExitInvalid}
	}
	prev, err := loadPrevious(f.previous)
	if err != nil {
		return invalid(err)
	}
	run, err := newApplyRun(ctx, stderr, out, cd, prev, f)
	if err != nil {
		return err
	}
	defer run.close()
	return run.loop(ctx)
}

func loadPrevious(path string) (*schemas.CassandraCluster, error) {
	if path == "" {
		return nil, nil
	}
	c, err := schemas.Load(path)
	if err != nil {
		return nil, fmt.Errorf("--previous: %w", err)
	}
	return c, nil
}

// applyRun is one `ringops apply`: the engine, its target and its
// request counter.
type applyRun struct {
	f       applyFlags
	out     *progress
	engine  *reconciler.Engine
	target  *reconciler.Target
	counter *kube.Counter
}

func newApplyRun(ctx context.Context, stderr io.Writer, out *progress, cd *clusterDir, prev *schemas.CassandraCluster, f applyFlags) (*applyRun, error) {
	c := cd.Cluster
	contexts := c.Contexts()
	if prev != nil {
		contexts = append(contexts, prev.Contexts()...)
	}
	clients, err := kube.NewClients(append(contexts, f.contexts...), kube.Options{Kubeconfig: f.kubeconfig})
	if err != nil {
		return nil, err
	}
	counter := kube.NewCounter()
	if clients, err = clients.WithCounter(counter); err != nil {
		return nil, err
	}
	manager, err := kube.NewManager(clients, kube.DefaultManagerOptions())
	if err != nil {
		return nil, err
	}
	router, secrets, err := applyRouter(stderr, clients, c, f)
	if err != nil {
		return nil, err
	}
	jc := jolokia.NewClient(router, jolokia.DefaultOptions())
	engine, err := reconciler.New(reconciler.Clients{Kube: manager, Ring: jc,
		Operations: jolokia.NewOperations(jc, jolokia.DefaultOperationOptions()), Schema: cqlSchema(clients, manager, f.keyspaces),
		Renderer: render.New(render.DefaultOptions()), Secrets: secretKeeper(clients, manager, secrets),
		Events: out.event}, reconciler.DefaultOptions())
	if err != nil {
		return nil, err
	}
	t := engine.Prepare(ctx, reconciler.Source{Name: c.Metadata.Name, FS: cd.FS, Dir: ".", Cluster: c,
		Previous: prev, Contexts: f.contexts})
	if t.Desired.Invalid != nil {
		printErrors(stderr, t.Desired.Invalid)
	}
	return &applyRun{f: f, out: out, engine: engine, target: t, counter: counter}, nil
}

// checkVia checks the --via of apply, status and run.
func checkVia(via string) error {
	if via != "direct" && via != "proxy" {
		return fmt.Errorf("--via %q: must be direct or proxy", via)
	}
	return nil
}

// applyRouter is the way to the Jolokia agents (jolokiaRouter); a Secret
// or CA that cannot be read is a warning on stderr, and read again later
// (a region down when the run starts may come back).
func applyRouter(stderr io.Writer, clients *kube.Clients, c *schemas.CassandraCluster, f applyFlags) (jolokia.Router, *reconciler.SecretRouter, error) {
	var mu sync.Mutex
	return jolokiaRouter(clients, c, f.via, f.credentials, func(err error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(stderr, "ringops: warning:", err)
	})
}

func (r *applyRun) close() {
	r.engine.Close()
	if !r.f.verbose {
		return
	}
	for _, kc := range r.counter.Contexts() {
		r.out.line(fmt.Sprintf("requests %s: %s", kc, r.counter.Counts(kc)))
	}
	t := r.counter.Total()
	r.out.line(fmt.Sprintf("requests total: %s writes=%d", t, t.Writes()))
}

// loop drives the engine until the run is over (reconciler.Driver: the
// daemon's guards); see the exit codes in the help.
func (r *applyRun) loop(ctx context.Context) error {
	o := reconciler.DefaultDriverOptions()
	o.Mode = reconciler.DriveOnce
	if r.f.wait {
		o.Mode, o.Timeout = reconciler.DriveUntilDone, r.f.timeout
	}
	out := reconciler.NewDriver(r.engine, o).Drive(ctx, r.target)
	switch out.End {
	case reconciler.EndCanceled, reconciler.EndInterrupted:
		return r.interrupted(out)
	case reconciler.EndFailed:
		return &exitError{code: ExitError, err: out.Err}
	case reconciler.EndStuck:
		return &exitError{code: ExitBlocked, err: out.Err}
	}
	p := out.Plan
	switch {
	case len(p.Steps) > 0: // DriveOnce after a disruptive step
		return nil
	case p.Wait.Reason == plan.Blocked && r.target.Desired.Invalid != nil:
		return &exitError{code: ExitInvalid}
	}
	return waitExit(p.Wait)
}

// waitExit is the exit of a run that ends on a wait (printed already).
func waitExit(w plan.Wait) error {
	if code := reconciler.WaitOf(w.Reason).Exit; code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// interrupted is the exit when ctx ended: --timeout, or a signal.
func (r *applyRun) interrupted(out reconciler.Outcome) error {
	last := out.Waited
	what := "nothing yet"
	if last.Wait.Reason != 0 {
		what = last.Wait.String()
	}
	if !errors.Is(out.Err, context.DeadlineExceeded) {
		return &exitError{code: ExitError, err: fmt.Errorf("interrupted while waiting: %s", what)}
	}
	code := ExitTimeout
	if last.Wait.Reason == plan.RegionUnreachable {
		code = ExitUnreachable
	}
	return &exitError{code: code, err: fmt.Errorf("--timeout %s passed while waiting: %s", r.f.timeout, what)}
}

// progress prints the events: one line per step done or failed, one per
// wait (a wait equal to the last one printed is not printed again).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	verbose  bool
	lastWait string
}

func (p *progress) event(ev reconciler.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case reconciler.StepStarted:
		return
	case reconciler.Waiting:
		key := strings.Join([]string{ev.Wait.Reason.String(), ev.Wait.Context, ev.Wait.Message}, "\x00")
		if key == p.lastWait {
			return
		}
		p.lastWait = key
	default:
		p.lastWait = ""
	}
	p.print(ev.At, ev.String())
}

func (p *progress) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.print(time.Now(), s)
}

func (p *progress) print(at time.Time, s string) {
	if p.verbose {
		s = at.Format("15:04:05.000") + " " + s
	}
	fmt.Fprintln(p.w, s)
}
