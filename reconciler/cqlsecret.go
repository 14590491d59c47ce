package reconciler

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// CQLRoleName is the role ringops creates for itself when
// spec.cql.authentication is Password and spec.cql.credentialsSecret
// names none.
const CQLRoleName = render.CQLRoleName

// KeepCQLSecret creates, in kube context kctx, the Secret of ringops' own
// CQL role (render.CQLCredentials, <cluster>-cql) when the spec wants one
// and it is missing there: user ringops and the password of the same
// Secret in another region of the cluster (the role lives in the ring,
// one password for all), else a new random one (32 characters of
// base64url, never logged). A Secret that exists is left as it is; one of
// that name ringops did not create is refused (ErrNotKept).
func (k *JolokiaSecrets) KeepCQLSecret(ctx context.Context, c *schemas.CassandraCluster, kctx string) (kube.Result, error) {
	name, managed := render.CQLCredentials(c)
	if !managed {
		return kube.Result{}, nil
	}
	ns := c.Metadata.Namespace
	what := fmt.Sprintf("context %s: secret %s/%s", kctx, ns, name)
	live, err := k.get(ctx, kctx, ns, name)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return kube.Result{}, fmt.Errorf("%s: %w", what, err)
	case live.Labels[contract.LabelCredentials] != contract.CredentialsCQL:
		return kube.Result{}, fmt.Errorf("%s: %w: name your Secret in spec.cql.credentialsSecret (keys username and password, a role allowed to ALTER the keyspaces), or delete it", what, ErrNotKept)
	default:
		return kube.Result{}, nil
	}
	creds, err := k.cqlCredentials(ctx, c, name, kctx)
	if err != nil {
		return kube.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	res, err := k.writer.ApplyObject(ctx, kctx, cqlSecret(c, name, creds))
	if err == nil && k.opts.Changed != nil {
		k.opts.Changed(kctx, ns, name)
	}
	return res, err
}

// cqlCredentials are those of the Secret name in the first other region
// of the cluster that holds it (ringops' own), else new ones. A region
// that cannot be read is skipped: the role's password is checked when
// ringops logs in (EnsureRole), which names the Secret to mend.
func (k *JolokiaSecrets) cqlCredentials(ctx context.Context, c *schemas.CassandraCluster, name, kctx string) (jolokia.Credentials, error) {
	seen := map[string]bool{kctx: true}
	for _, dc := range c.Spec.Datacenters {
		if seen[dc.Context] {
			continue
		}
		seen[dc.Context] = true
		s, err := k.get(ctx, dc.Context, c.Metadata.Namespace, name)
		if err != nil || s.Labels[contract.LabelCredentials] != contract.CredentialsCQL {
			continue
		}
		if cr, err := jolokia.CredentialsFromSecret(s); err == nil {
			return cr, nil
		}
	}
	pw, err := k.random(24, base64.RawURLEncoding.EncodeToString)
	if err != nil {
		return jolokia.Credentials{}, err
	}
	return jolokia.Credentials{Username: CQLRoleName, Password: pw}, nil
}

func cqlSecret(c *schemas.CassandraCluster, name string, creds jolokia.Credentials) *unstructured.Unstructured {
	b64 := base64.StdEncoding.EncodeToString
	labels := credentialsLabels(c, contract.CredentialsCQL)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   map[string]any{"name": name, "namespace": c.Metadata.Namespace, "labels": labels},
		"type":       string(corev1.SecretTypeBasicAuth),
		"data": map[string]any{
			jolokia.SecretUsernameKey: b64([]byte(creds.Username)),
			jolokia.SecretPasswordKey: b64([]byte(creds.Password)),
		},
	}}
}

// newRandomPassword is the password the default superuser gets when
// ringops disables it: 192 random bits, kept nowhere.
func newRandomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
