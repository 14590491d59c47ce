package cql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// DefaultPort is Cassandra's native transport port.
const DefaultPort = 9042

// ProtocolVersion is the native protocol version the Client speaks:
// Cassandra 3.11, 4.x and 5.0 all do.
const ProtocolVersion = 4

// Options configure a Client.
type Options struct {
	// Port is the nodes' native transport port. Default 9042.
	Port int
	// Timeout bounds each request and each connection attempt (the call's
	// context may end it sooner). Default 5s.
	Timeout time.Duration
	// Credentials, when set, are given to PasswordAuthenticator. They
	// never appear in errors or logs.
	Credentials *jolokia.Credentials
	// TLS, when set, encrypts every connection (see TLSConfig).
	TLS *tls.Config
	// Logger receives the driver's log; nil: none.
	Logger gocql.StructuredLogger
	// IdleTimeout closes the session when no call has used it for that
	// long; the next call opens it again. A rollout that waits calls every
	// few hundred milliseconds and keeps it; a converged cluster, read
	// once per resync interval, holds no connection (and none of the
	// driver's goroutines) in between. Default 10s; negative: never.
	IdleTimeout time.Duration
}

// DefaultIdleTimeout is Options.IdleTimeout's default.
const DefaultIdleTimeout = 10 * time.Second

// DefaultOptions: port 9042, 5 s per request, sessions closed after 10 s
// unused, no authentication, no TLS.
func DefaultOptions() Options {
	return Options{Port: DefaultPort, Timeout: 5 * time.Second, IdleTimeout: DefaultIdleTimeout}
}

// Client talks CQL to the nodes of one datacenter. It is safe for
// concurrent use; Close it when done.
type Client struct {
	dc       string
	contacts []string
	opts     Options

	mu      sync.Mutex
	session *gocql.Session
	dialing *attempt // the session being opened, if any
	closed  bool
	asked   *atomic.Bool // set when a node asks for credentials (EnsureRole); nil: not recorded

	// Idle closing (Options.IdleTimeout): calls in flight, the end of the
	// last one, and the timer that looks at them.
	calls int
	used  time.Time
	idle  *time.Timer
}

// attempt is one opening of the driver's session.
type attempt struct {
	done    chan struct{}
	session *gocql.Session
	err     error
}

// New returns a Client of datacenter dc that contacts the nodes at
// contacts (pod IPs of that datacenter's nodes). It dials nothing.
func New(dc string, contacts []string, opts Options) (*Client, error) {
	if dc == "" {
		return nil, errors.New("cql: no datacenter")
	}
	if len(contacts) == 0 {
		return nil, fmt.Errorf("datacenter %s: cql: no node to contact", dc)
	}
	for _, c := range contacts {
		if _, err := netip.ParseAddr(c); err != nil {
			return nil, fmt.Errorf("datacenter %s: cql: contact %q is not an IP address", dc, c)
		}
	}
	d := DefaultOptions()
	if opts.Port <= 0 {
		opts.Port = d.Port
	}
	if opts.Timeout <= 0 {
		opts.Timeout = d.Timeout
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = d.IdleTimeout
	}
	return &Client{dc: dc, contacts: append([]string(nil), contacts...), opts: opts}, nil
}

// String names the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("cql datacenter %s (%s)", c.dc, strings.Join(c.contacts, ", "))
}

// Datacenter is the datacenter whose nodes the Client talks to.
func (c *Client) Datacenter() string { return c.dc }

