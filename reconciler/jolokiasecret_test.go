package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/schemas"
)

const keptSecretPath = "/api/v1/namespaces/cassandra/secrets/orders-jolokia"

// secretWriter stands for the server-side apply of kube.Manager: it
// stores the Secret in the fake API server (a new resourceVersion each
// time, a conflict over another one) and records the calls in calls.
type secretWriter struct {
	api   *fakeAPI
	calls func(name, detail string) error

	mu      sync.Mutex
	version int
}

func (w *secretWriter) ApplyObject(_ context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error) {
	ref := kube.RefOf(obj)
	if err := w.calls("ApplySecret", kctx+" "+obj.GetName()+" rv="+obj.GetResourceVersion()); err != nil {
		return kube.Result{Context: kctx, Ref: ref}, err
	}
	var s corev1.Secret
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &s); err != nil {
		return kube.Result{}, err
	}
	w.api.mu.Lock()
	live, _ := w.api.objects[keptSecretPath].(*corev1.Secret)
	w.api.mu.Unlock()
	if live != nil && s.ResourceVersion != live.ResourceVersion {
		return kube.Result{Context: kctx, Ref: ref}, fmt.Errorf("%w: resourceVersion %s", kube.ErrConflict, live.ResourceVersion)
	}
	w.mu.Lock()
	w.version++
	s.ResourceVersion = strconv.Itoa(w.version)
	w.mu.Unlock()
	w.api.set(keptSecretPath, &s)
	action := kube.Created
	if live != nil {
		action = kube.Configured
	}
	return kube.Result{Context: kctx, Ref: ref, Action: action}, nil
}

func (w *secretWriter) live(t *testing.T) *corev1.Secret {
	t.Helper()
	w.api.mu.Lock()
	defer w.api.mu.Unlock()
	s, _ := w.api.objects[keptSecretPath].(*corev1.Secret)
	return s
}

// keptFixture is the router and the keeper of one region over a fake API
// server, with what they say recorded.
type keptFixture struct {
	api     *fakeAPI
	writer  *secretWriter
	router  *SecretRouter
	keeper  *JolokiaSecrets
	calls   []string
	changed []string
	said    []string // every warning, error and result, as text
}

func newKeptFixture(t *testing.T) *keptFixture {
	t.Helper()
	f := &keptFixture{api: &fakeAPI{objects: map[string]any{}}}
	f.writer = &secretWriter{api: f.api, calls: func(name, detail string) error {
		f.calls = append(f.calls, name+" "+detail)
		return nil
	}}
	f.router = newRouter(t, f.api, SecretRouterOptions{Warn: func(err error) { f.said = append(f.said, err.Error()) }})
	f.keeper = NewJolokiaSecrets(f.router.clients, f.writer, JolokiaSecretsOptions{Changed: func(kctx, ns, name string) {
		f.changed = append(f.changed, kctx+" "+ns+"/"+name)
		f.router.Forget(kctx, ns, name)
	}})
	return f
}

func (f *keptFixture) keep(t *testing.T, c *schemas.CassandraCluster) (kube.Result, error) {
	t.Helper()
	res, err := f.keeper.KeepJolokiaSecret(t.Context(), c, "eu-west")
	f.said = append(f.said, fmt.Sprintf("%v %+v %#v", err, res, res))
	return res, err
}

func ordersSpec(t *testing.T, jolokia *schemas.Jolokia) *schemas.CassandraCluster {
	t.Helper()
	c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders", Namespace: "cassandra", Labels: map[string]string{"team": "storage"}},
		Spec: schemas.ClusterSpec{Jolokia: jolokia}}
	c.Default()
	return c
}

// route is the router's way to a node of orders in eu-west.
func (f *keptFixture) route(t *testing.T) jolokia.Route {
	t.Helper()
	rt, err := f.router.Route(context.Background(), ring.Node{Cluster: "orders", Context: "eu-west", Namespace: "cassandra", Pod: "orders-dc1-r1-0", IP: "10.0.0.1"})
	require.NoError(t, err)
	return rt
}

