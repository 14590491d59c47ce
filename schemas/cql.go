package schemas

import (
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

func (v *validator) cql() {
	q := v.c.Spec.CQL
	if q == nil {
		return
	}
	if q.CredentialsSecret != "" {
		v.subdomain("spec.cql.credentialsSecret", q.CredentialsSecret, "Secret name")
	}
	t := q.TLS
	if t == nil {
		return
	}
	switch {
	case t.CASecret == nil && t.CAConfigMap == nil:
		v.add("spec.cql.tls", "required: the CA the nodes' certificates chain to, as caSecret: {name: cassandra-ca, key: ca.crt} or caConfigMap: {name: cassandra-ca}")
	case t.CASecret != nil && t.CAConfigMap != nil:
		v.add("spec.cql.tls.caConfigMap", "set only one of caSecret and caConfigMap")
	}
	v.keyRef("spec.cql.tls.caSecret", t.CASecret, "Secret name")
	v.keyRef("spec.cql.tls.caConfigMap", t.CAConfigMap, "ConfigMap name")
	v.serverName("spec.cql.tls.serverName", t.ServerName)
}

// serverName checks the name a TLS certificate must carry: a DNS name
// (a wildcard's base) or an IP address.
func (v *validator) serverName(field, sn string) {
	if sn != "" && net.ParseIP(sn) == nil {
		if msgs := validation.IsDNS1123Subdomain(strings.TrimPrefix(sn, "*.")); len(msgs) > 0 {
			v.add(field, "%q is not a DNS name: %s", truncate(sn, 80), k8sMessage(msgs))
		}
	}
}

func (v *validator) keyRef(field string, r *KeyRef, what string) {
	if r == nil {
		return
	}
	if r.Name == "" {
		v.add(field+".name", "required: the %s", what)
	} else {
		v.subdomain(field+".name", r.Name, what)
	}
	if r.Key != "" {
		if msgs := validation.IsConfigMapKey(r.Key); len(msgs) > 0 {
			v.add(field+".key", "%q is not a valid key: %s", truncate(r.Key, 80), k8sMessage(msgs))
		}
	}
}
