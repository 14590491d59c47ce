package schemas

import (
	"fmt"
	"strings"
)

// The values of spec.cql.authentication.
const (
	// CQLAuthPassword: PasswordAuthenticator, CassandraAuthorizer and
	// CassandraRoleManager on the nodes; ringops logs in with a role.
	CQLAuthPassword = "Password"
	// CQLAuthNone: AllowAllAuthenticator, no login.
	CQLAuthNone = "None"
	// DefaultCQLAuthentication is what a spec that says nothing (neither
	// spec.cql.authentication nor spec.config.cassandra-yaml.authenticator)
	// gets.
	DefaultCQLAuthentication = CQLAuthPassword
)

// CQLAuthentication is the spec's CQL authentication, CQLAuthPassword or
// CQLAuthNone: spec.cql.authentication, else what
// spec.config.cassandra-yaml.authenticator names (PasswordAuthenticator:
// Password, any other: None), else Password when spec.cql.credentialsSecret
// names credentials, else DefaultCQLAuthentication. Default
// leaves the field as written, so that a change can tell a value written
// from one defaulted (ValidateChange).
func (c *CassandraCluster) CQLAuthentication() string {
	if q := c.Spec.CQL; q != nil && q.Authentication != "" {
		return q.Authentication
	}
	if a, ok := yamlAuthenticator(c); ok {
		if a == CQLAuthPassword {
			return CQLAuthPassword
		}
		return CQLAuthNone
	}
	if q := c.Spec.CQL; q != nil && q.CredentialsSecret != "" {
		return CQLAuthPassword // credentials say the nodes authenticate
	}
	return DefaultCQLAuthentication
}

// CQLRotate is spec.cql.rotate, the token of the password of ringops' own
// CQL role ("" when unset).
func (c *CassandraCluster) CQLRotate() string {
	if c.Spec.CQL != nil {
		return c.Spec.CQL.Rotate
	}
	return ""
}

// cqlAuthWritten reports whether the spec says which authentication it
// wants, in spec.cql.authentication or
// spec.config.cassandra-yaml.authenticator.
func (c *CassandraCluster) cqlAuthWritten() bool {
	if q := c.Spec.CQL; q != nil && q.Authentication != "" {
		return true
	}
	_, ok := yamlAuthenticator(c)
	return ok
}

// yamlAuthenticator reads spec.config.cassandra-yaml.authenticator, in
// its 4.x form (a class name) or 5.0's ({class_name: ...}): CQLAuthPassword
// for PasswordAuthenticator, CQLAuthNone for AllowAllAuthenticator, the
// class name otherwise; ok is false when the key is not set.
func yamlAuthenticator(c *CassandraCluster) (auth string, ok bool) {
	if c.Spec.Config == nil {
		return "", false
	}
	v, ok := c.Spec.Config.CassandraYAML["authenticator"]
	if !ok {
		return "", false
	}
	class := fmt.Sprint(v)
	if m, isMap := v.(map[string]any); isMap {
		class = fmt.Sprint(m["class_name"])
	}
	switch strings.TrimPrefix(class, "org.apache.cassandra.auth.") {
	case "PasswordAuthenticator":
		return CQLAuthPassword, true
	case "AllowAllAuthenticator":
		return CQLAuthNone, true
	}
	return class, true
}

// cqlAuth checks spec.cql.authentication against the credentials and
// cassandra.yaml settings that depend on it.
func (v *validator) cqlAuth() {
	c := v.c
	if q := c.Spec.CQL; q != nil && q.Authentication != "" {
		v.enum("spec.cql.authentication", q.Authentication, CQL{}, "authentication")
	}
	if q := c.Spec.CQL; q != nil && q.Rotate != "" {
		switch {
		case q.CredentialsSecret != "":
			v.add("spec.cql.rotate", "rotates the password of the role ringops keeps, but credentialsSecret names a role of yours: change its password and the Secret %s yourself, and remove rotate", q.CredentialsSecret)
		case c.CQLAuthentication() == CQLAuthNone:
			v.add("spec.cql.rotate", "rotates the password of the role ringops keeps, but authentication is None (no role, no login): remove rotate, or set spec.cql.authentication: Password")
		case len(q.Rotate) > maxRotateToken || strings.ContainsFunc(q.Rotate, func(r rune) bool { return r < ' ' || r > '~' }):
			v.add("spec.cql.rotate", "%q: use at most %d printable ASCII characters, e.g. a date", truncate(q.Rotate, 80), maxRotateToken)
		}
	}
	if q := c.Spec.CQL; q != nil && q.CredentialsSecret != "" && q.Authentication == CQLAuthNone {
		v.add("spec.cql.credentialsSecret", "names credentials, but authentication is None (AllowAllAuthenticator: no login): set spec.cql.authentication: Password, or remove credentialsSecret")
	}
	y, ok := yamlAuthenticator(c)
	switch {
	case !ok:
	case y != CQLAuthPassword && y != CQLAuthNone:
		v.add("spec.config.cassandra-yaml.authenticator", "%q: ringops logs in over CQL with PasswordAuthenticator only; remove it and set spec.cql.authentication: Password (or None)", truncate(y, 80))
	case c.Spec.CQL != nil && c.Spec.CQL.Authentication != "" && y != c.Spec.CQL.Authentication:
		v.add("spec.config.cassandra-yaml.authenticator", "contradicts spec.cql.authentication: %s, which sets the authenticator: remove it", c.Spec.CQL.Authentication)
	}
}

// cqlAuth refuses a change of authentication that nobody wrote: a spec
// that leaves spec.cql.authentication (and cassandra-yaml's authenticator)
// out gets the default, and a running cluster rolled out with the other
// value (a record from before the field: None) would be switched by the
// roll that follows, locking out every application that sends no
// credentials, or opening the cluster to anyone.
func (ch *changeValidator) cqlAuth() {
	pa, na := ch.prev.CQLAuthentication(), ch.next.CQLAuthentication()
	if pa == na || ch.next.cqlAuthWritten() {
		return
	}
	switch pa {
	case CQLAuthNone:
		ch.add("spec.cql.authentication", "unset, which now means %s, but the cluster was rolled out with authentication None (ringops rendered no authenticator): the nodes would restart with PasswordAuthenticator and CassandraAuthorizer and refuse every client that sends no credentials. Write authentication: None to keep it as it is, or authentication: Password once your applications log in with roles (if your image already runs PasswordAuthenticator, write Password)", na)
	default:
		ch.add("spec.cql.authentication", "unset, which means %s, but the cluster was rolled out with authentication %s: the nodes would restart without authentication, open to anyone who reaches port 9042. Write authentication: %s to keep it, or None to turn it off", na, pa, pa)
	}
}
