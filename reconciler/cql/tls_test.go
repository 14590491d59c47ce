package cql_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/cql"
)

// testCA is a CA and a server certificate it signed for dnsName.
type testCA struct {
	pem    []byte // the CA, PEM
	server tls.Certificate
}

func newTestCA(t *testing.T, dnsName string) testCA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "cassandra"}, DNSNames: []string{dnsName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{
		pem:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
	}
}

func TestTLS(t *testing.T) {
	ca := newTestCA(t, "nodes.orders.test")
	opts := fastOptions()
	opts.CQLTLS = &tls.Config{Certificates: []tls.Certificate{ca.server}, MinVersion: tls.VersionTLS12}
	r := startRing(t, opts)
	other := newTestCA(t, "nodes.orders.test")
	for _, tc := range []struct {
		name       string
		ca         []byte
		serverName string
		want       error
	}{
		{"chain only", ca.pem, "", nil},
		{"chain and name", ca.pem, "nodes.orders.test", nil},
		{"another name", ca.pem, "other.orders.test", cql.ErrTLS},
		{"another CA", other.pem, "", cql.ErrTLS},
	} {
		cfg, err := cql.TLSConfig(tc.ca, tc.serverName)
		if err != nil {
			t.Fatal(err)
		}
		o := testOpts()
		o.TLS = cfg
		_, err = r.client("dc1", o, "r1").Keyspaces(context.Background())
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := r.client("dc1", testOpts(), "r1").Keyspaces(context.Background()); !errors.Is(err, cql.ErrUnavailable) {
		t.Errorf("plain text to a TLS node: %v, want ErrUnavailable", err)
	}
	if _, err := cql.TLSConfig([]byte("not PEM"), ""); err == nil {
		t.Error("a CA bundle without certificates")
	}
}
