package reconciler

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/schemas"
)

const cqlSecretPath = "/api/v1/namespaces/cassandra/secrets/orders-cql"

// regionWriter applies Secrets into the fake API server of their region.
type regionWriter struct {
	apis  map[string]*fakeAPI
	calls []string
}

func (w *regionWriter) ApplyObject(_ context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error) {
	w.calls = append(w.calls, kctx+" "+obj.GetName())
	var s corev1.Secret
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &s); err != nil {
		return kube.Result{}, err
	}
	w.apis[kctx].set("/api/v1/namespaces/"+s.Namespace+"/secrets/"+s.Name, &s)
	return kube.Result{Context: kctx, Ref: kube.RefOf(obj), Action: kube.Created}, nil
}

func (w *regionWriter) live(kctx string) *corev1.Secret {
	a := w.apis[kctx]
	a.mu.Lock()
	defer a.mu.Unlock()
	s, _ := a.objects[cqlSecretPath].(*corev1.Secret)
	return s
}

// regionAPIs serves an empty fake API server per kube context, and their
// client configurations.
func regionAPIs(t *testing.T, contexts ...string) (map[string]*fakeAPI, map[string]*rest.Config) {
	t.Helper()
	apis, cfgs := map[string]*fakeAPI{}, map[string]*rest.Config{}
	for _, kctx := range contexts {
		api := &fakeAPI{objects: map[string]any{}}
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		apis[kctx], cfgs[kctx] = api, &rest.Config{Host: srv.URL}
	}
	return apis, cfgs
}

// TestKeepCQLSecret: with authentication Password and no credentialsSecret
// ringops creates <name>-cql, user ringops and a random password, in the
// first region, copies it into the next (one role, one password), leaves
// it alone once there, refuses one it did not create, and keeps none for
// a spec with its own Secret or without authentication.
func TestKeepCQLSecret(t *testing.T) {
	apis, cfgs := regionAPIs(t, "eu-west", "us-east")
	clients, err := kube.NewClientsFromConfigs(cfgs)
	require.NoError(t, err)
	w := &regionWriter{apis: apis}
	keeper := NewJolokiaSecrets(clients, w, JolokiaSecretsOptions{})
	c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra"}}
	c.Spec.CQL = &schemas.CQL{Authentication: schemas.CQLAuthPassword}
	c.Spec.Datacenters = []schemas.Datacenter{{Name: "dc1", Context: "eu-west"}, {Name: "dc2", Context: "us-east"}}
	ctx := t.Context()

	_, err = keeper.KeepCQLSecret(ctx, c, "eu-west")
	require.NoError(t, err)
	eu := w.live("eu-west")
	require.NotNil(t, eu)
	assert.Equal(t, "ringops", string(eu.Data["username"]))
	assert.Len(t, eu.Data["password"], 32)
	assert.Equal(t, contract.CredentialsCQL, eu.Labels[contract.LabelCredentials])

	_, err = keeper.KeepCQLSecret(ctx, c, "us-east")
	require.NoError(t, err)
	us := w.live("us-east")
	require.NotNil(t, us)
	assert.Equal(t, eu.Data, us.Data, "one role in the ring: one password in every region")

	_, err = keeper.KeepCQLSecret(ctx, c, "eu-west")
	require.NoError(t, err)
	assert.Equal(t, []string{"eu-west orders-cql", "us-east orders-cql"}, w.calls, "a Secret that exists is not written again")

	foreign := secret("orders-cql", map[string]string{"username": "app", "password": "x"})
	apis["eu-west"].set(cqlSecretPath, foreign)
	_, err = keeper.KeepCQLSecret(ctx, c, "eu-west")
	assert.True(t, errors.Is(err, ErrNotKept), "%v", err)
	assert.True(t, strings.Contains(err.Error(), "spec.cql.credentialsSecret"), "%v", err)

	for _, q := range []*schemas.CQL{{Authentication: schemas.CQLAuthNone}, {CredentialsSecret: "cql-admin"}, nil} {
		c.Spec.CQL = q
		res, err := keeper.KeepCQLSecret(ctx, c, "us-east")
		assert.NoError(t, err)
		assert.Zero(t, res, "%+v", q)
	}
	assert.Len(t, w.calls, 2)
}

// failingWriter fails the writes into the contexts of fail, once each.
type failingWriter struct {
	*regionWriter
	fail map[string]bool
}

func (w *failingWriter) ApplyObject(ctx context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error) {
	if w.fail[kctx] {
		delete(w.fail, kctx)
		return kube.Result{}, errors.New("the API server is gone")
	}
	return w.regionWriter.ApplyObject(ctx, kctx, obj)
}

