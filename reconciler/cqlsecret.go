package reconciler

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

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
// one password for all; one at the spec's spec.cql.rotate token first),
// else a new random one (32 characters of base64url, never logged),
// annotated with the token. A Secret that exists is left as it is
// (RotateCQLSecrets rotates it); one of that name ringops did not create
// is refused (ErrNotKept).
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
		return kube.Result{}, notKeptCQL(what)
	default:
		return kube.Result{}, nil
	}
	from, err := k.cqlCredentials(ctx, c, name, kctx)
	if err != nil {
		return kube.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	res, err := k.writer.ApplyObject(ctx, kctx, cqlSecret(c, name, from))
	if err == nil && k.opts.Changed != nil {
		k.opts.Changed(kctx, ns, name)
	}
	return res, err
}

func notKeptCQL(what string) error {
	return fmt.Errorf("%s: %w: name your Secret in spec.cql.credentialsSecret (keys username and password, a role allowed to ALTER the keyspaces), or delete it", what, ErrNotKept)
}

// cqlState is what a Secret <cluster>-cql holds: the role's credentials,
// the ones before the last rotation, and the spec.cql.rotate token they
// were made for.
type cqlState struct {
	creds    jolokia.Credentials
	previous *jolokia.Credentials
	token    string
}

func cqlStateOf(s *corev1.Secret) (cqlState, error) {
	cr, err := jolokia.CredentialsFromSecret(s)
	if err != nil {
		return cqlState{}, err
	}
	st := cqlState{creds: cr, token: s.Annotations[contract.AnnotationCQLRotate]}
	if prev, ok := jolokia.PreviousCredentialsFromSecret(s); ok {
		st.previous = &prev
	}
	return st, nil
}

// cqlCredentials are those of the Secret name in another region of the
// cluster that holds it (ringops' own; one at the spec's token first),
// else new ones at the spec's token. A region that cannot be read is
// skipped: the role's password is checked when ringops logs in
// (EnsureRole), which names the Secret to mend.
func (k *JolokiaSecrets) cqlCredentials(ctx context.Context, c *schemas.CassandraCluster, name, kctx string) (cqlState, error) {
	token := c.CQLRotate()
	var found *cqlState
	for _, other := range c.Contexts() {
		if other == kctx {
			continue
		}
		s, err := k.get(ctx, other, c.Metadata.Namespace, name)
		if err != nil || s.Labels[contract.LabelCredentials] != contract.CredentialsCQL {
			continue
		}
		st, err := cqlStateOf(s)
		if err != nil {
			continue
		}
		if st.token == token {
			return st, nil
		}
		if found == nil {
			found = &st
		}
	}
	if found != nil {
		return *found, nil
	}
	pw, err := k.random(24, base64.RawURLEncoding.EncodeToString)
	if err != nil {
		return cqlState{}, err
	}
	return cqlState{creds: jolokia.Credentials{Username: CQLRoleName, Password: pw}, token: token}, nil
}

