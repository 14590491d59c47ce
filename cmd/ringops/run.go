package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/reconciler/daemon"
	"github.com/ringops/ringops/reconciler/daemon/leader"
	"github.com/ringops/ringops/reconciler/daemon/shard"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/review/pullrequests"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/provider"
	"github.com/ringops/ringops/sources/git"
)

// runFlags are the settings of `ringops run` (flags, RINGOPS_* variables,
// config file).
type runFlags struct {
	config string

	repo, branch, tag, path string
	interval, timeout       time.Duration
	verifyKeys              []string

	kubeconfig, inClusterContext string
	via                          string

	httpAddress, externalURL string
	apiAddress, apiTokenFile string
	ringLoad                 bool
	logFormat, logLevel      string

	leaderElect                           bool
	shards                                int
	manageKeyspaces                       bool
	leaderElectionNamespace               string
	leaderElectionID, leaderElectionCtx   string
	leaseDuration, renewDeadline, retryLE time.Duration

	forge, forgeAPIURL, forgeRepository string
	forgeTokenFile, forgeUsername       string
	statusInterval                      time.Duration
	prValidation                        bool
	prCheckMemoryMiB                    int64
	prCheckTimeout                      time.Duration

	resync                 time.Duration
	kubeQPS                float32
	kubeBurst              int
	gitlabWebhookTokenFile string
	webhookSecretFile      string
	shutdownGrace          time.Duration
	printConfig            bool
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --repo URL [--branch main] [--path clusters] [--kubeconfig K] ...",
		Short: "Follow a Git repository and roll its clusters out (the daemon)",
		Long: `Run is the daemon: it polls the repository (and polls at once on a
verified push webhook), and for every new revision validates, renders and
plans every cluster below --path, then rolls the clusters out as ` + "`ringops apply`" + `
does, seed region first, one ring-gated step at a time: clusters in
parallel, steps inside one cluster never. A newer revision never cuts a step
in flight. Between revisions it keeps reconciling: drift is applied again,
rollouts go on as the gates open.

Progress is posted as commit statuses when a forge token is given
(--forge-token-file): ringops/<cluster>/<region> per region, and ringops for
the revision as a whole; with --pr-validation, ringops/plan on pull-request
heads (never applied).

Every flag can also be set by a variable RINGOPS_<FLAG> (--leader-elect is
RINGOPS_LEADER_ELECT) or in the YAML file of --config (key = flag name);
the command line wins, then the variable, then the file. Git credentials
come from RINGOPS_GIT_* (see the README); secrets are read from files and
never logged.

HTTP (--http-address): /healthz, /readyz, /metrics (Prometheus), and
the push webhooks /hooks/github, /hooks/gitlab, /hooks/gitea (with
--webhook-secret-file). The clusters' topology and addresses are shown by
/api/v1/clusters (JSON): on --http-address, or on --api-address alone
when it is set; with --api-token-file only to requests that carry
"Authorization: Bearer <token>" (401 otherwise).

With --shards N (N > 1) every replica acts: the clusters are split over N
shards (FNV-1a of each cluster's directory, mod N), each held by one replica
through the Lease <leader-election-id>-shard-<i>; a replica named like a
StatefulSet pod (ringops-<n>) prefers shard n mod N. The shards of a replica
that dies move to the others within about one lease duration; a replica
that lost a shard's Lease writes nothing more for its clusters.

SIGTERM or SIGINT: the step in flight is finished (at most --shutdown-grace),
the statuses are flushed, the leader Lease (or the shard Leases) released, exit 0.`,
		Example: `  RINGOPS_GIT_TOKEN_FILE=/etc/ringops/git/token ringops run \
    --repo https://github.com/acme/cassandra.git --path clusters \
    --kubeconfig /etc/ringops/kubeconfig --forge-token-file /etc/ringops/forge/token`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindSettings(cmd.Flags(), f.config); err != nil {
				return &usageError{err}
			}
			if err := f.check(); err != nil {
				return err
			}
			if f.printConfig {
				return printSettings(cmd.OutOrStdout(), cmd.Flags())
			}
			return runDaemon(cmd.Context(), cmd.ErrOrStderr(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "YAML file of settings (keys: the flag names)")
	fl.StringVar(&f.repo, "repo", "", "URL of the Git repository (https://, ssh://, git@host:org/repo.git)")
	fl.StringVar(&f.branch, "branch", "main", "branch to follow")
	fl.StringVar(&f.tag, "tag", "", "tag to follow instead of a branch")
	fl.StringVar(&f.path, "path", "clusters", "directory of the repository holding the clusters (clusters/<name>/cluster.yaml)")
	fl.DurationVar(&f.interval, "interval", time.Minute, "time between two polls (plus up to 5% jitter)")
	fl.DurationVar(&f.timeout, "git-timeout", 60*time.Second, "timeout of each Git operation")
	fl.StringSliceVar(&f.verifyKeys, "verify-keys", nil, "files of trusted OpenPGP or SSH public keys: refuse revisions not signed by one (repeatable)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig with one context per region (default: $KUBECONFIG, then ~/.kube/config)")
	fl.StringVar(&f.inClusterContext, "in-cluster-context", "", "name of the context served by the pod's own ServiceAccount")
	fl.DurationVar(&f.resync, "resync-interval", time.Minute, "while a cluster is converged (or paused, or blocked), how often it is observed anyway: the events of its objects wake it at once, this is the safety net for what no event shows")
	fl.Float32Var(&f.kubeQPS, "kube-qps", 50, "requests per second to each API server (client-side limit, shared by every cluster)")
	fl.IntVar(&f.kubeBurst, "kube-burst", 100, "burst of requests to each API server")
	fl.StringVar(&f.via, "via", "direct", "how to reach the Jolokia agents: direct (pod IP) or proxy (API server pod proxy)")
	fl.StringVar(&f.httpAddress, "http-address", ":8080", "address of the HTTP listener (health, metrics, webhooks; the API and status page too unless --api-address)")
	fl.StringVar(&f.apiAddress, "api-address", "", "address of a listener of its own for the API (/api/v1/), the status page (/) and its events; \"\" serves them on --http-address")
	fl.BoolVar(&f.ringLoad, "ring-load", true, "read each node's load with its ring view (StorageService.LoadMap, one attribute more per health read) for the status page; the gates do not need it")
	fl.StringVar(&f.apiTokenFile, "api-token-file", "", "file holding the bearer token the API, the status page and its events ask for (read on every request, never logged); without it they are open to whoever reaches their listener")
	fl.StringVar(&f.externalURL, "external-url", "", "URL users reach this daemon at; commit statuses link to it")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.BoolVar(&f.manageKeyspaces, "manage-keyspaces", true, "read and alter keyspace replication over CQL, rebuild new datacenters and clean up after lowered factors; =false leaves replication to you")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "elect a leader on a Lease so that several replicas can run (only the leader acts)")
	fl.IntVar(&f.shards, "shards", 1, "split the clusters over this many shards, each held by one replica through the Lease <leader-election-id>-shard-<i> (in the namespace and context of the leader-election flags); 1: one replica runs every cluster")
	fl.StringVar(&f.leaderElectionNamespace, "leader-election-namespace", "", "namespace of the Lease (default: $POD_NAMESPACE)")
	fl.StringVar(&f.leaderElectionID, "leader-election-id", "ringops", "name of the Lease")
	fl.StringVar(&f.leaderElectionCtx, "leader-election-context", "", "kube context holding the Lease (default: --in-cluster-context, else the kubeconfig's current context)")
	fl.DurationVar(&f.leaseDuration, "leader-election-lease-duration", 15*time.Second, "how long a standby waits before taking a Lease not renewed")
	fl.DurationVar(&f.renewDeadline, "leader-election-renew-deadline", 10*time.Second, "how long the leader tries to renew before giving up")
	fl.DurationVar(&f.retryLE, "leader-election-retry-period", 2*time.Second, "time between two tries to take or renew the Lease")
	fl.StringVar(&f.forge, "forge", "", "forge kind when the repository URL does not say: "+kindsList())
	fl.StringVar(&f.forgeAPIURL, "forge-api-url", "", "base URL of the forge's API (derived from --repo when empty)")
	fl.StringVar(&f.forgeRepository, "forge-repository", "", "repository on the forge, owner/name (derived from --repo when empty)")
	fl.StringVar(&f.forgeTokenFile, "forge-token-file", "", "file holding the forge API token; commit statuses are posted only with it")
	fl.StringVar(&f.forgeUsername, "forge-username", "", "Bitbucket: user name for basic auth with the token as password")
	fl.DurationVar(&f.statusInterval, "status-interval", 10*time.Second, "least time between two updates of one commit status")
	fl.BoolVar(&f.prValidation, "pr-validation", false, "post ringops/plan on pull-request heads (needs a forge token)")
	fl.Int64Var(&f.prCheckMemoryMiB, "pr-check-memory-limit", pullrequests.DefaultChildMemoryLimit>>20, "MiB of memory each pull-request check may use, in its own process")
	fl.DurationVar(&f.prCheckTimeout, "pr-check-timeout", pullrequests.DefaultChildTimeout, "how long one pull-request check may take, in its own process")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file holding the GitHub and Gitea webhooks' secret (HMAC); /hooks/github and /hooks/gitea answer 404 without it")
	fl.StringVar(&f.gitlabWebhookTokenFile, "gitlab-webhook-token-file", "", "file holding GitLab's webhook token (sent in clear by GitLab: never the HMAC secret); /hooks/gitlab answers 404 without it")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", 20*time.Second, "on SIGTERM, how long the step in flight may take to finish")
	fl.BoolVar(&f.printConfig, "print-config", false, "print the settings as resolved from the flags, RINGOPS_* variables and --config (YAML), and exit")
	return cmd
}

