package reconciler

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// SecretKeeper keeps, in one region, the Secret of the agents' credentials
// that ringops owns when a spec names none (render.JolokiaCredentials):
// *JolokiaSecrets. The engine calls it before each step that writes a
// StatefulSet there, so that the Secret exists, at the spec's rotation,
// before a pod may need it.
type SecretKeeper interface {
	KeepJolokiaSecret(ctx context.Context, c *schemas.CassandraCluster, kctx string) (kube.Result, error)
	// KeepCQLSecret keeps the Secret of ringops' own CQL role
	// (render.CQLCredentials) there.
	KeepCQLSecret(ctx context.Context, c *schemas.CassandraCluster, kctx string) (kube.Result, error)
}

// SecretWriter applies the Secret: *kube.Manager (server-side apply as
// every object ringops writes, refusing one it did not create).
type SecretWriter interface {
	ApplyObject(ctx context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error)
}

// ErrNotKept: a Secret of the name ringops would keep exists, and ringops
// did not create it.
var ErrNotKept = errors.New("not created by ringops")

// JolokiaSecretsOptions tune JolokiaSecrets.
type JolokiaSecretsOptions struct {
	// Timeout bounds the read of the Secret. Default 5s.
	Timeout time.Duration
	// Changed is told each Secret created or rotated (a SecretRouter's
	// Forget, so that the next read of the agents uses it); nil: nobody.
	Changed func(kctx, ns, name string)
	// Random is the source of the user names and passwords; nil:
	// crypto/rand.
	Random io.Reader
}

// JolokiaSecrets creates and rotates the Secrets <cluster>-jolokia
// (render.JolokiaSecretName), one per region, in the cluster's namespace:
// a random user (ringops-<8 hex>) and password (32 characters of base64url,
// 192 bits), which are never logged, printed nor put in an error. The
// Secret is labelled like the rendered objects plus
// contract.LabelCredentials (so that it is never observed nor pruned with
// them) and annotated with the spec.jolokia.rotate token it was made for.
//
// A rotation (a new token) writes a new password and keeps the current
// one as previous-username and previous-password: the agent reads its
// password at start, so the nodes keep the old one until the restart the
// new token's pod annotation makes the planner roll, and ringops tries
// the previous one on a node that refuses the new (jolokia.Route.Fallback).
// The previous one is kept until the next rotation; a rotation started
// before the previous roll ended leaves the nodes still on the password
// before unreadable until they restart.
type JolokiaSecrets struct {
	clients *kube.Clients
	writer  SecretWriter
	opts    JolokiaSecretsOptions
}

var _ SecretKeeper = (*JolokiaSecrets)(nil)

// NewJolokiaSecrets reads through clients and writes through writer.
func NewJolokiaSecrets(clients *kube.Clients, writer SecretWriter, opts JolokiaSecretsOptions) *JolokiaSecrets {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	return &JolokiaSecrets{clients: clients, writer: writer, opts: opts}
}

// KeepJolokiaSecret creates the Secret in kube context kctx when it is
// missing, rotates it when its token is not the spec's, and does nothing
// otherwise (no write: the result is zero), nor when the spec names its
// own Secret or none. A Secret of that name ringops did not create is
// refused (ErrNotKept): never overwritten.
func (k *JolokiaSecrets) KeepJolokiaSecret(ctx context.Context, c *schemas.CassandraCluster, kctx string) (kube.Result, error) {
	name, managed := render.JolokiaCredentials(c)
	if !managed {
		return kube.Result{}, nil
	}
	ns, token := c.Metadata.Namespace, rotateToken(c)
	what := fmt.Sprintf("context %s: secret %s/%s", kctx, ns, name)
	live, err := k.get(ctx, kctx, ns, name)
	var previous *jolokia.Credentials
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return kube.Result{}, fmt.Errorf("%s: %w", what, err)
	case live.Labels[contract.LabelCredentials] != contract.CredentialsJolokia:
		return kube.Result{}, fmt.Errorf("%s: %w: name your Secret in spec.jolokia.credentialsSecret (keys username and password), or delete it", what, ErrNotKept)
	default:
		cur, err := jolokia.CredentialsFromSecret(live)
		if err == nil && live.Annotations[contract.AnnotationRotate] == token {
			return kube.Result{}, nil
		}
		if err == nil {
			previous = &cur
		}
	}
	obj, err := k.secret(c, name, token, previous)
	if err != nil {
		return kube.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	if live != nil {
		obj.SetResourceVersion(live.ResourceVersion) // rotate only what was read
	}
	res, err := k.writer.ApplyObject(ctx, kctx, obj)
	if err == nil && k.opts.Changed != nil {
		k.opts.Changed(kctx, ns, name)
	}
	return res, err
}

