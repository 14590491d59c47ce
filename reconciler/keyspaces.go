package reconciler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// Schema is the engine's CQL edge (#15): it reads the replication of the
// keyspaces and alters it through the nodes of one datacenter. *CQLSchema
// is the real one; without it (Clients.Schema nil) the engine reads no
// replication and the planner leaves replication and rebuilds alone.
type Schema interface {
	// Keyspaces reads system_schema.keyspaces on a node of dc.
	Keyspaces(ctx context.Context, at SchemaTarget) ([]cql.Keyspace, error)
	// Alter sets a keyspace's NetworkTopologyStrategy factors through a
	// node of dc; its warnings come back.
	Alter(ctx context.Context, at SchemaTarget, keyspace string, factors map[string]int) ([]string, error)
	// SchemaVersions reads the schema version of each node of dc.
	SchemaVersions(ctx context.Context, at SchemaTarget) (cql.Versions, error)
}

// SchemaTarget is where a CQL request goes: the nodes of datacenter DC of
// cluster Cluster, in kube context Context, at Contacts (pod IPs).
type SchemaTarget struct {
	Cluster  *schemas.CassandraCluster
	Context  string
	DC       string
	Contacts []string
	// RingHealthy is the verdict of the observation the target comes
	// from: ringops creates its CQL role only on a healthy ring.
	RingHealthy bool
}

// CQLSchema is Schema over the native protocol (reconciler/cql), with the
// credentials and TLS of the spec read in each region by Router. It keeps
// one client per cluster, datacenter and set of contacts (the driver's
// session is reused across observations, every few hundred milliseconds
// while a rollout waits, and closed once unused for cql's IdleTimeout); a
// client of other contacts replaces it. Close releases them.
//
// With ringops' own CQL role (render.CQLCredentials managed), the first
// client of a cluster first makes sure of the role (cql.EnsureRole: created
// through the default superuser, which is then disabled), once per
// cluster and process, and only when the observation found the ring
// healthy; Roles is told what was done. A new spec.cql.rotate token makes
// it sure of the role again, first rotating its password (Rotator).
type CQLSchema struct {
	Router *SecretRouter
	// Rotator, when set, rotates the Secrets of ringops' own role to the
	// spec's spec.cql.rotate token before the role is made sure of
	// (*JolokiaSecrets, telling Router of each Secret it writes); nil:
	// the password is never rotated.
	Rotator CQLRotator
	// Roles, when set, is told each cluster's role setup that did
	// something (cql.RoleCreated, cql.PasswordChanged), for the log and
	// the events.
	Roles func(cluster string, setup cql.RoleSetup)

	mu      sync.Mutex
	clients map[string]*cql.Client // by cluster/context/dc
	keys    map[string]string      // by cluster/context/dc: its contacts
	roles   map[string]string      // by cluster: the spec.cql.rotate token its role was made sure of at
}

// CQLRotator rotates the Secrets of ringops' own CQL role:
// *JolokiaSecrets.
type CQLRotator interface {
	RotateCQLSecrets(ctx context.Context, c *schemas.CassandraCluster) (own jolokia.Credentials, previous *jolokia.Credentials, wrote bool, err error)
}

// ErrRoleNotReady: ringops' CQL role is not made sure of yet (the ring
// is not healthy, or the nodes do not ask for credentials yet).
var ErrRoleNotReady = errors.New("cql role not ready")

var _ Schema = (*CQLSchema)(nil)

