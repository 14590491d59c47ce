package page

import (
	"bytes"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"time"

	"github.com/ringops/ringops/reconciler/daemon"
)

//go:embed assets
var assets embed.FS

// Source is what the page shows: *daemon.Daemon.
type Source interface {
	Clusters() []daemon.ClusterState
	Source() daemon.SourceState
	Changed() <-chan struct{}
}

var _ Source = (*daemon.Daemon)(nil)

// Options configure the page.
type Options struct {
	// CommitURL is the web page of a commit on the forge, with
	// forge.CommitPlaceholder for its hash; "" shows no link.
	CommitURL string
	// Leading reports whether this replica acts (nil: it does).
	Leading func() bool
	// MinInterval is the least time between two sends of one stream:
	// changes in between are sent together. Default 200ms.
	MinInterval time.Duration
	// Heartbeat is how often an idle stream sends a comment, so that
	// proxies keep it open. Default 25s.
	Heartbeat time.Duration
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{MinInterval: 200 * time.Millisecond, Heartbeat: 25 * time.Second}
}

// Page serves the status page and its events.
type Page struct {
	src  Source
	opts Options
}

// New returns the page of src.
func New(src Source, o Options) *Page {
	d := DefaultOptions()
	if o.MinInterval <= 0 {
		o.MinInterval = d.MinInterval
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = d.Heartbeat
	}
	if o.Leading == nil {
		o.Leading = func() bool { return true }
	}
	return &Page{src: src, opts: o}
}

// Register adds the page, its assets and its events to mux.
func (p *Page) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "assets")
	mux.HandleFunc("GET /{$}", p.index)
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", noCache(http.FileServerFS(static))))
	mux.HandleFunc("GET /api/v1/events", p.events)
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

func (p *Page) index(w http.ResponseWriter, _ *http.Request) {
	b, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	// Nothing from elsewhere, nothing inline, no framing, no form posts
	// anywhere: the page only reads.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(b)
}

// Size is the bytes of the page with its assets, as a browser loads them.
func Size() (int, error) {
	n := 0
	err := fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(path)
		n += len(b)
		return err
	})
	return n, err
}

// events streams the daemon's state as server-sent events.
func (p *Page) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// A stream outlives the server's ReadTimeout and WriteTimeout.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	st := newStream(r.URL.Query().Get("cluster"))
	if _, err := io.WriteString(w, "retry: 2000\n\n"); err != nil {
		return
	}
	heartbeat := time.NewTicker(p.opts.Heartbeat)
	defer heartbeat.Stop()
	ctx := r.Context()
	for {
		changed := p.src.Changed() // before reading: no change is missed
		if _, err := st.send(w, p.snapshot()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if !p.await(ctx.Done(), changed, heartbeat.C, w, rc) {
			return
		}
		select { // let a burst of changes gather
		case <-ctx.Done():
			return
		case <-time.After(p.opts.MinInterval):
		}
	}
}

// await waits for a change, sending heartbeats meanwhile; false when the
// client is gone.
func (p *Page) await(done <-chan struct{}, changed <-chan struct{}, beat <-chan time.Time, w io.Writer, rc *http.ResponseController) bool {
	for {
		select {
		case <-done:
			return false
		case <-changed:
			return true
		case <-beat:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return false
			}
			if rc.Flush() != nil {
				return false
			}
		}
	}
}

// snapshot is the state shown, at one moment.
type snapshot struct {
	Source   sourceView
	Clusters []daemon.ClusterState
}

// sourceView is the event source: the Git source, who leads, how to link
// a commit.
type sourceView struct {
	Leader    bool               `json:"leader"`
	Source    daemon.SourceState `json:"source"`
	CommitURL string             `json:"commitURL,omitempty"`
}

func (p *Page) snapshot() snapshot {
	return snapshot{Source: sourceView{Leader: p.opts.Leading(), Source: p.src.Source(), CommitURL: p.opts.CommitURL},
		Clusters: p.src.Clusters()}
}

