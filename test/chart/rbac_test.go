package chart

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/test/env"
)

// access is one request a ServiceAccount may or may not make.
type access struct {
	verb, group, resource, subresource, namespace, name string
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.name != "" {
		r += " " + a.name
	}
	if a.namespace != "" {
		r += " in " + a.namespace
	}
	return a.verb + " " + r
}

// serviceAccount is a ServiceAccount the chart binds.
type serviceAccount struct{ namespace, name string }

// can asks the API server (SubjectAccessReview, as the cluster admin)
// whether sa may make the request a.
func can(t *testing.T, client kubernetes.Interface, sa serviceAccount, a access) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:" + sa.namespace + ":" + sa.name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + sa.namespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
			Namespace: a.namespace, Name: a.name,
		},
	}}
	out, err := client.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SubjectAccessReview %s: %v", a, err)
	}
	if out.Status.EvaluationError != "" {
		t.Errorf("SubjectAccessReview %s: %s", a, out.Status.EvaluationError)
	}
	return out.Status.Allowed
}

// checkAccess: every request of allowed is allowed, every one of denied is
// denied.
func checkAccess(t *testing.T, client kubernetes.Interface, sa serviceAccount, allowed, denied []access) {
	t.Helper()
	// The API server's RBAC authorizer reads Roles and bindings from its
	// informers: a binding applied just before may take a moment to count
	// (seen on a loaded machine: the first checks denied, the rest allowed).
	if len(allowed) > 0 {
		for deadline := time.Now().Add(30 * time.Second); !can(t, client, sa, allowed[0]) && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, a := range allowed {
		if !can(t, client, sa, a) {
			t.Errorf("%s/%s cannot %s; ringops needs it", sa.namespace, sa.name, a)
		}
	}
	for _, a := range denied {
		if can(t, client, sa, a) {
			t.Errorf("%s/%s can %s; it must not", sa.namespace, sa.name, a)
		}
	}
}

// cassandraAccess is the README's table of what ringops does in a Cassandra
// namespace: the requests allowed, and requests on the same resources that
// ringops never makes (denied). deletePVC: cassandra.storage.deleteOnDecommission;
// adopt: cassandra.adoptFromCassKop (list Deployments, patch pods).
// Reading and patching Secrets depends on cassandra.clusters: each case
// checks it.
func cassandraAccess(ns string, deletePVC, adopt bool) (allowed, denied []access) {
	all := func(group, resource string, verbs, not string) {
		for _, v := range strings.Fields(verbs) {
			allowed = append(allowed, access{verb: v, group: group, resource: resource, namespace: ns})
		}
		for _, v := range strings.Fields(not) {
			denied = append(denied, access{verb: v, group: group, resource: resource, namespace: ns})
		}
	}
	apply := "get list watch create update patch delete"
	all("apps", "statefulsets", apply, "deletecollection")
	all("", "services", apply, "deletecollection")
	all("", "configmaps", apply, "deletecollection")
	all("policy", "poddisruptionbudgets", apply, "deletecollection")
	if adopt {
		all("", "pods", "get list watch delete patch", "create update deletecollection")
	} else {
		all("", "pods", "get list watch delete", "create update patch deletecollection")
	}
	if deletePVC {
		all("", "persistentvolumeclaims", "get list watch patch delete", "create update deletecollection")
	} else {
		all("", "persistentvolumeclaims", "get list watch patch", "create update delete deletecollection")
	}
	all("networking.k8s.io", "networkpolicies", apply, "deletecollection")
	all("", "secrets", "create", "list watch update delete deletecollection")
	if adopt {
		all("apps", "deployments", "list", "get watch create update patch delete")
	} else {
		all("apps", "deployments", "", "list get watch create update patch delete")
	}
	all("", "serviceaccounts", "", "get create")
	all("rbac.authorization.k8s.io", "roles", "", "get create escalate bind")
	all("rbac.authorization.k8s.io", "rolebindings", "", "create")
	denied = append(denied,
		access{verb: "create", resource: "pods", subresource: "exec", namespace: ns, name: "orders-dc1-r1-0"},
		access{verb: "create", resource: "pods", subresource: "eviction", namespace: ns, name: "orders-dc1-r1-0"},
		access{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: ns, name: "default"},
	)
	return allowed, denied
}

// keptSecret: ringops reads and rotates (server-side apply) a Secret it
// keeps, <cluster>-jolokia.
func keptSecret(ns, name string) []access {
	return []access{
		{verb: "get", resource: "secrets", namespace: ns, name: name},
		{verb: "patch", resource: "secrets", namespace: ns, name: name},
	}
}

// outside are requests outside the Cassandra and release namespaces, and
// cluster-wide ones, that no ringops ServiceAccount may make.
var outside = []access{
	{verb: "get", group: "apps", resource: "statefulsets", namespace: "default"},
	{verb: "patch", group: "apps", resource: "statefulsets", namespace: "kube-system"},
	{verb: "list", resource: "pods", namespace: "default"},
	{verb: "delete", resource: "persistentvolumeclaims", namespace: "default"},
	{verb: "get", resource: "secrets", namespace: "kube-system"},
	{verb: "list", resource: "secrets", namespace: "kube-system"},
	{verb: "get", resource: "secrets", namespace: "default", name: "jolokia-auth"},
	{verb: "list", resource: "namespaces"},
	{verb: "get", resource: "namespaces", name: "kube-system"},
	{verb: "delete", resource: "namespaces", name: "cassandra"},
	{verb: "update", resource: "namespaces", name: "cassandra"},
	{verb: "list", resource: "nodes"},
	{verb: "list", resource: "persistentvolumes"},
	{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
	{verb: "escalate", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
	{verb: "bind", group: "rbac.authorization.k8s.io", resource: "clusterroles"},
	{verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings"},
	{verb: "impersonate", resource: "users"},
	{verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
}

// releaseAccess: leader election and the webhook signal (two Leases by name)
// and Events in the release namespace; denied: other Leases, deleting its
// own, reading Secrets (its credentials are mounted, never read through the
// API), minting tokens.
func releaseAccess(ns, fullname string) (allowed, denied []access) {
	lease := func(verb, name string) access {
		return access{verb: verb, group: "coordination.k8s.io", resource: "leases", namespace: ns, name: name}
	}
	allowed = []access{lease("create", "")}
	for _, name := range []string{fullname, fullname + "-webhook"} {
		for _, verb := range []string{"get", "list", "watch", "update"} {
			allowed = append(allowed, lease(verb, name))
		}
	}
	for _, group := range []string{"", "events.k8s.io"} {
		allowed = append(allowed, access{verb: "create", group: group, resource: "events", namespace: ns},
			access{verb: "patch", group: group, resource: "events", namespace: ns})
	}
	denied = []access{
		lease("update", "kube-scheduler"), lease("get", "other"), lease("list", ""), lease("delete", fullname),
		{verb: "get", resource: "secrets", namespace: ns, name: fullname + "-git"},
		{verb: "list", resource: "secrets", namespace: ns},
		{verb: "create", resource: "serviceaccounts", subresource: "token", namespace: ns, name: fullname},
		{verb: "patch", group: "apps", resource: "deployments", namespace: ns, name: fullname},
		{verb: "list", resource: "configmaps", namespace: ns},
	}
	return allowed, denied
}

// TestRBACOnAPIServer applies the rendered chart to a real API server and
// asks it what the ServiceAccount may do.
func TestRBACOnAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	w := env.Start(t, env.Options{Regions: []string{"eu-west"}, NodesPerRegion: 1})
	region := w.Region("eu-west")
	a := newApplier(t, region.Config)
	createNamespaces(t, a, "ringops", "ringops-mini", "ringops-remote", "ringops-shards", "cassandra", "cassandra-analytics", "monitoring")
	installMonitoringCRDs(t, a)
	createSecret(t, a, "cassandra", "jolokia-auth", map[string]string{"username": "jolokia", "password": "s3cret"})
	createSecret(t, a, "cassandra", "not-jolokia", map[string]string{"password": "other"})

	// Helm's dry-run first: it refuses objects that exist and that it does
	// not own, and the checks below create the RBAC for real.
	t.Run("helm install", func(t *testing.T) { checkHelmInstall(t, w) })
	t.Run("full", func(t *testing.T) { checkFull(t, region, a) })
	t.Run("minimal", func(t *testing.T) { checkMinimal(t, region, a) })
	t.Run("remote", func(t *testing.T) { checkRemote(t, region, a) })
	t.Run("shards", func(t *testing.T) { checkShardLeases(t, region, a) })
}

// checkHelmInstall: helm's own install, as a server-side dry-run, accepts
// the full values, the shards and the remote RBAC, and the notes it prints
// tell the user where to point webhooks, which Lease names the leader (or
// the shards), and how to build the remote region's kubeconfig.
func checkHelmInstall(t *testing.T, w *env.World) {
	chart := chartForServer(t, w.Region("eu-west"))
	cases := []struct {
		r    release
		want []string
	}{
		{full, []string{
			"https://ringops.example.com/hooks/github",
			"https://ringops.example.com/hooks/gitlab",
			"https://ringops.example.com/hooks/gitea",
			"kubectl -n ringops get lease ringops-mgmt",
			"- eu-west: this cluster (the pod's ServiceAccount), namespaces cassandra, cassandra-analytics",
			"the kubeconfig in the Secret regions-kubeconfig (key config)",
		}},
		{shards, []string{
			"Daemons: 3 (StatefulSet ringops), the clusters split over 3 shards held through the Leases ringops/ringops-shard-<i>",
			"kubectl -n ringops logs ringops-0",
		}},
		{remote, []string{
			"get secret ringops-token -o jsonpath='{.data.token}'",
			"create secret generic ringops-kubeconfig --from-file=kubeconfig=ringops-kubeconfig",
		}},
	}
	for _, tc := range cases {
		args := append(tc.r.argsWith("install", chart), "--dry-run=server", "--kubeconfig", w.Kubeconfig, "--kube-context", "eu-west")
		res := helm(t, args...)
		if res.err != nil {
			t.Errorf("helm install --dry-run=server (%s): %v\n%s", tc.r.values, res.err, res.stderr)
			continue
		}
		_, notes, ok := strings.Cut(res.stdout, "\nNOTES:\n")
		if !ok {
			t.Errorf("%s: no NOTES in:\n%s", tc.r.values, res.stdout)
		}
		for _, want := range tc.want {
			if !strings.Contains(notes, want) {
				t.Errorf("%s: the notes do not say %q:\n%s", tc.r.values, want, notes)
			}
		}
	}
}

// checkFull: two Cassandra namespaces, two Jolokia Secrets, the pod proxy,
// namespace creation, PVC deletion, the adoption of CassKop's clusters and an
// extra rule; the whole render passes a server-side dry-run.
func checkFull(t *testing.T, region *env.Region, a *applier) {
	applyRendered(t, a, objects(t, full.template(t)))
	sa := serviceAccount{"ringops", "ringops-daemon"}
	var allowed, denied []access
	for _, ns := range []string{"cassandra", "cassandra-analytics"} {
		al, de := cassandraAccess(ns, true, true)
		allowed, denied = append(allowed, al...), append(denied, de...)
		for _, s := range []string{"jolokia-auth", "jolokia-auth-analytics"} {
			allowed = append(allowed, access{verb: "get", resource: "secrets", namespace: ns, name: s})
		}
		allowed = append(allowed, keptSecret(ns, "orders-jolokia")...)
		denied = append(denied, access{verb: "get", resource: "secrets", namespace: ns, name: "not-jolokia"},
			access{verb: "patch", resource: "secrets", namespace: ns, name: "not-jolokia"},
			access{verb: "patch", resource: "secrets", namespace: ns, name: "jolokia-auth"})
		allowed = append(allowed,
			access{verb: "create", resource: "pods", subresource: "proxy", namespace: ns, name: "orders-dc1-r1-0"},
			access{verb: "get", resource: "pods", subresource: "proxy", namespace: ns, name: "orders-dc1-r1-0"},
			access{verb: "create", group: "networking.k8s.io", resource: "networkpolicies", namespace: ns},
			access{verb: "get", resource: "namespaces", name: ns})
	}
	allowed = append(allowed, access{verb: "create", resource: "namespaces"})
	al, de := releaseAccess("ringops", "ringops-mgmt")
	allowed, denied = append(allowed, al...), append(denied, de...)
	checkAccess(t, region.Client, sa, allowed, append(denied, outside...))
}

// checkMinimal: the defaults (one namespace, no Jolokia Secret, direct
// Jolokia, no namespace creation) grant nothing beyond the table.
func checkMinimal(t *testing.T, region *env.Region, a *applier) {
	mini := release{"mini", "ringops-mini", "minimal-values.yaml"}
	applyRendered(t, a, objects(t, mini.template(t)))
	sa := serviceAccount{"ringops-mini", "mini-ringops"}
	allowed, denied := cassandraAccess("cassandra", false, false)
	allowed = append(allowed, access{verb: "get", resource: "namespaces", name: "cassandra"})
	// No cassandra.clusters: the Secrets ringops keeps are not known by
	// name, and RBAC cannot select them by label (README).
	allowed = append(allowed, keptSecret("cassandra", "not-jolokia")...)
	analytics, _ := cassandraAccess("cassandra-analytics", false, false)
	denied = append(denied, analytics...)
	denied = append(denied,
		access{verb: "get", resource: "secrets", namespace: "cassandra-analytics", name: "orders-jolokia"},
		access{verb: "create", resource: "pods", subresource: "proxy", namespace: "cassandra", name: "orders-dc1-r1-0"},
		access{verb: "create", resource: "namespaces"},
		access{verb: "get", resource: "namespaces", name: "cassandra-analytics"})
	al, de := releaseAccess("ringops-mini", "mini-ringops")
	allowed, denied = append(allowed, al...), append(denied, de...)
	checkAccess(t, region.Client, sa, allowed, append(denied, outside...))
}

// checkShardLeases: with shards: 3 (a StatefulSet, server-side dry-run)
// the release Role grants the three shard Leases and their home Leases by
// name (get, update; create unnamed), and nothing of leader election: no
// other shard, not the leader or webhook Lease, no delete, no list.
func checkShardLeases(t *testing.T, region *env.Region, a *applier) {
	sh := release{"sh", "ringops-shards", "shards-values.yaml"}
	applyRendered(t, a, objects(t, sh.template(t)))
	sa := serviceAccount{"ringops-shards", "sh-ringops"}
	lease := func(verb, name string) access {
		return access{verb: verb, group: "coordination.k8s.io", resource: "leases", namespace: sa.namespace, name: name}
	}
	allowed := []access{lease("create", "")}
	for i := range 3 {
		for _, name := range []string{fmt.Sprintf("sh-ringops-shard-%d", i), fmt.Sprintf("sh-ringops-shard-%d-home", i)} {
			allowed = append(allowed, lease("get", name), lease("update", name))
		}
	}
	for _, group := range []string{"", "events.k8s.io"} {
		allowed = append(allowed, access{verb: "create", group: group, resource: "events", namespace: sa.namespace})
	}
	denied := []access{
		lease("get", "sh-ringops-shard-3"), lease("update", "sh-ringops-shard-3-home"),
		lease("update", "sh-ringops"), lease("update", "sh-ringops-webhook"),
		lease("delete", "sh-ringops-shard-0"), lease("list", ""), lease("update", "kube-scheduler"),
		{verb: "get", group: "coordination.k8s.io", resource: "leases", namespace: "ringops", name: "sh-ringops-shard-0"},
		{verb: "list", resource: "secrets", namespace: sa.namespace},
		{verb: "patch", group: "apps", resource: "statefulsets", namespace: sa.namespace, name: "sh-ringops"},
	}
	cass, _ := cassandraAccess("cassandra", false, false)
	allowed = append(allowed, cass...)
	checkAccess(t, region.Client, sa, allowed, append(denied, outside...))
}

// checkRemote applies remote-rbac.yaml as a user would (kubectl apply), then
// uses the long-lived token it mints through a kubeconfig built as the
// README says, loaded by ringops' own client code.
func checkRemote(t *testing.T, region *env.Region, a *applier) {
	file, err := os.ReadFile(remoteRBACFile)
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t, string(file))
	for _, o := range objs {
		if o.GetNamespace() == "ringops" {
			o.SetNamespace("ringops-remote") // beside the full release's objects
		}
		if o.GetKind() == "RoleBinding" || o.GetKind() == "ClusterRoleBinding" {
			for _, s := range o.Object["subjects"].([]any) {
				s.(map[string]any)["namespace"] = "ringops-remote"
			}
		}
	}
	applyRendered(t, a, objs, "Secret")
	sa := serviceAccount{"ringops-remote", "ringops"}
	allowed, denied := cassandraAccess("cassandra", false, false)
	allowed = append(allowed,
		access{verb: "get", resource: "secrets", namespace: "cassandra", name: "jolokia-auth"},
		access{verb: "get", resource: "namespaces", name: "cassandra"})
	allowed = append(allowed, keptSecret("cassandra", "orders-jolokia")...)
	denied = append(denied,
		access{verb: "get", resource: "secrets", namespace: "cassandra", name: "not-jolokia"},
		access{verb: "patch", resource: "secrets", namespace: "cassandra", name: "not-jolokia"},
		access{verb: "create", resource: "namespaces"},
		access{verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "ringops-remote"},
		access{verb: "create", resource: "events", namespace: "ringops-remote"},
		access{verb: "get", resource: "secrets", namespace: "ringops-remote", name: "ringops-token"})
	checkAccess(t, region.Client, sa, allowed, append(denied, outside...))
	useRemoteToken(t, region)
}

// useRemoteToken builds the kubeconfig of the README from the token Secret,
// loads it with reconciler/kube (as the daemon will), and makes real
// requests: what ringops does succeeds, the rest is Forbidden.
func useRemoteToken(t *testing.T, region *env.Region) {
	var token, ca []byte
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		s, err := region.Client.CoreV1().Secrets("ringops-remote").Get(ctx, "ringops-token", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		token, ca = s.Data["token"], s.Data["ca.crt"]
		return len(token) > 0 && len(ca) > 0, nil
	})
	if err != nil {
		t.Fatalf("the token controller did not fill ringops-remote/ringops-token: %v", err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["eu-west"] = &clientcmdapi.Cluster{Server: region.URL, CertificateAuthorityData: ca}
	cfg.AuthInfos["ringops-eu-west"] = &clientcmdapi.AuthInfo{Token: string(token)}
	cfg.Contexts["eu-west"] = &clientcmdapi.Context{Cluster: "eu-west", AuthInfo: "ringops-eu-west"}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	opts := kube.DefaultOptions()
	opts.Kubeconfig = path
	clients, err := kube.NewClients([]string{"eu-west"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clients.Clientset("eu-west")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	review, err := c.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := review.Status.UserInfo.Username; got != "system:serviceaccount:ringops-remote:ringops" {
		t.Errorf("the kubeconfig authenticates as %s", got)
	}
	cm := corev1apply.ConfigMap("orders-seeds", "cassandra").WithData(map[string]string{"seeds": "orders-dc1-r1-0"})
	if _, err := c.CoreV1().ConfigMaps("cassandra").Apply(ctx, cm, metav1.ApplyOptions{FieldManager: "ringops", Force: true}); err != nil {
		t.Errorf("server-side apply of a ConfigMap in cassandra: %v", err)
	}
	if s, err := c.CoreV1().Secrets("cassandra").Get(ctx, "jolokia-auth", metav1.GetOptions{}); err != nil {
		t.Errorf("get the Jolokia Secret: %v", err)
	} else if string(s.Data["username"]) != "jolokia" {
		t.Errorf("the Jolokia Secret's username is %q", s.Data["username"])
	}
	if _, err := c.CoreV1().Namespaces().Get(ctx, "cassandra", metav1.GetOptions{}); err != nil {
		t.Errorf("get the namespace cassandra: %v", err)
	}
	forbidden := map[string]error{
		"list secrets in cassandra":         errOf(c.CoreV1().Secrets("cassandra").List(ctx, metav1.ListOptions{})),
		"get the Secret not-jolokia":        errOf(c.CoreV1().Secrets("cassandra").Get(ctx, "not-jolokia", metav1.GetOptions{})),
		"list pods in default":              errOf(c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})),
		"create a namespace":                errOf(c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ringops-made-this"}}, metav1.CreateOptions{})),
		"get its own token Secret":          errOf(c.CoreV1().Secrets("ringops-remote").Get(ctx, "ringops-token", metav1.GetOptions{})),
		"delete the namespace cassandra":    c.CoreV1().Namespaces().Delete(ctx, "cassandra", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}),
		"list configmaps in ringops-remote": errOf(c.CoreV1().ConfigMaps("ringops-remote").List(ctx, metav1.ListOptions{})),
	}
	for what, err := range forbidden {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s with the remote token: got %v, want Forbidden", what, err)
		}
	}
}

// chartForServer returns the chart to install on region, after checking
// that the API server reports a release version Helm can check the chart's
// kubeVersion against (test/env/tools/controlplane/build.sh stamps it).
func chartForServer(t *testing.T, region *env.Region) string {
	v, err := region.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(v.GitVersion, "v0.0.0") {
		t.Fatalf("the API server reports %s: rebuild the control plane with test/env/tools/controlplane/build.sh, which stamps the version", v.GitVersion)
	}
	return chartDir
}

func errOf[T any](_ T, err error) error { return err }
