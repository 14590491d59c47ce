package daemon

import (
	"regexp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the daemon's Prometheus metrics, all prefixed ringops_.
type Metrics struct {
	Registry *prometheus.Registry

	revision      *prometheus.GaugeVec     // cluster, revision
	steps         *prometheus.CounterVec   // cluster, context, action, result
	waits         *prometheus.CounterVec   // cluster, reason
	waiting       *prometheus.GaugeVec     // cluster, reason
	gateLatency   prometheus.Histogram     // gate open (ring healthy and settled, step before done) -> next disruptive step started
	ringNodes     *prometheus.GaugeVec     // cluster, context, state
	polls         *prometheus.CounterVec   // outcome
	pollDuration  *prometheus.HistogramVec // outcome
	renderSeconds prometheus.Histogram
	errors        *prometheus.CounterVec // component
	wakeups       *prometheus.CounterVec // outcome
	leader        prometheus.Gauge
	headRevision  *prometheus.GaugeVec // ref, revision
	prChecks      prometheus.Counter
	webhooks      prometheus.Counter

	collectors []prometheus.Collector // every one registered
}

// NewMetrics registers the daemon's metrics, with the Go runtime and
// process collectors, in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.revision = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ringops_cluster_revision_info",
		Help: "The revision each cluster is rolled out to (value 1)."}, []string{"cluster", "revision"})
	m.steps = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringops_steps_total",
		Help: "Steps executed, by cluster, kube context, action and result (ok; unchanged: nothing written; conflict: the object changed since it was read, planned again; failed)."}, []string{"cluster", "context", "action", "result"})
	m.waits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringops_waits_total",
		Help: "Waits entered (a plan without step whose reason differs from the previous plan's), by cluster and reason."}, []string{"cluster", "reason"})
	m.waiting = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ringops_cluster_waiting",
		Help: "1 for the reason each cluster waits for now (Converged included)."}, []string{"cluster", "reason"})
	m.gateLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ringops_gate_latency_seconds",
		Help:    "From the gate opening (the ring healthy for spec.rollout.settle, and the step before done) to the next disruptive step starting.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300}})
	m.ringNodes = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ringops_ring_nodes",
		Help: "Cassandra nodes by state as nodetool prints it (UN, UJ, UL, DN, ...), by cluster and kube context."}, []string{"cluster", "context", "state"})
	m.polls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringops_git_polls_total",
		Help: "Polls of the Git source, by outcome (unchanged, changed, failed, refused)."}, []string{"outcome"})
	m.pollDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ringops_git_poll_duration_seconds",
		Help: "Duration of the polls of the Git source, by outcome.", Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10)}, []string{"outcome"})
	m.renderSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ringops_render_duration_seconds",
		Help: "Duration of the preparation of a cluster's revision (change validation and render of every region).", Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10)})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringops_errors_total",
		Help: "Errors, by component (git, observe, step, forge, pullrequests)."}, []string{"component"})
	m.wakeups = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ringops_worker_wakeups_total",
		Help: "Cluster workers woken between two plans, by outcome: a new revision taken (revision); none to take (none: a wake-up that outlived its revision). held counts the revisions that came while a step ran and waited for it to finish."},
		[]string{"outcome"})
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "ringops_leader", Help: "1 while this replica leads (acts), 0 on a standby."})
	m.headRevision = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ringops_source_revision_info",
		Help: "The revision of the followed ref last accepted (value 1)."}, []string{"ref", "revision"})
	m.prChecks = prometheus.NewCounter(prometheus.CounterOpts{Name: "ringops_pullrequest_checks_total", Help: "Passes over the pull-request heads."})
	m.webhooks = prometheus.NewCounter(prometheus.CounterOpts{Name: "ringops_webhooks_total",
		Help: "Verified push webhooks that asked for a poll (relayed to the leader when received by a standby)."})
	m.Register(m.webhooks, m.revision, m.steps, m.waits, m.waiting, m.gateLatency, m.ringNodes, m.polls, m.pollDuration,
		m.renderSeconds, m.errors, m.wakeups, m.leader, m.headRevision, m.prChecks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetLeader records whether this replica leads.
func (m *Metrics) SetLeader(leading bool) {
	if m == nil {
		return
	}
	v := 0.0
	if leading {
		v = 1
	}
	m.leader.Set(v)
}

// Webhook counts a verified push webhook.
func (m *Metrics) Webhook() {
	if m != nil {
		m.webhooks.Inc()
	}
}

// Error counts an error of component.
func (m *Metrics) Error(component string) {
	if m != nil {
		m.errors.WithLabelValues(component).Inc()
	}
}

// Register adds collectors (the forge queue's, say) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) {
	if m != nil {
		m.Registry.MustRegister(cs...)
		m.collectors = append(m.collectors, cs...)
	}
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names lists the names of the series the registry exports, sorted, each
// histogram's as scraped (_bucket, _sum, _count), whether or not a series
// exists yet: what dashboards and alerts may name.
func (m *Metrics) Names() []string {
	var out []string
	for _, c := range m.collectors {
		ch := make(chan *prometheus.Desc, 64)
		go func() {
			c.Describe(ch)
			close(ch)
		}()
		_, histogram := c.(prometheus.Histogram)
		if _, ok := c.(*prometheus.HistogramVec); ok {
			histogram = true
		}
		for d := range ch {
			sm := fqName.FindStringSubmatch(d.String())
			if sm == nil {
				continue
			}
			if histogram {
				out = append(out, sm[1]+"_bucket", sm[1]+"_sum", sm[1]+"_count")
			} else {
				out = append(out, sm[1])
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (m *Metrics) poll(outcome string, d time.Duration) {
	if m != nil {
		m.polls.WithLabelValues(outcome).Inc()
		m.pollDuration.WithLabelValues(outcome).Observe(d.Seconds())
	}
}

// Wakeup counts a worker woken (outcome revision, held or none).
func (m *Metrics) wakeup(outcome string) {
	if m != nil {
		m.wakeups.WithLabelValues(outcome).Inc()
	}
}