// RotateCQLSecrets brings the Secret of ringops' own CQL role
// (render.CQLCredentials) to the spec's spec.cql.rotate token in every
// region of the cluster that holds it, and returns the role's credentials
// and those before the last rotation (nil: none). A region whose Secret
// is at another token gets the new password (that of a region already at
// the token, else a new random one), its current one kept as
// previous-username and previous-password, and the token; the others are
// left as they are (no write). Every region must be read and written:
// the role's password is set (EnsureRole, logged in with the previous
// one) only once every Secret holds the new one, so that a rotation cut
// short is finished by the next try, never losing the password the role
// has. A region without the Secret yet is skipped (KeepCQLSecret copies
// it there before the region's first StatefulSet); one that cannot be
// read is an error only when a rotation is due (else the credentials of
// the others are returned: a region down does not stop ringops' CQL).
// Zero credentials: the spec wants no role of ringops'.
func (k *JolokiaSecrets) RotateCQLSecrets(ctx context.Context, c *schemas.CassandraCluster) (own jolokia.Credentials, previous *jolokia.Credentials, wrote bool, err error) {
	name, managed := render.CQLCredentials(c)
	if !managed {
		return jolokia.Credentials{}, nil, false, nil
	}
	ns, token := c.Metadata.Namespace, c.CQLRotate()
	type region struct {
		kctx string
		live *corev1.Secret
		st   cqlState
	}
	var regions []region
	var at *cqlState   // a region's Secret at the token
	var unread []error // regions that could not be read
	for _, kctx := range c.Contexts() {
		what := fmt.Sprintf("context %s: secret %s/%s", kctx, ns, name)
		live, err := k.get(ctx, kctx, ns, name)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			unread = append(unread, fmt.Errorf("%s: %w", what, err))
			continue
		case live.Labels[contract.LabelCredentials] != contract.CredentialsCQL:
			return jolokia.Credentials{}, nil, false, notKeptCQL(what)
		}
		st, err := cqlStateOf(live)
		if err != nil {
			return jolokia.Credentials{}, nil, false, fmt.Errorf("%s: %w", what, err)
		}
		regions = append(regions, region{kctx: kctx, live: live, st: st})
		if st.token == token && at == nil {
			at = &st
		}
	}
	behind := slices.ContainsFunc(regions, func(r region) bool { return r.st.token != token })
	switch {
	case len(unread) > 0 && (at == nil || behind):
		// A rotation waits for every region: the role's password is set
		// once all hold the new one.
		return jolokia.Credentials{}, nil, false, fmt.Errorf("rotate: %w", errors.Join(unread...))
	case len(regions) == 0:
		return jolokia.Credentials{}, nil, false, nil
	}
	if at == nil { // a new token: a new password, the current one kept
		pw, err := k.random(24, base64.RawURLEncoding.EncodeToString)
		if err != nil {
			return jolokia.Credentials{}, nil, false, err
		}
		cur := regions[0].st.creds
		at = &cqlState{creds: jolokia.Credentials{Username: CQLRoleName, Password: pw}, previous: &cur, token: token}
	}
	for _, r := range regions {
		if r.st.token == token {
			continue
		}
		next := *at
		if r.st.creds != at.creds {
			cur := r.st.creds
			next.previous = &cur
		}
		obj := cqlSecret(c, name, next)
		obj.SetResourceVersion(r.live.ResourceVersion) // rotate only what was read
		if _, err := k.writer.ApplyObject(ctx, r.kctx, obj); err != nil {
			return jolokia.Credentials{}, nil, wrote, fmt.Errorf("context %s: secret %s/%s: rotate: %w", r.kctx, ns, name, err)
		}
		wrote = true
		if k.opts.Changed != nil {
			k.opts.Changed(r.kctx, ns, name)
		}
	}
	return at.creds, at.previous, wrote, nil
}

func cqlSecret(c *schemas.CassandraCluster, name string, st cqlState) *unstructured.Unstructured {
	b64 := base64.StdEncoding.EncodeToString
	labels := credentialsLabels(c, contract.CredentialsCQL)
	data := map[string]any{
		jolokia.SecretUsernameKey: b64([]byte(st.creds.Username)),
		jolokia.SecretPasswordKey: b64([]byte(st.creds.Password)),
	}
	if st.previous != nil {
		data[jolokia.SecretPreviousUsernameKey] = b64([]byte(st.previous.Username))
		data[jolokia.SecretPreviousPasswordKey] = b64([]byte(st.previous.Password))
	}
	meta := map[string]any{"name": name, "namespace": c.Metadata.Namespace, "labels": labels}
	if st.token != "" {
		meta["annotations"] = map[string]any{contract.AnnotationCQLRotate: st.token}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata":   meta,
		"type":       string(corev1.SecretTypeBasicAuth),
		"data":       data,
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