func kindsList() string {
	var names []string
	for _, k := range forge.Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

func (f *runFlags) check() error {
	var errs []string
	if f.repo == "" {
		errs = append(errs, "--repo is required (or RINGOPS_REPO, or repo: in --config)")
	} else if u, err := url.Parse(f.repo); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			errs = append(errs, fmt.Sprintf("--repo %s carries a password, which would show in the process list, logs and statuses: "+
				"give the token in a file named by RINGOPS_GIT_TOKEN_FILE instead", forge.RedactURL(f.repo)))
		}
	}
	if err := checkVia(f.via); err != nil {
		errs = append(errs, err.Error())
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		errs = append(errs, fmt.Sprintf("--log-format %q: must be text or json", f.logFormat))
	}
	if _, err := parseLevel(f.logLevel); err != nil {
		errs = append(errs, err.Error())
	}
	if f.forge != "" {
		if _, err := forge.ParseKind(f.forge); err != nil {
			errs = append(errs, "--forge: "+err.Error())
		}
	}
	if f.prValidation && f.forgeTokenFile == "" {
		errs = append(errs, "--pr-validation needs a forge token (--forge-token-file or RINGOPS_FORGE_TOKEN_FILE)")
	}
	if f.interval <= 0 {
		errs = append(errs, "--interval must be positive")
	}
	if f.resync <= 0 {
		errs = append(errs, "--resync-interval must be positive")
	}
	if f.apiAddress != "" && f.apiAddress == f.httpAddress && !strings.HasSuffix(f.apiAddress, ":0") {
		errs = append(errs, fmt.Sprintf("--api-address %s is --http-address too: give the API a listener of its own, or leave --api-address empty", f.apiAddress))
	}
	switch {
	case f.shards < 1:
		errs = append(errs, fmt.Sprintf("--shards %d: must be 1 (one replica runs every cluster) or more", f.shards))
	case f.shards > 1 && f.leaderElect:
		errs = append(errs, fmt.Sprintf("--shards %d with --leader-elect: every replica runs the clusters of the shards it holds, through Leases of their own (%s-shard-<i>); drop --leader-elect", f.shards, f.leaderElectionID))
	}
	if f.kubeQPS <= 0 || f.kubeBurst <= 0 {
		errs = append(errs, "--kube-qps and --kube-burst must be positive")
	}
	if len(errs) > 0 {
		return &usageError{errors.New(strings.Join(errs, "; "))}
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: must be debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(w io.Writer, f runFlags) *slog.Logger {
	level, _ := parseLevel(f.logLevel)
	opts := &slog.HandlerOptions{Level: level}
	if f.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// runDaemon sets everything up, serves HTTP, and runs the daemon (under
// leader election when asked) until a signal.
func runDaemon(parent context.Context, stderr io.Writer, f runFlags) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := newLogger(stderr, f)
	slog.SetDefault(log)
	kubeconfigTicker := time.NewTicker(30 * time.Second)
	defer kubeconfigTicker.Stop()
	ctx, changed := watchKubeconfig(ctx, log, f.kubeconfig, kubeconfigTicker.C)
	s, err := setUpDaemon(ctx, log, f)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	defer s.close()
	err = s.run(ctx)
	if changed() {
		return &exitError{code: ExitError, err: errors.New("the kubeconfig changed: exiting so that the daemon restarts with the new credentials")}
	}
	return err
}

// watchKubeconfig ends ctx when the kubeconfig file's content changes (a
// rotated Secret): the daemon then stops like on SIGTERM and exits
// non-zero to be restarted, rather than go on with stale credentials. It
// reads the file again at every tick; a tick is taken only once the
// previous read is done.
func watchKubeconfig(ctx context.Context, log *slog.Logger, path string, ticks <-chan time.Time) (context.Context, func() bool) {
	if path == "" {
		return ctx, func() bool { return false }
	}
	first, err := os.ReadFile(path)
	if err != nil {
		return ctx, func() bool { return false }
	}
	ctx, cancel := context.WithCancel(ctx)
	var changed atomic.Bool
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticks:
			}
			now, err := os.ReadFile(path)
			if err == nil && !bytes.Equal(now, first) {
				log.Error("the kubeconfig changed: stopping to restart with the new credentials", "file", path)
				changed.Store(true)
				cancel()
				return
			}
		}
	}()
	return ctx, changed.Load
}