// summary is one cluster at a glance.
type summary struct {
	Name      string               `json:"name"`
	Dir       string               `json:"dir"`
	Revision  string               `json:"revision,omitempty"`
	Subject   string               `json:"subject,omitempty"`
	RolledOut string               `json:"rolledOut,omitempty"`
	State     string               `json:"state"`
	Wait      string               `json:"wait,omitempty"`
	WaitText  string               `json:"waitText,omitempty"`
	Steps     []string             `json:"steps,omitempty"`
	Regions   []daemon.RegionState `json:"regions,omitempty"`
	Ring      string               `json:"ring,omitempty"`
	Nodes     map[string]int       `json:"nodes,omitempty"` // by state
	Invalid   []string             `json:"invalid,omitempty"`
	LastError string               `json:"lastError,omitempty"`
}

// detail is what one cluster's view adds.
type detail struct {
	Name      string                   `json:"name"`
	Plan      string                   `json:"plan,omitempty"`
	RingNodes []daemon.NodeView        `json:"ringNodes,omitempty"`
	ToCome    []string                 `json:"toCome,omitempty"`
	Timeline  []daemon.TimelineEntry   `json:"timeline,omitempty"`
	History   []daemon.RevisionOutcome `json:"history,omitempty"`
}

func summarize(c daemon.ClusterState) summary {
	s := summary{Name: c.Name, Dir: c.Dir, Revision: c.Revision, Subject: c.Subject, RolledOut: c.RolledOut, State: c.State,
		Wait: c.Wait, WaitText: c.WaitText, Steps: c.Steps, Regions: c.Regions, Ring: c.Ring, Invalid: c.Invalid, LastError: c.LastError}
	if len(c.RingNodes) > 0 {
		s.Nodes = map[string]int{}
		for _, n := range c.RingNodes {
			s.Nodes[n.State]++
		}
	}
	return s
}

func detailOf(c daemon.ClusterState) detail {
	return detail{Name: c.Name, Plan: c.Plan, RingNodes: c.RingNodes, ToCome: c.ToCome, Timeline: c.Timeline, History: c.History}
}

// stream is what one client was sent: it sends only what changed.
type stream struct {
	cluster string // the cluster whose detail is sent, "" for none
	source  []byte
	sent    map[string][]byte // "s/<name>" summary, "d/<name>" detail
}

func newStream(cluster string) *stream {
	return &stream{cluster: cluster, sent: map[string][]byte{}}
}

// send writes the events of what changed since the last send, and returns
// the bytes written.
func (s *stream) send(w io.Writer, snap snapshot) (int, error) {
	var buf bytes.Buffer
	if b := mustJSON(snap.Source); !bytes.Equal(b, s.source) {
		s.source = b
		event(&buf, "source", b)
	}
	seen := map[string]bool{}
	for _, c := range snap.Clusters {
		key := c.Name
		if key == "" {
			key = c.Dir
		}
		seen["s/"+key] = true
		s.put(&buf, "summary", "s/"+key, mustJSON(summarize(c)))
		if s.cluster != "" && (c.Name == s.cluster || c.Dir == s.cluster) {
			seen["d/"+key] = true
			s.put(&buf, "detail", "d/"+key, mustJSON(detailOf(c)))
		}
	}
	var gone []string
	for k := range s.sent {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		delete(s.sent, k)
		if k[0] == 's' {
			event(&buf, "gone", mustJSON(k[2:]))
		}
	}
	if buf.Len() == 0 {
		return 0, nil
	}
	return w.Write(buf.Bytes())
}

func (s *stream) put(buf *bytes.Buffer, name, key string, b []byte) {
	if bytes.Equal(s.sent[key], b) {
		return
	}
	s.sent[key] = b
	event(buf, name, b)
}

// event writes one server-sent event; JSON holds no raw newline.
func event(buf *bytes.Buffer, name string, data []byte) {
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteString("\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // the types above always marshal
		panic(err)
	}
	return b
}