// Close closes the session; calls fail with ErrClosed afterwards.
func (c *Client) Close() {
	c.mu.Lock()
	s := c.session
	c.session, c.closed = nil, true
	if c.idle != nil {
		c.idle.Stop()
		c.idle = nil
	}
	c.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// cluster is the driver's configuration: protocol 4, the datacenter's
// nodes only, no schema metadata cache (ringops reads system_schema
// itself), no wait for schema agreement after an ALTER.
func (c *Client) cluster(obs *connectErrors) *gocql.ClusterConfig {
	cfg := gocql.NewCluster(c.contacts...)
	cfg.Port = c.opts.Port
	cfg.ProtoVersion = ProtocolVersion
	cfg.Timeout = c.opts.Timeout
	cfg.ConnectTimeout = c.opts.Timeout
	cfg.WriteTimeout = c.opts.Timeout
	cfg.Consistency = gocql.One // every table read here is local to the node
	cfg.NumConns = 1
	cfg.PoolConfig.HostSelectionPolicy = gocql.DCAwareRoundRobinPolicy(c.dc)
	cfg.HostFilter = gocql.DataCenterHostFilter(c.dc)
	cfg.Metadata.CacheMode = gocql.Disabled
	// After a schema change the driver would wait for every node of every
	// datacenter, down ones included, in its gossip view; ringops waits on
	// each node's own version instead (see the package doc).
	cfg.MaxWaitSchemaAgreement = time.Nanosecond
	cfg.ReconnectionPolicy = &gocql.ConstantReconnectionPolicy{MaxRetries: 1, Interval: time.Second}
	cfg.ConnectObserver = obs
	if c.opts.Credentials != nil {
		cfg.Authenticator = gocql.PasswordAuthenticator{Username: c.opts.Credentials.Username, Password: c.opts.Credentials.Password}
		if c.asked != nil {
			cfg.Authenticator = askedAuthenticator{cfg.Authenticator, c.asked}
		}
	}
	if c.opts.TLS != nil {
		cfg.SslOpts = &gocql.SslOptions{Config: c.opts.TLS, EnableHostVerification: !c.opts.TLS.InsecureSkipVerify}
	}
	if c.opts.Logger != nil {
		cfg.Logger = c.opts.Logger
	}
	return cfg
}

// connectErrors keeps the typed errors of the driver's connection
// attempts: the error of a failed session creation is only their text.
type connectErrors struct {
	mu   sync.Mutex
	errs []error
}

func (o *connectErrors) ObserveConnect(oc gocql.ObservedConnect) {
	if oc.Err == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, oc.Err)
}

// cause picks the most telling connection error: a refusal (credentials,
// TLS) over a node that did not answer.
func (o *connectErrors) cause(fallback error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, want := range []error{ErrUnauthorized, ErrTLS} {
		for _, e := range o.errs {
			if c := classify(e); errors.Is(c, want) {
				return c
			}
		}
	}
	if len(o.errs) > 0 {
		if c := classify(o.errs[len(o.errs)-1]); errors.Is(c, ErrUnavailable) {
			return fmt.Errorf("%w: %w", c, fallback)
		}
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, fallback)
}

// connect returns the session, opening it if needed; ctx bounds the wait,
// not the opening, which goes on for the next call.
func (c *Client) connect(ctx context.Context) (*gocql.Session, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if c.session != nil {
		s := c.session
		c.mu.Unlock()
		return s, nil
	}
	a := c.dialing
	if a == nil {
		a = &attempt{done: make(chan struct{})}
		c.dialing = a
		go c.open(a)
	}
	c.mu.Unlock()
	select {
	case <-a.done:
		return a.session, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: connecting: %w", ErrUnavailable, ctx.Err())
	}
}

// open creates the driver's session (which blocks up to the connect
// timeout per contact) and records the outcome.
func (c *Client) open(a *attempt) {
	obs := &connectErrors{}
	s, err := c.cluster(obs).CreateSession()
	if err != nil {
		err = obs.cause(err)
	}
	c.mu.Lock()
	c.dialing = nil
	if c.closed && s != nil {
		s.Close()
		s, err = nil, ErrClosed
	}
	c.session = s
	c.mu.Unlock()
	a.session, a.err = s, err
	close(a.done)
}

// drop forgets a session whose nodes stopped answering, so that the next
// call dials the contacts again.
func (c *Client) drop(s *gocql.Session, err error) {
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	c.mu.Lock()
	if c.session != s {
		c.mu.Unlock()
		return
	}
	c.session = nil
	c.mu.Unlock()
	s.Close()
}

// do runs f with the session; its error is classified and names the
// datacenter and what was done.
func (c *Client) do(ctx context.Context, what string, f func(s *gocql.Session) error) error {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	defer c.done()
	s, err := c.connect(ctx)
	if err == nil {
		err = classify(f(s))
		c.drop(s, err)
	}
	if err != nil {
		return fmt.Errorf("datacenter %s: %s: %w", c.dc, what, err)
	}
	return nil
}

// done ends a call: the session is closed once unused for IdleTimeout.
func (c *Client) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls--
	c.used = time.Now()
	if c.idle == nil && c.opts.IdleTimeout > 0 && !c.closed {
		c.idle = time.AfterFunc(c.opts.IdleTimeout, c.reap)
	}
}

// reap closes the session if no call used it for IdleTimeout, or looks
// again when that will be so.
func (c *Client) reap() {
	c.mu.Lock()
	if c.closed || c.idle == nil {
		c.mu.Unlock()
		return
	}
	if left := c.opts.IdleTimeout - time.Since(c.used); c.calls > 0 || left > 0 {
		c.idle.Reset(max(left, c.opts.IdleTimeout/10))
		c.mu.Unlock()
		return
	}
	s := c.session
	c.session, c.idle = nil, nil
	c.mu.Unlock()
	if s != nil {
		s.Close()
	}
}