// daemonSetup is everything `ringops run` built.
type daemonSetup struct {
	f       runFlags
	log     *slog.Logger
	clients *kube.Clients
	engine  *reconciler.Engine
	poller  *git.Poller
	queue   *forge.Queue
	client  forge.Client
	target  forge.Target
	daemon  *daemon.Daemon
	metrics *daemon.Metrics
	server  *httpServer
	ha      *leader.Election
	shards  *shard.Set
	manager *kube.Manager
}

func setUpDaemon(ctx context.Context, log *slog.Logger, f runFlags) (*daemonSetup, error) {
	s := &daemonSetup{f: f, log: log, metrics: daemon.NewMetrics()}
	kopts := kube.DefaultOptions()
	kopts.Kubeconfig, kopts.InClusterContext = f.kubeconfig, f.inClusterContext
	kopts.QPS, kopts.Burst = f.kubeQPS, f.kubeBurst
	contexts, current, err := kube.KubeconfigContexts(kopts)
	if err != nil && f.inClusterContext == "" {
		return nil, err
	}
	if len(contexts) == 0 {
		return nil, errors.New("no kube context: give a kubeconfig with one context per region, or --in-cluster-context")
	}
	if s.clients, err = kube.NewClients(contexts, kopts); err != nil {
		return nil, err
	}
	mo := kube.DefaultManagerOptions()
	mo.Watch, mo.Logger = true, log // #18: observed from watch-fed caches
	manager, err := kube.NewManager(s.clients, mo)
	if err != nil {
		return nil, err
	}
	s.manager = manager
	router, secrets, onSpec, err := s.router()
	if err != nil {
		return nil, err
	}
	jo := jolokia.DefaultOptions()
	jo.ReadLoad = f.ringLoad
	jc := jolokia.NewClient(router, jo)
	s.engine, err = reconciler.New(reconciler.Clients{Kube: manager, Ring: jc,
		Operations: jolokia.NewOperations(jc, jolokia.DefaultOperationOptions()), Schema: cqlSchema(s.clients, manager, f.manageKeyspaces),
		Renderer: render.New(render.DefaultOptions()), Secrets: secretKeeper(s.clients, manager, secrets)}, engineOptions(f))
	if err != nil {
		return nil, err
	}
	if s.poller, err = s.newPoller(); err != nil {
		return nil, err
	}
	var rep daemon.Reporter
	if f.forgeTokenFile != "" {
		if s.queue, err = s.newQueue(log); err != nil {
			return nil, err
		}
		rep = s.queue
		s.metrics.Register(newQueueCollector(s.queue))
	}
	opts := daemon.DefaultOptions()
	opts.Path, opts.Contexts, opts.ExternalURL = f.path, contexts, strings.TrimSuffix(f.externalURL, "/")
	opts.ShutdownGrace, opts.OnSpec, opts.Logger, opts.Metrics = f.shutdownGrace, onSpec, log, s.metrics
	opts.ManageKeyspaces = f.manageKeyspaces
	if f.prValidation {
		if opts.PullRequests, err = s.newPullRequests(); err != nil {
			return nil, err
		}
	}
	if f.shards > 1 {
		if s.shards, err = newShards(f, s.clients, current, log); err != nil {
			return nil, err
		}
		opts.Shards = s.shards
	}
	if s.daemon, err = daemon.New(s.poller, s.engine, rep, opts); err != nil {
		return nil, err
	}
	if f.leaderElect {
		if s.ha, err = newElection(f, s.clients, current, log, s.metrics.SetLeader); err != nil {
			return nil, err
		}
	}
	s.server = newHTTPServer(s, log)
	log.Info("ringops run", "version", version, "repo", f.repo, "ref", s.poller.Ref(), "path", f.path,
		"contexts", contexts, "git_credentials", git.AuthFromEnv(), "forge", s.queue != nil, "leader_elect", f.leaderElect, "shards", f.shards,
		"api_token", f.apiTokenFile != "", "api_address", f.apiAddress)
	if f.apiTokenFile == "" {
		log.Warn("the API and the status page show the clusters' topology and addresses to whoever reaches their listener: give --api-token-file, or a private --api-address")
	}
	return s, nil
}

