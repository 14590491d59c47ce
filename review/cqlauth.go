package review

import (
	"fmt"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// cqlAuthNotes say what a change of CQL authentication does that no
// operation shows: the nodes' authenticator switched by the roll, and
// ringops' own role created, the default superuser disabled (base nil: a
// new cluster), its password rotated.
func cqlAuthNotes(base, head *schemas.CassandraCluster) []string {
	var notes []string
	was, wasManaged := schemas.CQLAuthNone, false
	if base != nil {
		was = base.CQLAuthentication()
		_, wasManaged = render.CQLCredentials(base)
	}
	now := head.CQLAuthentication()
	switch {
	case base != nil && was == schemas.CQLAuthNone && now == schemas.CQLAuthPassword:
		notes = append(notes, "turns CQL authentication on: the roll restarts every node with PasswordAuthenticator and CassandraAuthorizer; a restarted node refuses clients without a role, and a role has no permission until granted")
	case base != nil && was == schemas.CQLAuthPassword && now == schemas.CQLAuthNone:
		notes = append(notes, "turns CQL authentication off: the roll restarts every node with AllowAllAuthenticator; anyone who reaches port 9042 may do anything")
	}
	secret, managed := render.CQLCredentials(head)
	if managed && !wasManaged {
		notes = append(notes, fmt.Sprintf("creates CQL role %s (password in the Secret %s of each region) through the default superuser cassandra, then disables cassandra (LOGIN = false, SUPERUSER = false, a random password)",
			render.CQLRoleName, secret))
	}
	if managed && wasManaged && base.CQLRotate() != head.CQLRotate() {
		notes = append(notes, fmt.Sprintf("rotates the password of CQL role %s: a new one in the Secret %s of each region (the one before kept as previous-password), then ALTER ROLE; no node restarts; applications logging in as %s must read the Secret again",
			render.CQLRoleName, secret, render.CQLRoleName))
	}
	return notes
}
