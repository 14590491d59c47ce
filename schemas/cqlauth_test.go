package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCQLAuthentication(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cql   *CQL
		yaml  any // cassandra-yaml authenticator; nil: unset
		want  string
		valid string // "" valid; else the field of the one error
	}{
		{name: "unset", want: DefaultCQLAuthentication},
		{name: "password", cql: &CQL{Authentication: "Password"}, want: CQLAuthPassword},
		{name: "none", cql: &CQL{Authentication: "None"}, want: CQLAuthNone},
		{name: "credentials imply password", cql: &CQL{CredentialsSecret: "cql-admin"}, want: CQLAuthPassword},
		{name: "yaml 4.x form", yaml: "PasswordAuthenticator", want: CQLAuthPassword},
		{name: "yaml 5.0 form", yaml: map[string]any{"class_name": "org.apache.cassandra.auth.PasswordAuthenticator"}, want: CQLAuthPassword},
		{name: "yaml allow all", yaml: "AllowAllAuthenticator", want: CQLAuthNone},
		{name: "yaml agrees", cql: &CQL{Authentication: "Password"}, yaml: "org.apache.cassandra.auth.PasswordAuthenticator", want: CQLAuthPassword},
		{name: "yaml contradicts", cql: &CQL{Authentication: "None"}, yaml: "PasswordAuthenticator", want: CQLAuthNone, valid: "spec.config.cassandra-yaml.authenticator"},
		{name: "yaml other class", yaml: "com.example.LdapAuthenticator", want: CQLAuthNone, valid: "spec.config.cassandra-yaml.authenticator"},
		{name: "none with credentials", cql: &CQL{Authentication: "None", CredentialsSecret: "cql-admin"}, want: CQLAuthNone, valid: "spec.cql.credentialsSecret"},
		{name: "not an enum value", cql: &CQL{Authentication: "password"}, want: "password", valid: "spec.cql.authentication"},
		{name: "rotate ringops' role", cql: &CQL{Rotate: "2026-12-07"}, want: CQLAuthPassword},
		{name: "rotate a role of yours", cql: &CQL{CredentialsSecret: "cql-admin", Rotate: "2026-12-07"}, want: CQLAuthPassword, valid: "spec.cql.rotate"},
		{name: "rotate without authentication", cql: &CQL{Authentication: "None", Rotate: "2026-12-07"}, want: CQLAuthNone, valid: "spec.cql.rotate"},
		{name: "rotate token not printable", cql: &CQL{Rotate: "a\nb"}, want: CQLAuthPassword, valid: "spec.cql.rotate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster("o", map[string][]string{"dc1": {"r1"}}, "dc1")
			c.Spec.CQL = tc.cql
			if tc.yaml != nil {
				c.Spec.Config = &Config{CassandraYAML: map[string]any{"authenticator": tc.yaml}}
			}
			if got := c.CQLAuthentication(); got != tc.want {
				t.Errorf("CQLAuthentication() = %q, want %q", got, tc.want)
			}
			errs := c.Validate()
			switch {
			case tc.valid == "" && len(errs) > 0:
				t.Errorf("want valid: %v", errs)
			case tc.valid != "" && (len(errs) != 1 || errs[0].Field != tc.valid):
				t.Errorf("want one error at %s: %v", tc.valid, errs)
			}
		})
	}
}

// legacyRecord is the record of a spec written before
// spec.cql.authentication existed (its basis has no cql).
func legacyRecord(t *testing.T, c *CassandraCluster) *CassandraCluster {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(EncodeLastApplied(c)), &m); err != nil {
		t.Fatal(err)
	}
	delete(m["spec"].(map[string]any), "cql")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := DecodeLastApplied(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return prev
}

func TestCQLAuthenticationChange(t *testing.T) {
	spec := func(q *CQL, yaml string) *CassandraCluster {
		c := cluster("o", map[string][]string{"dc1": {"r1"}}, "dc1")
		c.Spec.CQL = q
		if yaml != "" {
			c.Spec.Config = &Config{CassandraYAML: map[string]any{"authenticator": yaml}}
		}
		return c
	}
	recorded := func(c *CassandraCluster) *CassandraCluster {
		r, err := DecodeLastApplied(EncodeLastApplied(c))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	password, none := &CQL{Authentication: CQLAuthPassword}, &CQL{Authentication: CQLAuthNone}
	legacy := legacyRecord(t, spec(nil, ""))
	if got := legacy.CQLAuthentication(); got != CQLAuthNone {
		t.Fatalf("a record from before the field: %q, want None", got)
	}
	for _, tc := range []struct {
		name       string
		prev, next *CassandraCluster
		refused    string // "" allowed; else a part of the error
	}{
		{name: "legacy, credentials alone switch it on", prev: legacy, next: spec(&CQL{CredentialsSecret: "cql-admin"}, ""), refused: "Write authentication: None to keep it"},
		{name: "legacy, password written", prev: legacy, next: spec(&CQL{Authentication: CQLAuthPassword, CredentialsSecret: "cql-admin"}, "")},
		{name: "legacy, none written", prev: legacy, next: spec(none, "")},
		{name: "legacy, yaml written", prev: legacy, next: spec(&CQL{CredentialsSecret: "cql-admin"}, "PasswordAuthenticator")},
		{name: "legacy, unset", prev: legacy, next: spec(nil, ""), refused: "Write authentication: None to keep it"},
		{name: "none recorded, unset", prev: recorded(spec(none, "")), next: spec(nil, ""), refused: "Write authentication: None to keep it"},
		{name: "password recorded, unset", prev: recorded(spec(password, "")), next: spec(nil, "")},
		{name: "password recorded, none written", prev: recorded(spec(password, "")), next: spec(none, "")},
		{name: "none recorded, password written", prev: recorded(spec(none, "")), next: spec(password, "")},
		{name: "default recorded, unset", prev: recorded(spec(nil, "")), next: spec(nil, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := ValidateChange(tc.prev, tc.next)
			switch {
			case tc.refused == "" && len(errs) > 0:
				t.Errorf("want allowed: %v", errs)
			case tc.refused != "" && (len(errs) != 1 || errs[0].Field != "spec.cql.authentication" || !strings.Contains(errs[0].Message, tc.refused)):
				t.Errorf("want one refusal of spec.cql.authentication saying %q: %v", tc.refused, errs)
			}
		})
	}
}

func TestChangeBasisRecordsCQLAuthentication(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1"}}, "dc1")
	c.Spec.Config = &Config{CassandraYAML: map[string]any{"authenticator": "PasswordAuthenticator"}}
	if !strings.Contains(EncodeLastApplied(c), `"authentication": "Password"`) {
		t.Errorf("the basis does not record the authentication the nodes run:\n%s", EncodeLastApplied(c))
	}
}
