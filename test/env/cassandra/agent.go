package cassandra

import (
	"context"
	"crypto/tls"
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
// MBeans and its listeners (the agent's port, over HTTPS with
// NodeConfig.JolokiaTLS, and the plain-HTTP one on the pod's loopback,
// NodeConfig.JolokiaProbePort).
type jolokiaState struct {
	handler *jolokia.Handler
	ctx     context.Context // cancelled when the process ends: ends requests

	gate   sync.RWMutex   // guards gated and the Adds of active
	gated  bool           // no new request is served
	active sync.WaitGroup // requests being served

	serial   atomic.Bool // one request at a time (Faults.SerialJolokia)
	serialMu sync.Mutex  // held by the request served when serial

	mu       sync.Mutex
	srvs     []*http.Server
	addr     string       // the agent's host:port, once bound
	tls      *tls.Config  // nil: HTTP
	startErr error        // why the agent on the port did not start
	deaf     net.Listener // the port of an agent that did not start: bound, never served
	refuse   bool
	ended    bool
}

// newAgent is the node's Jolokia agent, with basic auth when configured.
func newAgent(n *Node) *jolokia.Handler {
	return jolokia.NewHandler(n.Registry(), jolokia.Options{
		User:           n.cfg.JolokiaUser,
		Password:       n.cfg.JolokiaPassword,
		ClientCertAuth: n.cfg.JolokiaTLS != nil && n.cfg.JolokiaTLS.ClientAuth,
		Delay:          n.faults.JolokiaDelay,
		Version:        jolokia.Agent2Version, // the agent ringops injects
	})
}

// agentTLS builds the agent's HTTPS when the pod asks for it; an error
// (the agent would not start, jolokia.ErrAgentStart) leaves the node
// running without its agent, as the JVM runs on. Its port stays bound and
// is never served, as a real 2.6.0 agent leaves it (the JDK server was
// created, never started): connections are taken, nothing answers
// (test/env/jolokia TestRealAgentConforms).
func (n *Node) agentTLS() {
	j := &n.jolokia
	switch {
	case n.cfg.JolokiaAgentError != nil:
		j.startErr = n.cfg.JolokiaAgentError
	case n.cfg.JolokiaTLS != nil:
		j.tls, j.startErr = n.cfg.JolokiaTLS.Config()
	}
	if j.startErr != nil {
		j.startErr = fmt.Errorf("%s: jolokia: %w", n.cfg.name(), j.startErr)
	}
}

// openJolokia binds IP:JolokiaPort (the same port again after a refusal)
// and the probe's listener, and serves; while the agent refuses
// connections it only learns the port.
func (n *Node) openJolokia() error {
	j := &n.jolokia
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.ended {
		return fmt.Errorf("%s: jolokia: %w", n.cfg.name(), ErrStopped)
	}
	if j.srvs != nil || (j.refuse && j.addr != "") {
		return nil
	}
	var lns []net.Listener
	listen := func(addr string, cfg *tls.Config) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return "", fmt.Errorf("%s: jolokia: listen %s: %w: %w", n.cfg.name(), addr, ErrAddressInUse, err)
		}
		bound := ln.Addr().String()
		if cfg != nil {
			ln = jolokia.NewAgentListener(ln, cfg)
		}
		lns = append(lns, ln)
		return bound, nil
	}
	if j.startErr == nil {
		addr := j.addr
		if addr == "" {
			addr = net.JoinHostPort(n.cfg.IP, strconv.Itoa(n.cfg.JolokiaPort))
		}
		bound, err := listen(addr, j.tls)
		if err != nil {
			return err
		}
		j.addr = bound
	} else if j.deaf == nil && !j.refuse {
		ln, err := net.Listen("tcp", net.JoinHostPort(n.cfg.IP, strconv.Itoa(n.cfg.JolokiaPort)))
		if err != nil {
			return fmt.Errorf("%s: jolokia: listen: %w: %w", n.cfg.name(), ErrAddressInUse, err)
		}
		j.deaf = ln
	}
	if p := n.cfg.JolokiaProbePort; p != 0 {
		if _, err := listen(net.JoinHostPort(n.cfg.IP, strconv.Itoa(p)), nil); err != nil {
			return err
		}
	}
	if j.refuse {
		for _, l := range lns {
			_ = l.Close()
		}
		return nil
	}
	for _, ln := range lns {
		srv := &http.Server{
			Handler:           http.HandlerFunc(j.serve),
			ReadHeaderTimeout: 10 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return j.ctx },
			ConnContext:       jolokia.ConnContext,
		}
		j.srvs = append(j.srvs, srv)
		n.sim.wg.Add(1)
		go func() {
			defer n.sim.wg.Done()
			_ = srv.Serve(ln) // ends with ErrServerClosed
		}()
	}
	return nil
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
	for _, srv := range j.srvs {
		_ = srv.Close()
	}
	j.srvs = nil
	if j.deaf != nil {
		_ = j.deaf.Close()
		j.deaf = nil
	}
}

// JolokiaURL returns the agent's URL, "http://IP:port/jolokia/" or
// "https://..." with NodeConfig.JolokiaTLS; "" when it did not start
// (JolokiaError).
func (n *Node) JolokiaURL() string {
	n.jolokia.mu.Lock()
	defer n.jolokia.mu.Unlock()
	if n.jolokia.addr == "" {
		return ""
	}
	return jolokia.AgentURL(n.jolokia.addr, n.jolokia.tls != nil)
}

// JolokiaError is why the agent on the port did not start (the node runs
// on without it, as a JVM does), nil when it did.
func (n *Node) JolokiaError() error {
	n.jolokia.mu.Lock()
	defer n.jolokia.mu.Unlock()
	return n.jolokia.startErr
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