// router is the way to the Jolokia agents, the SecretRouter (nil with the
// pod proxy), and the hook telling it each cluster's spec.
func (s *daemonSetup) router() (jolokia.Router, *reconciler.SecretRouter, func(*schemas.CassandraCluster), error) {
	if s.f.via == "proxy" {
		p, err := jolokia.NewPodProxy(s.clients.Configs())
		warn := func(c *schemas.CassandraCluster) {
			if err := proxyRefused(c, ""); err != nil {
				s.log.Warn(err.Error(), "cluster", c.Metadata.Name)
			}
		}
		return p, nil, warn, err
	}
	r := reconciler.NewSecretRouter(s.clients, reconciler.SecretRouterOptions{
		Warn: func(err error) { s.log.Warn("jolokia credentials", "err", err) }})
	return r, r, r.SetCluster, nil
}

func (s *daemonSetup) newPoller() (*git.Poller, error) {
	o := git.DefaultOptions()
	o.URL, o.Branch, o.Tag, o.Auth = s.f.repo, s.f.branch, s.f.tag, git.AuthFromEnv()
	o.Interval, o.Jitter, o.Timeout = s.f.interval, s.f.interval/20, s.f.timeout
	// After failures, never wait longer than a normal poll would (nor 5m).
	o.MaxBackoff = max(min(o.MaxBackoff, s.f.interval), o.MinBackoff)
	if len(s.f.verifyKeys) > 0 {
		o.Verify = &git.VerifyOptions{KeyFiles: s.f.verifyKeys}
	}
	return git.NewPoller(o)
}

