package cassandra

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// AgentPath is where the Jolokia agent answers (the JVM agent's default
// agentContext).
const AgentPath = jolokia.AgentContext

// jolokiaState is the node's agent: the protocol handler over the node's
// MBeans and its listener.
type jolokiaState struct {
	handler *jolokia.Handler
	ctx     context.Context // cancelled when the process ends: ends requests

	gate   sync.RWMutex   // guards gated and the Adds of active
	gated  bool           // no new request is served
	active sync.WaitGroup // requests being served

	serial   atomic.Bool // one request at a time (Faults.SerialJolokia)
	serialMu sync.Mutex  // held by the request served when serial

	mu     sync.Mutex
	srv    *http.Server
	url    string
	refuse bool
	ended  bool
}

// newAgent is the node's Jolokia agent, with basic auth when configured.
func newAgent(n *Node) *jolokia.Handler {
	return jolokia.NewHandler(n.Registry(), jolokia.Options{
		User:     n.cfg.JolokiaUser,
		Password: n.cfg.JolokiaPassword,
		Delay:    n.faults.JolokiaDelay,
		Version:  jolokia.Agent2Version, // the agent ringops injects
	})
}

// openJolokia binds IP:JolokiaPort (the same port again after a refusal)
// and serves; while the agent refuses connections it only learns the port.
func (n *Node) openJolokia() error {
	j := &n.jolokia
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ended {
		return fmt.Errorf("%s: jolokia: %w", n.cfg.name(), ErrStopped)
	}
	if j.srv != nil || (j.refuse && j.url != "") {
		return nil
	}
	addr := net.JoinHostPort(n.cfg.IP, strconv.Itoa(n.cfg.JolokiaPort))
	if j.url != "" {
		addr = j.hostPort()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: jolokia: listen %s: %w: %w", n.cfg.name(), addr, ErrAddressInUse, err)
	}
	j.url = fmt.Sprintf("http://%s%s", ln.Addr().String(), AgentPath)
	if j.refuse {
		return ln.Close()
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(j.serve),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return j.ctx },
	}
	j.srv = srv
	n.sim.wg.Add(1)
	go func() {
		defer n.sim.wg.Done()
		_ = srv.Serve(ln) // ends with ErrServerClosed
	}()
	return nil
}

func (j *jolokiaState) hostPort() string {
	rest := j.url[len("http://"):]
	return rest[:len(rest)-len(AgentPath)]
}

// serve counts the request so that closeJolokia can wait for it.
func (j *jolokiaState) serve(w http.ResponseWriter, r *http.Request) {
	j.gate.RLock()
	if j.gated {
		j.gate.RUnlock()
		http.Error(w, "agent stopped", http.StatusServiceUnavailable)
		return
	}
	j.active.Add(1)
	j.gate.RUnlock()
	defer j.active.Done()
	if j.serial.Load() {
		j.serialMu.Lock()
		defer j.serialMu.Unlock()
	}
	j.handler.ServeHTTP(w, r)
}

// closeJolokia closes the listener and every connection for good and waits
// for the requests in flight (j.ctx is cancelled already).
func (n *Node) closeJolokia() {
	j := &n.jolokia
	j.mu.Lock()
	j.ended = true
	j.shut()
	j.mu.Unlock()
	j.gate.Lock()
	j.gated = true
	j.gate.Unlock()
	j.active.Wait()
}

func (j *jolokiaState) shut() {
	if j.srv != nil {
		_ = j.srv.Close()
		j.srv = nil
	}
}

// JolokiaURL returns the agent's URL, "http://IP:port/jolokia/".
func (n *Node) JolokiaURL() string {
	n.jolokia.mu.Lock()
	defer n.jolokia.mu.Unlock()
	return n.jolokia.url
}

// RefuseJolokia closes (true) or reopens (false) the agent's listener:
// while closed, connections are refused.
func (n *Node) RefuseJolokia(on bool) {
	j := &n.jolokia
	j.mu.Lock()
	j.refuse = on
	if on {
		j.shut()
	}
	j.mu.Unlock()
	if !on {
		_ = n.openJolokia() // a node that ended stays closed
	}
}

// SetJolokiaDelay delays every Jolokia answer by d (0: no delay).
func (n *Node) SetJolokiaDelay(d time.Duration) {
	n.jolokia.handler.SetDelay(d)
}
