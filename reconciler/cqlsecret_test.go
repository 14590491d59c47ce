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

// TestKeepCQLSecret: with authentication Password and no credentialsSecret
// ringops creates <name>-cql, user ringops and a random password, in the
// first region, copies it into the next (one role, one password), leaves
// it alone once there, refuses one it did not create, and keeps none for
// a spec with its own Secret or without authentication.
func TestKeepCQLSecret(t *testing.T) {
	apis := map[string]*fakeAPI{"eu-west": {objects: map[string]any{}}, "us-east": {objects: map[string]any{}}}
	cfgs := map[string]*rest.Config{}
	for kctx, api := range apis {
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		cfgs[kctx] = &rest.Config{Host: srv.URL}
	}
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