func (s *daemonSetup) newQueue(log *slog.Logger) (*forge.Queue, error) {
	kind := forge.Kind("")
	if s.f.forge != "" {
		kind, _ = forge.ParseKind(s.f.forge)
	}
	client, target, err := provider.NewClient(provider.Options{RepoURL: s.f.repo,
		Target:   forge.TargetOptions{Kind: kind, APIURL: s.f.forgeAPIURL, Repository: s.f.forgeRepository},
		Token:    forge.TokenFile(s.f.forgeTokenFile),
		Username: s.f.forgeUsername, GitLabRef: s.poller.Ref()})
	if err != nil {
		return nil, err
	}
	s.target, s.client = target, client
	qo := forge.DefaultOptions()
	qo.MinInterval, qo.Logger = s.f.statusInterval, log
	q, err := forge.NewQueue(client, qo)
	if err != nil {
		return nil, err
	}
	log.Info("commit statuses", "forge", target.Kind, "api", target.APIURL, "owner", target.Owner, "repository", target.Repo, "token", forge.TokenFile(s.f.forgeTokenFile).String())
	return q, nil
}

// run serves HTTP and runs the daemon until ctx ends.
func (s *daemonSetup) run(ctx context.Context) error {
	srvErr := make(chan error, 1)
	go func() { srvErr <- s.server.serve() }()
	qctx, stopQueue := context.WithCancel(context.WithoutCancel(ctx))
	defer stopQueue()
	if s.queue != nil {
		go s.queue.Run(qctx)
	}
	s.server.setReady()
	var err error
	switch {
	case s.ha != nil:
		err = s.ha.Run(ctx, s.daemon.Run, s.poller)
	case s.shards != nil:
		err = s.runSharded(ctx)
	default:
		s.metrics.SetLeader(true)
		err = s.daemon.Run(ctx)
	}
	if s.queue != nil {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if ferr := s.queue.Flush(fctx); ferr != nil {
			s.log.Warn("statuses not all posted before exit", "err", ferr)
		}
		cancel()
	}
	select {
	case e := <-srvErr:
		return &exitError{code: ExitError, err: fmt.Errorf("http: %w", e)}
	default:
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return &exitError{code: ExitError, err: err}
	}
	s.log.Info("stopped")
	return nil
}