// TestRotateCQLSecrets: a new spec.cql.rotate token gives every region's
// <name>-cql one new password, the one before kept as previous-*, and the
// token; a write that fails leaves the rotation to the next try, which
// copies the new password of the region written (never a third one) and
// writes only the region behind; a region that cannot be read stops a
// rotation due, and nothing else.
func TestRotateCQLSecrets(t *testing.T) {
	apis, cfgs := regionAPIs(t, "eu-west", "us-east")
	gone := httptest.NewServer(nil)
	gone.Close()
	cfgs["ap-south"] = &rest.Config{Host: gone.URL}
	clients, err := kube.NewClientsFromConfigs(cfgs)
	require.NoError(t, err)
	w := &failingWriter{regionWriter: &regionWriter{apis: apis}, fail: map[string]bool{}}
	var changed []string
	keeper := NewJolokiaSecrets(clients, w, JolokiaSecretsOptions{Changed: func(kctx, _, _ string) { changed = append(changed, kctx) }})
	c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra"}}
	c.Spec.CQL = &schemas.CQL{Authentication: schemas.CQLAuthPassword}
	c.Spec.Datacenters = []schemas.Datacenter{{Name: "dc1", Context: "eu-west"}, {Name: "dc2", Context: "us-east"}}
	ctx := t.Context()
	for _, kctx := range []string{"eu-west", "us-east"} {
		_, err := keeper.KeepCQLSecret(ctx, c, kctx)
		require.NoError(t, err)
	}
	first := string(w.live("eu-west").Data["password"])
	writes := len(w.calls)

	own, prev, wrote, err := keeper.RotateCQLSecrets(ctx, c)
	require.NoError(t, err)
	assert.False(t, wrote, "no token, no rotation")
	assert.Equal(t, first, own.Password)
	assert.Nil(t, prev)
	assert.Len(t, w.calls, writes)

	c.Spec.CQL.Rotate = "2026-12-07"
	w.fail["us-east"] = true
	_, _, wrote, err = keeper.RotateCQLSecrets(ctx, c)
	require.Error(t, err, "us-east could not be written")
	assert.NotContains(t, err.Error(), first)
	assert.True(t, wrote, "eu-west was")
	eu := w.live("eu-west")
	second := string(eu.Data["password"])
	assert.NotEqual(t, first, second)
	assert.Len(t, second, 32)
	assert.Equal(t, first, string(eu.Data["previous-password"]))
	assert.Equal(t, "ringops", string(eu.Data["previous-username"]))
	assert.Equal(t, "2026-12-07", eu.Annotations[contract.AnnotationCQLRotate])
	assert.Equal(t, first, string(w.live("us-east").Data["password"]), "us-east is behind")

	calls := len(w.calls)
	own, prev, wrote, err = keeper.RotateCQLSecrets(ctx, c)
	require.NoError(t, err)
	assert.True(t, wrote)
	assert.Equal(t, calls+1, len(w.calls), "only the region behind is written: %v", w.calls)
	assert.Equal(t, jolokia.Credentials{Username: "ringops", Password: second}, own)
	require.NotNil(t, prev)
	assert.Equal(t, first, prev.Password)
	us := w.live("us-east")
	assert.Equal(t, eu.Data, us.Data, "one password, one previous, in every region")
	assert.Equal(t, "2026-12-07", us.Annotations[contract.AnnotationCQLRotate])
	assert.Equal(t, []string{"eu-west", "us-east"}, changed[len(changed)-2:], "the router is told of each Secret written")

	_, _, wrote, err = keeper.RotateCQLSecrets(ctx, c)
	require.NoError(t, err)
	assert.False(t, wrote, "at the token: nothing to write")

	// A region that cannot be read: nothing stops while no rotation is
	// due; a rotation waits for it.
	c.Spec.Datacenters = append(c.Spec.Datacenters, schemas.Datacenter{Name: "dc3", Context: "ap-south"})
	own, _, _, err = keeper.RotateCQLSecrets(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, second, own.Password)
	c.Spec.CQL.Rotate = "2027-01-01"
	calls = len(w.calls)
	_, _, _, err = keeper.RotateCQLSecrets(ctx, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "context ap-south")
	assert.Len(t, w.calls, calls, "nothing written while a region cannot be read")

	// A region added later gets the Secret at the token, copied.
	c.Spec.Datacenters = c.Spec.Datacenters[:2]
	c.Spec.CQL.Rotate = "2026-12-07"
	apis["eu-west"].mu.Lock()
	delete(apis["eu-west"].objects, cqlSecretPath)
	apis["eu-west"].mu.Unlock()
	_, err = keeper.KeepCQLSecret(ctx, c, "eu-west")
	require.NoError(t, err)
	assert.Equal(t, us.Data, w.live("eu-west").Data)
	assert.Equal(t, "2026-12-07", w.live("eu-west").Annotations[contract.AnnotationCQLRotate])
}