func (s *CQLSchema) client(ctx context.Context, at SchemaTarget) (*cql.Client, error) {
	id := at.Cluster.Metadata.Name + "/" + at.Context + "/" + at.DC
	contacts := strings.Join(at.Contacts, ",")
	s.mu.Lock()
	c, ok := s.clients[id]
	if ok && s.keys[id] == contacts {
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	opts, err := s.Router.CQLOptions(ctx, at.Cluster, at.Context)
	if err != nil {
		return nil, err
	}
	changed, err := s.ensureRole(ctx, at, opts)
	if err != nil {
		return nil, err
	}
	if changed { // the Secret rotated: its new password, read again
		s.drop(at.Cluster.Metadata.Name)
		if opts, err = s.Router.CQLOptions(ctx, at.Cluster, at.Context); err != nil {
			return nil, err
		}
	}
	n, err := cql.New(at.DC, at.Contacts, opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients == nil {
		s.clients, s.keys = map[string]*cql.Client{}, map[string]string{}
	}
	if old := s.clients[id]; old != nil {
		go old.Close() // a request in flight on it ends with ErrClosed
	}
	s.clients[id], s.keys[id] = n, contacts
	return n, nil
}

// ensureRole makes sure of ringops' own role before the first client of
// a cluster whose spec wants it, and again at each new spec.cql.rotate
// token: the Secrets rotated first (Rotator), then the role given the new
// password (cql.EnsureRole, logged in with the previous one). changed
// says the password changed (the clients made before hold the old one).
// Without credentials (ringops' Secret not yet in that region) or on
// nodes that ask none, the client goes on without, as the nodes still
// let it in.
func (s *CQLSchema) ensureRole(ctx context.Context, at SchemaTarget, opts cql.Options) (changed bool, err error) {
	name := at.Cluster.Metadata.Name
	if _, managed := render.CQLCredentials(at.Cluster); !managed || opts.Credentials == nil {
		return false, nil
	}
	token := at.Cluster.CQLRotate()
	s.mu.Lock()
	done, ensured := s.roles[name]
	s.mu.Unlock()
	if ensured && done == token {
		return false, nil
	}
	if !at.RingHealthy {
		return false, fmt.Errorf("datacenter %s: %w: waiting for a healthy ring to make sure of role %s", at.DC, ErrRoleNotReady, opts.Credentials.Username)
	}
	own, previous := *opts.Credentials, (*jolokia.Credentials)(nil)
	if s.Rotator != nil {
		cur, prev, wrote, err := s.Rotator.RotateCQLSecrets(ctx, at.Cluster)
		if err != nil {
			return wrote, fmt.Errorf("datacenter %s: role %s: %w", at.DC, own.Username, err)
		}
		if cur.Username != "" {
			own, previous, changed = cur, prev, wrote
		}
	}
	setup, err := cql.EnsureRole(ctx, at.DC, at.Contacts, opts, own, previous, newRandomPassword)
	if err != nil {
		return changed, err
	}
	if setup == cql.NoAuthentication {
		return changed, nil // checked again once the nodes ask for credentials
	}
	s.mu.Lock()
	if s.roles == nil {
		s.roles = map[string]string{}
	}
	s.roles[name] = token
	s.mu.Unlock()
	if (setup == cql.RoleCreated || setup == cql.PasswordChanged) && s.Roles != nil {
		s.Roles(name, setup)
	}
	return changed || setup == cql.PasswordChanged, nil
}

// drop closes and forgets the clients of cluster.
func (s *CQLSchema) drop(cluster string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.clients {
		if strings.HasPrefix(id, cluster+"/") {
			go c.Close()
			delete(s.clients, id)
			delete(s.keys, id)
		}
	}
}

// Close closes every client.
func (s *CQLSchema) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, c := range s.clients {
		c.Close()
		delete(s.clients, id)
	}
}

// Keyspaces implements Schema.
func (s *CQLSchema) Keyspaces(ctx context.Context, at SchemaTarget) ([]cql.Keyspace, error) {
	c, err := s.client(ctx, at)
	if err != nil {
		return nil, err
	}
	ks, err := c.Keyspaces(ctx)
	return ks, s.refused(at, c, err)
}

// Alter implements Schema.
func (s *CQLSchema) Alter(ctx context.Context, at SchemaTarget, keyspace string, factors map[string]int) ([]string, error) {
	c, err := s.client(ctx, at)
	if err != nil {
		return nil, err
	}
	w, err := c.AlterReplication(ctx, keyspace, factors)
	return w, s.refused(at, c, err)
}

// SchemaVersions implements Schema.
func (s *CQLSchema) SchemaVersions(ctx context.Context, at SchemaTarget) (cql.Versions, error) {
	c, err := s.client(ctx, at)
	if err != nil {
		return nil, err
	}
	v, err := c.SchemaVersions(ctx)
	return v, s.refused(at, c, err)
}

// refused drops client c of at when its credentials were refused, so
// that the next call reads them again (a Secret changed or created since,
// nodes restarted with PasswordAuthenticator) and makes sure of the role
// again, and returns err.
func (s *CQLSchema) refused(at SchemaTarget, c *cql.Client, err error) error {
	if !errors.Is(err, cql.ErrUnauthorized) {
		return err
	}
	id := at.Cluster.Metadata.Name + "/" + at.Context + "/" + at.DC
	s.mu.Lock()
	if s.clients[id] == c {
		delete(s.clients, id)
		delete(s.keys, id)
		go c.Close()
	}
	delete(s.roles, at.Cluster.Metadata.Name) // made sure of again: a rotation a region missed is finished
	s.mu.Unlock()
	return err
}

// schemaTargets are the datacenters to ask over CQL, the preferred one
// first (the spec's first datacenter when prefer is ""), each with the
// IPs of its members in o.
func schemaTargets(t *Target, o *plan.Observed, prefer string) []SchemaTarget {
	c := t.Desired.Cluster
	if prefer == "" && len(c.Spec.Datacenters) > 0 {
		prefer = c.Spec.Datacenters[0].Name
	}
	byDC := map[string]*SchemaTarget{}
	for _, m := range plan.Members(t.Name(), o) {
		if m.IP == "" || m.Datacenter == "" {
			continue
		}
		at := byDC[m.Datacenter]
		if at == nil {
			at = &SchemaTarget{Cluster: c, Context: m.Context, DC: m.Datacenter, RingHealthy: o.Ring.Healthy}
			byDC[m.Datacenter] = at
		}
		at.Contacts = append(at.Contacts, m.IP)
	}
	var out []SchemaTarget
	if at := byDC[prefer]; at != nil {
		out = append(out, *at)
	}
	for _, dc := range slices.Sorted(maps.Keys(byDC)) {
		if dc != prefer {
			out = append(out, *byDC[dc])
		}
	}
	return out
}

// readKeyspaces is Observed.Keyspaces: the replication read on a node of
// the seed datacenter, else of the others in turn; Err says why none
// answered.
func (e *Engine) readKeyspaces(ctx context.Context, t *Target, o *plan.Observed) *plan.Keyspaces {
	targets := schemaTargets(t, o, "")
	if len(targets) == 0 {
		return &plan.Keyspaces{Err: "cql: no node to contact"}
	}
	var errs []error
	for _, at := range targets {
		ks, err := e.schema.Keyspaces(ctx, at)
		if err != nil {
			errs = append(errs, fmt.Errorf("datacenter %s: %w", at.DC, err))
			continue
		}
		return keyspacesOf(at.DC, ks)
	}
	return &plan.Keyspaces{Err: errors.Join(errs...).Error()}
}

// keyspacesOf converts what the CQL edge read into the planner's view:
// every keyspace with replicas (LocalStrategy and virtual ones left out).
func keyspacesOf(dc string, ks []cql.Keyspace) *plan.Keyspaces {
	out := &plan.Keyspaces{From: dc, Replication: map[string]plan.Replication{}}
	for _, k := range ks {
		r := k.Replication
		switch r.Strategy {
		case cql.StrategyLocal:
			continue
		case cql.StrategyNetworkTopology:
			f := map[string]int32{}
			for dc, n := range r.Factors {
				f[dc] = int32(n)
			}
			out.Replication[k.Name] = plan.Replication{Strategy: plan.NetworkTopology, Factors: f}
		case cql.StrategySimple:
			out.Replication[k.Name] = plan.Replication{Strategy: plan.Simple, Factor: int32(r.Factor)}
		default:
			out.Replication[k.Name] = plan.Replication{Class: r.Class}
		}
	}
	return out
}

// alterKeyspaces is the AlterKeyspace step: its StatefulSets first (the
// work their nodes then owe), then each ALTER KEYSPACE through the nodes of
// the step's datacenter, then a bounded wait for the nodes to agree on one
// schema version (the planner waits on a disagreement that outlasts it).
func (e *Engine) alterKeyspaces(ctx context.Context, cluster string, s plan.Step) ([]kube.Result, error) {
	var results []kube.Result
	for _, u := range s.Objects {
		r, err := one(e.kube.ApplyObject(ctx, s.Context, u))
		results = append(results, r...)
		if err != nil {
			return results, err
		}
	}
	at, err := e.schemaTarget(cluster, s.Datacenter)
	if err != nil {
		return results, err
	}
	for _, k := range s.Keyspaces {
		to := map[string]int{}
		for dc, f := range k.To {
			to[dc] = int(f)
		}
		if _, err := e.schema.Alter(ctx, at, k.Keyspace, to); err != nil {
			return results, fmt.Errorf("keyspace %s: %w", k.Keyspace, err)
		}
	}
	e.awaitAgreement(ctx, at)
	return results, nil
}

// awaitAgreement polls the schema versions of the coordinator's
// datacenter until they agree, for at most Options.SchemaAgreement.
func (e *Engine) awaitAgreement(ctx context.Context, at SchemaTarget) {
	deadline := e.clock.Now().Add(e.opts.SchemaAgreement)
	for {
		v, err := e.schema.SchemaVersions(ctx, at)
		if err == nil && v.Agree() || !e.clock.Now().Before(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// schemaTarget is the datacenter dc of the last observation, to send CQL
// to.
func (e *Engine) schemaTarget(cluster, dc string) (SchemaTarget, error) {
	if e.schema == nil {
		return SchemaTarget{}, fmt.Errorf("alter keyspaces: %w: no CQL edge (Clients.Schema)", ErrMissingClient)
	}
	st := e.state(cluster)
	e.mu.Lock()
	o, t := st.observed, st.target
	e.mu.Unlock()
	if o != nil && t != nil && t.Desired.Cluster != nil {
		for _, at := range schemaTargets(t, o, dc) {
			if at.DC == dc {
				return at, nil
			}
		}
	}
	return SchemaTarget{}, fmt.Errorf("datacenter %s: %w (no pod IP)", dc, ErrNotObserved)
}