// runSharded runs the daemon beside the shard Leases: the Leases outlive
// the daemon's last step (their context ends only once it returned), then
// every held shard is released for the other replicas at once.
func (s *daemonSetup) runSharded(ctx context.Context) error {
	s.metrics.SetLeader(true) // every replica acts, on its shards
	sctx, release := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); s.shards.Run(sctx) }()
	err := s.daemon.Run(ctx)
	release()
	<-done
	return err
}

func (s *daemonSetup) close() {
	if s.server != nil {
		s.server.close()
	}
	if s.engine != nil {
		s.engine.Close()
	}
	if s.manager != nil {
		s.manager.Close()
	}
}

// newPullRequests checks pull-request heads (ringops/plan statuses on
// the forge of the statuses).
func (s *daemonSetup) newPullRequests() (daemon.PullRequests, error) {
	o := pullrequests.DefaultOptions()
	o.Forge, o.Root, o.Logger = s.target.Kind, s.f.path, s.log
	o.ManageKeyspaces = s.f.manageKeyspaces
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("--pr-validation: the checks run in a child process of this binary: %w", err)
	}
	o.Planner = pullrequests.Isolated{Command: []string{self, checkPullRequestCommand},
		MemoryLimit: s.f.prCheckMemoryMiB << 20, Timeout: s.f.prCheckTimeout}
	o.Statuses = s.client
	c, err := pullrequests.New(s.poller, s.queue, o)
	if err != nil {
		return nil, fmt.Errorf("--pr-validation: %w", err)
	}
	return prChecker{c}, nil
}

// prChecker adapts a *pullrequests.Checker to daemon.PullRequests.
type prChecker struct{ c *pullrequests.Checker }

func (p prChecker) Check(ctx context.Context, base *git.Snapshot) error {
	_, err := p.c.Check(ctx, base)
	return err
}

// engineOptions are the engine's defaults, but for converged clusters,
// observed every --resync-interval.
func engineOptions(f runFlags) reconciler.Options {
	o := reconciler.DefaultOptions()
	o.IdleInterval = f.resync
	return o
}

// cqlSchema is the engine's CQL edge when keyspaces are managed (nil
// otherwise: the planner then leaves replication alone), with the CQL
// credentials and CA read in each region; it rotates the password of
// ringops' own role (spec.cql.rotate), writing its Secrets through
// manager.
func cqlSchema(clients *kube.Clients, manager *kube.Manager, manage bool) reconciler.Schema {
	if !manage {
		return nil
	}
	r := reconciler.NewSecretRouter(clients, reconciler.SecretRouterOptions{})
	return &reconciler.CQLSchema{Router: r, Roles: logRoleSetup,
		Rotator: reconciler.NewJolokiaSecrets(clients, manager, reconciler.JolokiaSecretsOptions{Changed: r.Forget})}
}

// logRoleSetup logs ringops' own CQL role being created, or its password
// changed (never the password).
func logRoleSetup(cluster string, setup cql.RoleSetup) {
	if setup == cql.PasswordChanged {
		slog.Info("rotated the password of CQL role "+reconciler.CQLRoleName, "cluster", cluster, "setup", setup.String())
		return
	}
	slog.Info("created CQL role "+reconciler.CQLRoleName+"; disabled the default superuser "+cql.DefaultSuperuser.Username, "cluster", cluster, "setup", setup.String())
}