func (k *JolokiaSecrets) get(ctx context.Context, kctx, ns, name string) (*corev1.Secret, error) {
	cs, err := k.clients.Clientset(kctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	return cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
}

// secret is the Secret to apply: new random credentials, the previous
// ones when rotating.
func (k *JolokiaSecrets) secret(c *schemas.CassandraCluster, name, token string, previous *jolokia.Credentials) (*unstructured.Unstructured, error) {
	user, err := k.random(4, hex.EncodeToString)
	if err != nil {
		return nil, err
	}
	password, err := k.random(24, base64.RawURLEncoding.EncodeToString)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString
	data := map[string]any{jolokia.SecretUsernameKey: b64([]byte("ringops-" + user)), jolokia.SecretPasswordKey: b64([]byte(password))}
	if previous != nil {
		data[jolokia.SecretPreviousUsernameKey] = b64([]byte(previous.Username))
		data[jolokia.SecretPreviousPasswordKey] = b64([]byte(previous.Password))
	}
	labels := credentialsLabels(c, contract.CredentialsJolokia)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata": map[string]any{
			"name": name, "namespace": c.Metadata.Namespace, "labels": labels,
			"annotations": map[string]any{contract.AnnotationRotate: token},
		},
		"type": string(corev1.SecretTypeBasicAuth),
		"data": data,
	}}, nil
}

// random is n random bytes, encoded.
func (k *JolokiaSecrets) random(n int, encode func([]byte) string) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(k.opts.Random, b); err != nil {
		return "", fmt.Errorf("random credentials: %w", err)
	}
	return encode(b), nil
}

func rotateToken(c *schemas.CassandraCluster) string {
	if c.Spec.Jolokia != nil {
		return c.Spec.Jolokia.Rotate
	}
	return ""
}

// keepSecrets keeps the agents' Secret and that of ringops' CQL role in
// the step's context before a step that writes a StatefulSet there
// (Clients.Secrets), so that pods find it, a rotation's new password is
// there before the restart it causes, and the CQL role's password is
// there before a node of that region may ask for it. Their results, when
// they wrote, come first in the step's.
func (e *Engine) keepSecrets(ctx context.Context, cluster string, s plan.Step) ([]kube.Result, error) {
	if e.secrets == nil || !writesStatefulSet(s) {
		return nil, nil
	}
	st := e.state(cluster)
	e.mu.Lock()
	t := st.target
	e.mu.Unlock()
	if t == nil || t.Desired.Cluster == nil {
		return nil, nil
	}
	out, err := one(e.secrets.KeepJolokiaSecret(ctx, t.Desired.Cluster, s.Context))
	if err != nil {
		return out, err
	}
	cq, err := one(e.secrets.KeepCQLSecret(ctx, t.Desired.Cluster, s.Context))
	return append(out, cq...), err
}

func writesStatefulSet(s plan.Step) bool {
	for _, u := range s.Objects {
		if u != nil && u.GetKind() == "StatefulSet" {
			return true
		}
	}
	return false
}

// credentialsLabels are the labels of a credentials Secret ringops keeps
// (kind: contract.CredentialsJolokia or CredentialsCQL): the cluster's own
// labels, then ringops' (which win).
func credentialsLabels(c *schemas.CassandraCluster, kind string) map[string]any {
	labels := map[string]any{}
	for k, v := range c.Metadata.Labels {
		labels[k] = v
	}
	maps.Copy(labels, map[string]any{
		contract.LabelName: contract.AppName, contract.LabelInstance: c.Metadata.Name, contract.LabelManagedBy: contract.ManagedBy,
		contract.LabelCluster: c.Metadata.Name, contract.LabelCredentials: kind,
	})
	return labels
}
