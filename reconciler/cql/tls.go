package cql

import (
	"crypto/tls"
	"fmt"

	"github.com/ringops/ringops/internal/tlstrust"
)

// TLSConfig returns the TLS configuration of a Client whose nodes'
// certificates chain to the PEM CA bundle ca (tlstrust.Config). With
// serverName, a certificate must also carry that name (DNS SAN); without,
// its name is not checked: nodes are contacted by pod IP, which
// certificates seldom name, and checking the chain is what keeps out a
// server the CA did not certify.
func TLSConfig(ca []byte, serverName string) (*tls.Config, error) {
	cfg, err := tlstrust.Config(ca, serverName)
	if err != nil {
		return nil, fmt.Errorf("cql tls: %w", err)
	}
	return cfg, nil
}
