package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/reconciler/daemon"
	"github.com/ringops/ringops/reconciler/daemon/page"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/provider"
)

// httpServer is the daemon's listeners: health, metrics and webhooks on
// --http-address; the JSON view of the clusters on the same listener, or
// on --api-address alone when it is set, behind the bearer token of
// --api-token-file when there is one.
type httpServer struct {
	s       *daemonSetup
	log     *slog.Logger
	servers []*http.Server // the main listener first
	ready   atomic.Bool
}

func newHTTPServer(s *daemonSetup, log *slog.Logger) *httpServer {
	h := &httpServer{s: s, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", h.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	for _, wh := range provider.Webhooks() {
		mux.Handle("/hooks/"+string(wh.Kind()), h.webhook(wh))
	}
	api := tokenGuard{file: s.f.apiTokenFile, log: log}.wrap(h.apiMux())
	h.servers = append(h.servers, newServer(s.f.httpAddress, mux))
	if s.f.apiAddress == "" {
		mux.Handle("/", api)
	} else {
		h.servers = append(h.servers, newServer(s.f.apiAddress, api))
	}
	return h
}

func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
}

// apiMux serves what shows the clusters (topology, addresses): the JSON
// API, the status page and its events. Guarded.
func (h *httpServer) apiMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/clusters", h.clusters)
	mux.HandleFunc("GET /api/v1/clusters/{name}", h.cluster)
	o := page.DefaultOptions()
	o.CommitURL, o.Leading = h.s.commitURL(), h.s.leading
	page.New(h.s.daemon, o).Register(mux)
	return mux
}

// commitURL is the forge's web page of a commit, as a template.
func (s *daemonSetup) commitURL() string {
	kind := s.target.Kind
	if kind == "" && s.f.forge != "" {
		kind, _ = forge.ParseKind(s.f.forge)
	}
	return forge.CommitURLTemplate(s.f.repo, kind)
}

// serve listens on every address, then serves until close; it returns
// the first listener's error.
func (h *httpServer) serve() error {
	lns := make([]net.Listener, 0, len(h.servers))
	for i, srv := range h.servers {
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return err
		}
		lns = append(lns, ln)
		what := "http listening"
		if i > 0 {
			what = "api listening"
		}
		h.log.Info(what, "address", ln.Addr().String(), "token", h.s.f.apiTokenFile != "")
	}
	errs := make(chan error, len(lns))
	for i, ln := range lns {
		go func() { errs <- h.servers[i].Serve(ln) }()
	}
	for range lns {
		if err := <-errs; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}

func (h *httpServer) setReady() { h.ready.Store(true) }

func (h *httpServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range h.servers {
		_ = srv.Shutdown(ctx)
	}
}

// readyz: the handlers, the Git source and the kube clients are set up
// (on the leader and the standby alike).
func (h *httpServer) readyz(w http.ResponseWriter, _ *http.Request) {
	if !h.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// clustersView is GET /api/v1/clusters.
type clustersView struct {
	Leader   bool                  `json:"leader"`
	Source   daemon.SourceState    `json:"source"`
	Clusters []daemon.ClusterState `json:"clusters"`
}

func (h *httpServer) clusters(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, clustersView{Leader: h.s.leading(), Source: h.s.daemon.Source(), Clusters: h.s.daemon.Clusters()})
}

func (h *httpServer) cluster(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, c := range h.s.daemon.Clusters() {
		if c.Name == name {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	msg := "no cluster " + name
	if !h.s.leading() {
		msg += " on this replica: it is the standby, ask the leader"
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// webhook verifies a push event of the forge of wh with the secret read
// from its file now (a rotated Secret is picked up at once) and triggers a
// poll: here when this replica leads, through the webhook Lease otherwise.
// GitHub and Gitea sign with --webhook-secret-file (HMAC); GitLab sends its
// token in clear in every request (forge.HookToken), so it has a file of
// its own (--gitlab-webhook-token-file): a token seen in transit is never
// the HMAC key of the other endpoints. Each endpoint takes its forge's
// events only.
func (h *httpServer) webhook(wh forge.Webhook) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, file := wh.Kind(), h.s.f.webhookSecretFile
		if wh.Credential() == forge.HookToken {
			file = h.s.f.gitlabWebhookTokenFile
		}
		if file == "" {
			http.NotFound(w, r)
			return
		}
		key, err := secret.ReadFile(file)
		if err != nil {
			h.log.Error("webhook secret unreadable", "forge", string(f), "file", file, "err", err)
			http.Error(w, "webhook secret unavailable", http.StatusServiceUnavailable)
			return
		}
		o := forge.DefaultWebhookOptions()
		o.Ref, o.Forge, o.Logger = h.s.poller.Ref(), f, h.log
		o.Secrets = map[forge.Kind]secret.Secret{f: key}
		o.PullRequests = h.s.f.prValidation
		provider.NewWebhookHandler(o, triggerFunc(h.s.trigger)).ServeHTTP(w, r)
	}
}

type triggerFunc func()

func (f triggerFunc) Trigger() { f() }

// leading reports whether this replica acts.
func (s *daemonSetup) leading() bool { return s.ha == nil || s.ha.Leading() }

// trigger asks for a poll now: here, or through the leader's webhook Lease.
func (s *daemonSetup) trigger() {
	s.log.Info("push webhook verified: polling now", "leader", s.leading())
	s.metrics.Webhook()
	if s.leading() {
		s.poller.Trigger()
		return
	}
	s.ha.Forward()
}

// queueCollector exports the forge queue's counters.
type queueCollector struct {
	q     *forge.Queue
	descs map[string]*prometheus.Desc
}

func newQueueCollector(q *forge.Queue) *queueCollector {
	c := &queueCollector{q: q, descs: map[string]*prometheus.Desc{}}
	for _, n := range []string{"reported", "posted", "deduped", "coalesced", "dropped", "retries", "requests"} {
		c.descs[n] = prometheus.NewDesc("ringops_forge_statuses_"+n+"_total", "Commit statuses "+n+" (forge queue).", nil, nil)
	}
	c.descs["queued"] = prometheus.NewDesc("ringops_forge_statuses_queued", "Commit statuses waiting to be posted.", nil, nil)
	return c
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.q.Stats()
	for n, v := range map[string]int{"reported": st.Reported, "posted": st.Posted, "deduped": st.Deduped,
		"coalesced": st.Coalesced, "dropped": st.Dropped, "retries": st.Retries, "requests": st.Requests} {
		ch <- prometheus.MustNewConstMetric(c.descs[n], prometheus.CounterValue, float64(v))
	}
	ch <- prometheus.MustNewConstMetric(c.descs["queued"], prometheus.GaugeValue, float64(st.Queued))
}