// TestJolokiaSecretCreatedOnceAndReused: without credentialsSecret,
// ringops creates <cluster>-jolokia with random credentials, labelled as
// its objects and as credentials it keeps, then reuses it: no second
// write, the router reads it back, nothing prints the password.
func TestJolokiaSecretCreatedOnceAndReused(t *testing.T) {
	f := newKeptFixture(t)
	c := ordersSpec(t, nil)
	f.router.SetCluster(c)
	assert.Nil(t, f.route(t).Credentials, "no Secret yet (an agent open before the upgrade is read without)")

	res, err := f.keep(t, c)
	require.NoError(t, err)
	assert.Equal(t, kube.Created, res.Action)
	s := f.writer.live(t)
	require.NotNil(t, s)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "cassandra", "app.kubernetes.io/instance": "orders",
		"app.kubernetes.io/managed-by": "ringops", "ringops.dev/cluster": "orders", "ringops.dev/credentials": "jolokia", "team": "storage"}, s.Labels)
	assert.Equal(t, corev1.SecretTypeBasicAuth, s.Type)
	user, password := string(s.Data["username"]), string(s.Data["password"])
	assert.Regexp(t, `^ringops-[0-9a-f]{8}$`, user)
	assert.Regexp(t, `^[A-Za-z0-9_-]{32}$`, password, "192 random bits, printable: the init container refuses anything else")
	assert.NotContains(t, s.Data, jolokia.SecretPreviousPasswordKey)
	assert.Equal(t, []string{"eu-west cassandra/orders-jolokia"}, f.changed)

	rt := f.route(t)
	require.NotNil(t, rt.Credentials)
	assert.Equal(t, jolokia.Credentials{Username: user, Password: password}, *rt.Credentials, "read back for ringops' own requests")
	assert.Nil(t, rt.Fallback)

	for range 3 {
		res, err = f.keep(t, c)
		require.NoError(t, err)
		assert.Zero(t, res, "reused: nothing written")
	}
	assert.Equal(t, []string{"ApplySecret eu-west orders-jolokia rv="}, f.calls, "created once")
	assert.Equal(t, password, string(f.writer.live(t).Data["password"]))

	other := newKeptFixture(t)
	_, err = other.keep(t, c)
	require.NoError(t, err)
	assert.NotEqual(t, password, string(other.writer.live(t).Data["password"]), "random, not derived")
	for _, said := range append(f.said, fmt.Sprintf("%v %+v %#v", rt, rt, rt)) {
		assert.NotContains(t, said, password)
	}
}

// TestJolokiaSecretRotation: a new spec.jolokia.rotate writes a new
// password over the version read and keeps the current one as previous,
// which the router sends to a node that refuses the new one.
func TestJolokiaSecretRotation(t *testing.T) {
	f := newKeptFixture(t)
	c := ordersSpec(t, nil)
	f.router.SetCluster(c)
	_, err := f.keep(t, c)
	require.NoError(t, err)
	first := f.writer.live(t)
	f.route(t) // cached

	c.Spec.Jolokia.Rotate = "2026-05-01"
	res, err := f.keep(t, c)
	require.NoError(t, err)
	assert.Equal(t, kube.Configured, res.Action)
	s := f.writer.live(t)
	assert.Equal(t, "2026-05-01", s.Annotations[contract.AnnotationRotate])
	assert.NotEqual(t, string(first.Data["password"]), string(s.Data["password"]))
	assert.Equal(t, string(first.Data["username"]), string(s.Data[jolokia.SecretPreviousUsernameKey]))
	assert.Equal(t, string(first.Data["password"]), string(s.Data[jolokia.SecretPreviousPasswordKey]))
	assert.Equal(t, "ApplySecret eu-west orders-jolokia rv=1", f.calls[1], "over the version read")

	rt := f.route(t)
	require.NotNil(t, rt.Credentials)
	require.NotNil(t, rt.Fallback)
	assert.Equal(t, string(s.Data["password"]), rt.Credentials.Password, "the router forgot the old Secret at once")
	assert.Equal(t, string(first.Data["password"]), rt.Fallback.Password)

	res, err = f.keep(t, c)
	require.NoError(t, err)
	assert.Zero(t, res, "the same token: no second rotation")
	for _, said := range f.said {
		assert.NotContains(t, said, string(s.Data["password"]))
		assert.NotContains(t, said, string(first.Data["password"]))
	}
}

