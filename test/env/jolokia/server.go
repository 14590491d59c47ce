package jolokia

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrRunning is returned by Start on a server that is already listening.
var ErrRunning = errors.New("jolokia server already running")

// Server is an agent listening on one address (the simulator gives every
// pod its own 127.x.y.z). Stop makes the address refuse connections until
// the next Start.
type Server struct {
	handler *Handler

	mu   sync.Mutex
	srv  *http.Server
	addr string
	done chan struct{}
}

// NewServer makes a stopped server over reg.
func NewServer(reg Registry, opts Options) *Server {
	return &Server{handler: NewHandler(reg, opts)}
}

// Handler is the server's protocol handler.
func (s *Server) Handler() *Handler { return s.handler }

// SetDelay holds every later answer back by d.
func (s *Server) SetDelay(d time.Duration) { s.handler.SetDelay(d) }

// Start listens on addr ("ip:port"; port 0 picks one; "" reuses the
// address of the previous Start) and serves in the background.
func (s *Server) Start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return fmt.Errorf("jolokia server %s: %w", s.addr, ErrRunning)
	}
	if addr == "" {
		addr = s.addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("jolokia server %s: listen: %w", addr, err)
	}
	s.addr = ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln) // returns http.ErrServerClosed on Stop
	}(s.srv, s.done)
	return nil
}

// Addr is the address the server listens (or last listened) on.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the agent's URL, "http://ip:port/jolokia/".
func (s *Server) URL() string { return "http://" + s.Addr() + AgentContext }

// Stop closes the listener and every open connection, and waits for the
// serving goroutine; answers in progress are cut. Stopping a stopped
// server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.done = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	if err != nil {
		return fmt.Errorf("jolokia server %s: stop: %w", s.Addr(), err)
	}
	return nil
}
