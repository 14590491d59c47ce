package cassandra

// # Roles
//
// A node authenticates with PasswordAuthenticator when its cassandra.yaml
// says so (NodeConfig.Authenticator, read by the kubelet from the pod's
// rendered overrides) or when Options.CQLRoles is set; otherwise it runs
// AllowAllAuthenticator and every client is an anonymous superuser. The
// roles live in the ring (system_auth.roles, one table per cluster name,
// shared by every node as a replicated system_auth would be): those of
// Options.CQLRoles, and, as CassandraRoleManager.setupDefaultRole does on
// a ring without roles, the default superuser cassandra/cassandra once
// Options.SuperuserSetupDelay has passed since a node of the ring started
// its native transport (Cassandra: superuser_setup_delay_ms, 10 s after the
// node's setup; whatever its authenticator). CREATE ROLE, ALTER ROLE and
// DROP ROLE run with SUPERUSER, LOGIN and PASSWORD by the rules of
// Cassandra 5.0.1 (CreateRoleStatement, AlterRoleStatement,
// DropRoleStatement, RoleOptions): PASSWORD only with PasswordAuthenticator,
// superuser status changed only by a superuser and never on one's own role.
// As 5.0.9 does (found on the real node; not in 5.0.1), a role's password
// is changed at most once every 5 s (passwordInterval), counted from the
// CREATE or ALTER ROLE that set it; the refusal's error code is taken to
// be a server error (0x0000), as the driver saw it as one of the
// unavailable kind. Not simulated: GRANT, LIST ROLES, role membership, HASHED_PASSWORD,
// OPTIONS, ACCESS TO DATACENTERS, permissions other than superuser.

import (
	"fmt"
	"strings"
	"time"
)

// defaultSuperuser is the role setupDefaultRole creates.
const defaultSuperuser = "cassandra"

// passwordInterval is the least time between two changes of a role's
// password by CREATE or ALTER ROLE.
const passwordInterval = 5 * time.Second

// passwordAuth reports whether the node runs PasswordAuthenticator.
func (n *Node) passwordAuth() bool {
	a := strings.TrimPrefix(n.cfg.Authenticator, "org.apache.cassandra.auth.")
	return a == "PasswordAuthenticator" || len(n.sim.opts.CQLRoles) > 0
}

// ringRoles returns the roles of the node's ring, created from
// Options.CQLRoles at first use, with the default superuser once it is due
// (mu held).
func (n *Node) ringRoles() map[string]*CQLRole {
	s := n.sim
	if s.roles == nil {
		s.roles = map[string]map[string]*CQLRole{}
	}
	roles, ok := s.roles[n.disk.cluster]
	if !ok {
		roles = map[string]*CQLRole{}
		for name, r := range s.opts.CQLRoles {
			r := r
			roles[name] = &r
		}
		s.roles[n.disk.cluster] = roles
	}
	if len(roles) == 0 && !n.cqlAt.IsZero() && !time.Now().Before(n.cqlAt.Add(s.opts.SuperuserSetupDelay)) {
		roles[defaultSuperuser] = &CQLRole{Password: "cassandra", Superuser: true}
	}
	return roles
}

// login checks a role's password on the node (mu held).
func (n *Node) login(user, pass string) (*CQLRole, *cqlError) {
	role, ok := n.ringRoles()[user]
	if !ok || role.Password != pass {
		return nil, &cqlError{code: errBadCredentials, msg: fmt.Sprintf("Provided username %s and/or password are incorrect", user)}
	}
	if role.NoLogin {
		return nil, &cqlError{code: errBadCredentials, msg: fmt.Sprintf("%s is not permitted to log in", user)}
	}
	return role, nil
}

type roleStmt struct {
	verb     string // CREATE, ALTER, DROP
	name     string
	ifClause bool
	opts     map[string]string // option (lower case) -> value text
	kinds    map[string]tokKind
}

func (s *roleStmt) bindCount() int { return 0 }

// roleStmt parses the rest of CREATE|ALTER|DROP ROLE.
func (p *parser) roleStmt(verb string) (statement, *cqlError) {
	s := &roleStmt{verb: verb, opts: map[string]string{}, kinds: map[string]tokKind{}}
	if p.keyword("IF") {
		if verb == "CREATE" {
			if err := p.expectKeyword("NOT"); err != nil {
				return nil, err
			}
		}
		if err := p.expectKeyword("EXISTS"); err != nil {
			return nil, err
		}
		s.ifClause = true
	}
	if t := p.peek(); t.kind == tokString {
		p.i++
		s.name = t.text
	} else {
		name, err := p.ident("a role name")
		if err != nil {
			return nil, err
		}
		s.name = name
	}
	if verb == "DROP" || !p.keyword("WITH") {
		return s, p.end()
	}
	for {
		t := p.next()
		opt := strings.ToLower(t.text)
		if t.kind != tokIdent {
			return nil, syntaxErr("line 1:%d mismatched input '%s' expecting a role option", t.pos, t.text)
		}
		if err := p.expectPunct("="); err != nil {
			return nil, err
		}
		v := p.next()
		if _, dup := s.opts[opt]; dup {
			return nil, syntaxErr("Multiple definition for property '%s'", strings.ToUpper(opt))
		}
		s.opts[opt], s.kinds[opt] = v.text, v.kind
		if !p.keyword("AND") {
			break
		}
	}
	return s, p.end()
}

