package reconciler

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/reconciler/cql"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// CQLOptions are the options of a CQL client of a defaulted cluster's
// nodes in kube context kctx: port 9042, the credentials of
// render.CQLCredentials (spec.cql.credentialsSecret, else ringops' own
// <cluster>-cql with authentication Password) as read in that region
// (through the router's cache), and, with spec.cql.tls, the CA read from
// its Secret or ConfigMap in that region. ringops' own Secret not yet
// created there (its first StatefulSet write in the region creates it)
// leaves the credentials out: the nodes then still run without
// authentication. Errors name the Secret or ConfigMap, never their
// content.
func (r *SecretRouter) CQLOptions(ctx context.Context, c *schemas.CassandraCluster, kctx string) (cql.Options, error) {
	opts := cql.DefaultOptions()
	opts.Port = int(render.CQLPort)
	ns := c.Metadata.Namespace
	if name, managed := render.CQLCredentials(c); name != "" {
		creds, err := r.Credentials(ctx, kctx, ns, name)
		switch {
		case managed && apierrors.IsNotFound(err):
		case err != nil:
			return opts, fmt.Errorf("cql credentials: %w", err)
		default:
			opts.Credentials = &creds
		}
	}
	spec := c.Spec.CQL
	if spec == nil {
		return opts, nil
	}
	if spec.TLS != nil {
		ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
		ca, err := ReadCA(ctx, r, kctx, ns, spec.TLS)
		if err != nil {
			return opts, err
		}
		if opts.TLS, err = cql.TLSConfig(ca, spec.TLS.ServerName); err != nil {
			return opts, fmt.Errorf("context %s: %w", kctx, err)
		}
	}
	return opts, nil
}

// ReadCA reads the PEM CA bundle of spec.cql.tls (a defaulted one: its
// key is set) from its Secret or ConfigMap in namespace ns of kube context
// kctx, through the router's clients.
func ReadCA(ctx context.Context, r *SecretRouter, kctx, ns string, t *schemas.CQLTLS) ([]byte, error) {
	return readCA(ctx, r, kctx, ns, t.CASecret, t.CAConfigMap)
}

// readCA reads a PEM CA bundle from the key of a Secret or, without one,
// of a ConfigMap (keys set) in namespace ns of kube context kctx.
func readCA(ctx context.Context, r *SecretRouter, kctx, ns string, secret, configMap *schemas.KeyRef) ([]byte, error) {
	cs, err := r.clients.Clientset(kctx)
	if err != nil {
		return nil, err
	}
	var data []byte
	switch {
	case secret != nil:
		what := fmt.Sprintf("context %s: secret %s/%s", kctx, ns, secret.Name)
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, secret.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if data = s.Data[secret.Key]; len(data) == 0 {
			return nil, fmt.Errorf("%s: no key %s", what, secret.Key)
		}
	case configMap != nil:
		what := fmt.Sprintf("context %s: configmap %s/%s", kctx, ns, configMap.Name)
		m, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, configMap.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if data = []byte(m.Data[configMap.Key]); len(data) == 0 {
			data = m.BinaryData[configMap.Key]
		}
		if len(data) == 0 {
			return nil, fmt.Errorf("%s: no key %s", what, configMap.Key)
		}
	default:
		return nil, fmt.Errorf("context %s: no CA named", kctx)
	}
	return data, nil
}
