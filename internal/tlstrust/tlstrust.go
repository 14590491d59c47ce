// Package tlstrust builds the TLS configuration ringops connects to
// Cassandra nodes with (CQL, the Jolokia agents): the nodes' certificates
// must chain to a PEM CA bundle read from the cluster's namespace, and
// their name is checked only when the spec names one, since nodes are
// reached by pod IP, which certificates seldom name.
package tlstrust

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Config returns a client TLS configuration that trusts the PEM CA bundle
// ca. With serverName, a certificate must also carry that name (DNS SAN);
// without, its name is not checked: checking the chain is what keeps out a
// server the CA did not certify. TLS 1.2 at least.
func Config(ca []byte, serverName string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("the CA bundle holds no PEM certificate")
	}
	if serverName != "" {
		return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}, nil
	}
	return &tls.Config{
		RootCAs:    pool,
		MinVersion: tls.VersionTLS12,
		// The default verification also checks the name; VerifyConnection
		// checks the chain alone.
		InsecureSkipVerify: true,
		VerifyConnection:   verifyChain(pool),
	}, nil
}

// verifyChain checks that the peer's certificate chains to roots.
func verifyChain(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		return nil
	}
}