// TestJolokiaSecretNotOurs: a Secret of that name that ringops did not
// create is never overwritten; a named Secret and none are left alone.
func TestJolokiaSecretNotOurs(t *testing.T) {
	f := newKeptFixture(t)
	f.api.set(keptSecretPath, secret("orders-jolokia", map[string]string{"username": "theirs", "password": "theirs"}))
	_, err := f.keep(t, ordersSpec(t, nil))
	require.ErrorIs(t, err, ErrNotKept)
	assert.True(t, strings.HasPrefix(err.Error(), "context eu-west: secret cassandra/orders-jolokia: "), err.Error())
	assert.Contains(t, err.Error(), "spec.jolokia.credentialsSecret")
	assert.Empty(t, f.calls)

	for _, j := range []*schemas.Jolokia{{CredentialsSecret: "jolokia-auth"}, {CredentialsSecret: schemas.JolokiaCredentialsNone}} {
		res, err := newKeptFixture(t).keep(t, ordersSpec(t, j))
		assert.NoError(t, err)
		assert.Zero(t, res, "credentialsSecret %s", j.CredentialsSecret)
	}
}

// recordingKeeper records its calls with the fake API server's.
type recordingKeeper struct {
	kube *fakeKube
	err  error
}

func (k *recordingKeeper) KeepJolokiaSecret(_ context.Context, c *schemas.CassandraCluster, kctx string) (kube.Result, error) {
	_ = k.kube.record("KeepJolokiaSecret", kctx+" "+c.Metadata.Name)
	if k.err != nil {
		return kube.Result{}, k.err
	}
	return kube.Result{Context: kctx, Ref: kube.Ref{Kind: "Secret", Name: c.Metadata.Name + "-jolokia"}, Action: kube.Created}, nil
}

// KeepCQLSecret records nothing: the specs here keep no CQL role.
func (k *recordingKeeper) KeepCQLSecret(context.Context, *schemas.CassandraCluster, string) (kube.Result, error) {
	return kube.Result{}, nil
}

// TestExecuteKeepsTheSecretBeforeAStatefulSet: the Secret is kept in the
// step's region before any write of a StatefulSet (its pods mount it; a
// rotation must precede the restart), and a failure fails the step
// before the StatefulSet is touched.
func TestExecuteKeepsTheSecretBeforeAStatefulSet(t *testing.T) {
	stsRef := plan.ObjectRef{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1", UID: "u1", ResourceVersion: "7"}
	for _, tc := range []struct {
		name string
		step plan.Step
		want []string
	}{
		{"objects without a StatefulSet", plan.Step{Action: plan.ApplyObjects, Context: "eu-west",
			Objects: []*unstructured.Unstructured{{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "orders-config", "namespace": "cassandra"}}}}}, []string{"Apply eu-west orders-config"}},
		{"a new StatefulSet", plan.Step{Action: plan.CreateStatefulSet, Context: "eu-west", Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "")}},
			[]string{"KeepJolokiaSecret eu-west orders", "Apply eu-west orders-dc1-r1"}},
		{"a restart", plan.Step{Action: plan.RestartPod, Context: "us-east", Target: stsRef,
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}, From: 1, To: 0, Pod: "orders-dc1-r1-0"},
			[]string{"KeepJolokiaSecret us-east orders", "ApplyObject us-east orders-dc1-r1 rv=7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			f.engine.secrets = &recordingKeeper{kube: f.kube}
			f.engine.state("orders").target = &Target{Desired: plan.Desired{Cluster: ordersSpec(t, nil)}}
			events, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{tc.step}})
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.kube.Calls())
			if len(tc.want) == 2 {
				assert.Equal(t, "Secret", events[1].Results[0].Ref.Kind, "the Secret's creation is in the step's results")
			}
		})
	}
	f := newFixture(t, Options{})
	f.engine.secrets = &recordingKeeper{kube: f.kube, err: errors.New("forbidden")}
	f.engine.state("orders").target = &Target{Desired: plan.Desired{Cluster: ordersSpec(t, nil)}}
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{{Action: plan.CreateStatefulSet, Context: "eu-west",
		Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "")}}}})
	require.Error(t, err)
	assert.Equal(t, []string{"KeepJolokiaSecret eu-west orders"}, f.kube.Calls(), "no StatefulSet without its Secret")
}