// roleOptions checks a statement's options as RoleOptions.validate does.
func (n *Node) roleOptions(s *roleStmt) (super, login *bool, password *string, cerr *cqlError) {
	for opt, v := range s.opts {
		switch opt {
		case "superuser", "login":
			b := strings.ToLower(v)
			if s.kinds[opt] != tokIdent || b != "true" && b != "false" {
				return nil, nil, nil, invalid("Invalid value for property '%s'. It must be a boolean", strings.ToUpper(opt))
			}
			val := b == "true"
			if opt == "superuser" {
				super = &val
			} else {
				login = &val
			}
		case "password":
			if !n.passwordAuth() {
				return nil, nil, nil, invalid("org.apache.cassandra.auth.CassandraRoleManager doesn't support PASSWORD")
			}
			if s.kinds[opt] != tokString {
				return nil, nil, nil, invalid("Invalid value for property 'PASSWORD'. It must be a string")
			}
			pw := v
			password = &pw
		default:
			return nil, nil, nil, syntaxErr("line 1:0 the simulated node knows no role option %s", strings.ToUpper(opt))
		}
	}
	return super, login, password, nil
}

// runRole executes CREATE, ALTER or DROP ROLE (mu held).
func (n *Node) runRole(s *roleStmt, sess *session) (result, *cqlError) {
	roles := n.ringRoles()
	super, login, password, cerr := n.roleOptions(s)
	if cerr != nil {
		return result{}, cerr
	}
	role, exists := roles[s.name]
	unauthorized := func(msg string) (result, *cqlError) {
		return result{}, &cqlError{code: errUnauthorized, msg: msg}
	}
	switch s.verb {
	case "CREATE":
		if super != nil && *super && !sess.superuser() {
			return unauthorized("Only superusers can create a role with superuser status")
		}
		if !sess.superuser() {
			return unauthorized(fmt.Sprintf("User %s has no CREATE permission on <all roles> or any of its parents", sess.user))
		}
		if s.name == "" {
			return result{}, invalid("Role name can't be an empty string")
		}
		if exists {
			if s.ifClause {
				return voidResult(), nil
			}
			return result{}, invalid("%s already exists", s.name)
		}
		r := &CQLRole{Superuser: super != nil && *super, NoLogin: login == nil || !*login}
		if password != nil {
			r.Password, r.passwordAt = *password, time.Now()
		}
		roles[s.name] = r
	case "ALTER":
		if len(s.opts) == 0 {
			return result{}, invalid("ALTER [ROLE|USER] can't be empty")
		}
		if !exists {
			if s.ifClause {
				return voidResult(), nil
			}
			return result{}, invalid("%s doesn't exist", s.name)
		}
		if super != nil && sess.user == s.name {
			return unauthorized("You aren't allowed to alter your own superuser status or that of a role granted to you")
		}
		if super != nil && !sess.superuser() {
			return unauthorized("Only superusers are allowed to alter superuser status")
		}
		if !sess.superuser() && (sess.user != s.name || login != nil) {
			return unauthorized(fmt.Sprintf("User %s does not have sufficient privileges to perform the requested operation", sess.user))
		}
		if password != nil && time.Since(role.passwordAt) < passwordInterval {
			return result{}, &cqlError{code: errServer, msg: fmt.Sprintf("Password for role %s can only be changed every %dms.", s.name, passwordInterval.Milliseconds())}
		}
		if super != nil {
			role.Superuser = *super
		}
		if login != nil {
			role.NoLogin = !*login
		}
		if password != nil {
			role.Password, role.passwordAt = *password, time.Now()
		}
	case "DROP":
		if !exists {
			if s.ifClause {
				return voidResult(), nil
			}
			return result{}, invalid("%s doesn't exist", s.name)
		}
		if role.Superuser && !sess.superuser() {
			return unauthorized("Only superusers can drop a role with superuser status")
		}
		if sess.user == s.name {
			return result{}, invalid("Cannot DROP primary role for current login")
		}
		if !sess.superuser() {
			return unauthorized(fmt.Sprintf("User %s has no DROP permission on <role %s> or any of its parents", sess.user, s.name))
		}
		delete(roles, s.name)
	}
	return voidResult(), nil
}
