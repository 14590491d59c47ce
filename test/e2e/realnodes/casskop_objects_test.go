package realnodes

// A ring made the way CassKop (Orange's operator, v2.1.0) makes one, for
// TestRealAdoption: the CassandraCluster object (CassKop's CRD, the
// sample cassandracluster.yaml adapted), then what CassKop's controller
// creates for it (controllers/cassandracluster/generator.go), built here
// by casskopObjects and written with client-go Create and Update under
// the field manager "casskop", as its controller-runtime client does:
// never server-side apply.
//
// The pod template keeps CassKop's shape (init containers
// base-config-builder, config-builder and bootstrap; the cassandra
// container with CassKop's ports, volumes, probes and security context;
// the backrest-sidecar) where the local world can run it. Deviations,
// each because of what the world is (test/env/realcassandra, kubelet):
//
//   - config-builder and bootstrap run bash commands that do what
//     datastax/cass-config-builder and CassKop's bootstrap image do
//     (those images do not exist here; the world runs an init container's
//     command with its image's files mapped, and takes any image but the
//     Cassandra one for a Jolokia agent image holding
//     /jolokia/jolokia-agent.jar): cassandra.yaml, rackdc and heap from
//     CONFIG_FILE_DATA's values; the Jolokia agent, curl, the probe
//     scripts and the seed provider from the bootstrap image.
//   - The agent is CassKop's -javaagent line with the world's Jolokia 2.x
//     agent (CassKop's bootstrap ships 1.6.1), discovery off; the line goes
//     into /etc/cassandra/jvm-server.options, which the world's JVM reads,
//     where CassKop appends it to cassandra-env.sh's JVM_OPTS.
//   - The cassandra container also carries CASSANDRA_SEEDS: the world
//     always does to /etc/cassandra what the official image's
//     docker-entrypoint.sh does, and that rewrites the seeds line (to the
//     node itself without CASSANDRA_SEEDS), where CassKop's command
//     `cassandra -f` skips the entrypoint and keeps config-builder's.
//   - The cassandra container's heap: the world's jvm17-server.options
//     (256 MiB) comes after jvm-server.options; the CassandraCluster's
//     memory limit (1Gi) makes CassKop's heap 256 MiB too.
//   - The backrest-sidecar container is in the template, as CassKop
//     renders it, but the simulated kubelet runs only the container named
//     cassandra.
//
// CassKop's seeds (<pod>.<cluster>.<namespace>) resolve in the world as
// in a pod through its resolv.conf search list: the region's hosts file
// holds those names (kubelet.Directory).

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/realcassandra"
)

// CassKop's names and defaults (v2.1.0: api/v2/cassandracluster_types.go
// CheckDefaults and SetDefaults, controllers/cassandracluster).
const (
	casskopAPIVersion         = "db.orange.com/v2"
	casskopFieldManager       = "casskop"
	casskopLastApplied        = "banzaicloud.com/last-applied"
	casskopCRLastApplied      = "cassandraclusters.db.orange.com/last-applied-configuration"
	casskopConfigBuilderImage = "datastax/cass-config-builder:1.0.4"
	casskopServiceAccount     = "cassandra-cluster-node"
	casskopBackRestImage      = "gcr.io/cassandra-operator/instaclustr-icarus:1.1.0"
	casskopOperatorImage      = "orangeopensource/casskop:v2.1.0"
	// casskopGracePeriod is CassKop's terminationGracePeriodSeconds: the
	// world's JVMs stop on SIGTERM in seconds, and the test's cleanup
	// deletes the pods with grace period 0.
	casskopGracePeriod = int64(1800)

	labelDC   = "cassandraclusters.db.orange.com.dc"
	labelRack = "cassandraclusters.db.orange.com.rack"
)

// The sample and the CRD, as the repository keeps them (importer/casskop/testdata).
const (
	casskopSampleFile = "../../../importer/casskop/testdata/samples/cassandracluster.yaml"
	casskopCRDFile    = "../../../importer/casskop/testdata/crds/db.orange.com_cassandraclusters.yaml"
)

var (
	crdResource       = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	cassandraClusters = schema.GroupVersionResource{Group: "db.orange.com", Version: "v2", Resource: "cassandraclusters"}
)

// casskopCluster is a CassandraCluster (db.orange.com/v2): what CassKop's
// generator reads of it.
type casskopCluster struct {
	metav1.ObjectMeta `json:"metadata"`
	Spec              casskopSpec `json:"spec"`
}

type casskopSpec struct {
	NodesPerRacks      int32                       `json:"nodesPerRacks,omitempty"`
	CassandraImage     string                      `json:"cassandraImage,omitempty"`
	ImagePullPolicy    corev1.PullPolicy           `json:"imagepullpolicy,omitempty"`
	BootstrapImage     string                      `json:"bootstrapImage,omitempty"`
	ConfigBuilderImage string                      `json:"configBuilderImage,omitempty"`
	DataCapacity       string                      `json:"dataCapacity,omitempty"`
	DataStorageClass   string                      `json:"dataStorageClass,omitempty"`
	HardAntiAffinity   bool                        `json:"hardAntiAffinity,omitempty"`
	RunAsUser          *int64                      `json:"runAsUser,omitempty"`
	FSGroup            *int64                      `json:"fsGroup,omitempty"`
	MaxPodUnavailable  int32                       `json:"maxPodUnavailable,omitempty"`
	ServiceAccountName string                      `json:"serviceAccountName,omitempty"`
	Resources          corev1.ResourceRequirements `json:"resources,omitempty"`
	Config             map[string]map[string]any   `json:"config,omitempty"`
	Topology           struct {
		DC []casskopDC `json:"dc,omitempty"`
	} `json:"topology,omitempty"`
}

type casskopDC struct {
	Name          string `json:"name"`
	NodesPerRacks *int32 `json:"nodesPerRacks,omitempty"`
	Rack          []struct {
		Name string `json:"name"`
	} `json:"rack,omitempty"`
}

// casskopRack is one StatefulSet of the ring.
type casskopRack struct {
	DC, Rack string
	Nodes    int32
}

// kopCassandraCluster is CassKop's sample cassandracluster.yaml, adapted
// to the world: named name in namespace ns, Cassandra 5.0.9, one
// datacenter dc1 of two racks r1 and r2 of one node each, small
// resources (two JVMs on two cores), no ConfigMap (its pre_run.sh and
// post_run.sh hooks would be the bootstrap's to run) and, as
// spec.config, 16 tokens and PasswordAuthenticator (CassKop leaves
// Cassandra's AllowAllAuthenticator; a user who wants logins writes it
// so, and ringops' import carries it: the imported spec then asks for
// what runs). The rest is the sample's: its labels, pull policy,
// bootstrap image, storage class, deletePVC, autoPilot,
// autoUpdateSeedList, maxPodUnavailable, runAsUser.
func kopCassandraCluster(t *testing.T, name, ns string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(casskopSampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		t.Fatalf("%s: %v", casskopSampleFile, err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetName(name)
	u.SetNamespace(ns)
	set := func(v any, path ...string) {
		if err := unstructured.SetNestedField(u.Object, v, path...); err != nil {
			t.Fatal(err)
		}
	}
	set("cassandra:5.0.9", "spec", "cassandraImage")
	unstructured.RemoveNestedField(u.Object, "spec", "configMapName")
	set(map[string]any{"cassandra-yaml": map[string]any{"num_tokens": int64(16), "authenticator": "PasswordAuthenticator"}}, "spec", "config")
	small := map[string]any{"cpu": "500m", "memory": "1Gi"}
	set(map[string]any{"requests": small, "limits": maps.Clone(small)}, "spec", "resources")
	set(map[string]any{"dc": []any{map[string]any{
		"name": "dc1", "nodesPerRacks": int64(1),
		"rack": []any{map[string]any{"name": "r1"}, map[string]any{"name": "r2"}},
	}}}, "spec", "topology")
	return u
}

// decodeCasskop reads a CassandraCluster object and fills CassKop's
// defaults, as its controller does before it generates anything.
func decodeCasskop(u *unstructured.Unstructured) (*casskopCluster, error) {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	cc := &casskopCluster{}
	if err := json.Unmarshal(b, cc); err != nil {
		return nil, fmt.Errorf("cassandracluster %s: %w", u.GetName(), err)
	}
	s := &cc.Spec
	if s.ConfigBuilderImage == "" {
		s.ConfigBuilderImage = casskopConfigBuilderImage
	}
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = casskopServiceAccount
	}
	if s.RunAsUser == nil {
		s.RunAsUser = ptrTo(int64(999))
	}
	if s.FSGroup == nil {
		s.FSGroup = ptrTo(int64(1))
	}
	if s.NodesPerRacks == 0 {
		s.NodesPerRacks = 1
	}
	if s.MaxPodUnavailable == 0 {
		s.MaxPodUnavailable = 1
	}
	if s.Resources.Limits == nil {
		s.Resources.Limits = s.Resources.Requests
	}
	return cc, nil
}

func ptrTo[T any](v T) *T { return &v }

// racks are the ring's StatefulSets, in topology order.
func (cc *casskopCluster) racks() []casskopRack {
	var out []casskopRack
	for _, dc := range cc.Spec.Topology.DC {
		n := cc.Spec.NodesPerRacks
		if dc.NodesPerRacks != nil {
			n = *dc.NodesPerRacks
		}
		for _, r := range dc.Rack {
			out = append(out, casskopRack{DC: dc.Name, Rack: r.Name, Nodes: n})
		}
	}
	return out
}

// seeds is CassKop's InitSeedList: at most 3 per datacenter, the lowest
// ordinals; with one or two racks, ordinals below 4 minus the racks of
// each rack in turn; with more, ordinal 0 of the first three racks.
// Named <pod>.<cluster>.<namespace>.
func (cc *casskopCluster) seeds() []string {
	var out []string
	for _, dc := range cc.Spec.Topology.DC {
		inDC := 0
		racks := len(dc.Rack)
		for _, r := range cc.racks() {
			if r.DC != dc.Name {
				continue
			}
			switch racks {
			case 1, 2:
				for i := int32(0); i < r.Nodes && i < int32(4-racks) && inDC < 3; i++ {
					out = append(out, cc.seed(r, i))
					inDC++
				}
			default:
				if inDC < 3 {
					out = append(out, cc.seed(r, 0))
					inDC++
				}
			}
		}
	}
	return out
}

func (cc *casskopCluster) seed(r casskopRack, ordinal int32) string {
	return fmt.Sprintf("%s-%s-%s-%d.%s.%s", cc.Name, r.DC, r.Rack, ordinal, cc.Name, cc.Namespace)
}

// labels are CassKop's LabelsForCassandra (nil r) or
// LabelsForCassandraDCRack: the CassandraCluster's own labels, then
// CassKop's.
func (cc *casskopCluster) labels(r *casskopRack) map[string]string {
	m := maps.Clone(cc.Labels)
	if m == nil {
		m = map[string]string{}
	}
	m["app"] = "cassandracluster"
	m["cassandracluster"] = cc.Name
	if r != nil {
		m["dc-rack"] = r.DC + "-" + r.Rack
		m[labelDC] = r.DC
		m[labelRack] = r.Rack
	}
	return m
}

// selector selects the ring's pods, as CassKop's Service and PDB do.
func (cc *casskopCluster) selector() string {
	return metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: map[string]string{"app": "cassandracluster", "cassandracluster": cc.Name}})
}

// owner is CassKop's owner reference to the CassandraCluster.
func (cc *casskopCluster) owner() []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: casskopAPIVersion, Kind: "CassandraCluster", Name: cc.Name, UID: cc.UID, Controller: ptrTo(true)}}
}

// casskopSet is what CassKop's controller creates for a CassandraCluster.
type casskopSet struct {
	Services     []*corev1.Service
	PDB          *policyv1.PodDisruptionBudget
	StatefulSets []*appsv1.StatefulSet // one per rack, in topology order
}

// casskopObjects builds what CassKop's controller creates for cc (its UID
// set): the headless Service <cc> and <cc>-exporter-jmx, the
// PodDisruptionBudget <cc> and a StatefulSet <cc>-<dc>-<rack> per rack.
func casskopObjects(cc *casskopCluster) (casskopSet, error) {
	var set casskopSet
	all := cc.labels(nil)
	set.Services = []*corev1.Service{
		{
			ObjectMeta: metav1.ObjectMeta{Name: cc.Name, Namespace: cc.Namespace, Labels: all, OwnerReferences: cc.owner()},
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone,
				Ports:    []corev1.ServicePort{{Name: "cql", Port: 9042, Protocol: corev1.ProtocolTCP}},
				Selector: all, PublishNotReadyAddresses: true,
			},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: cc.Name + "-exporter-jmx", Namespace: cc.Namespace, OwnerReferences: cc.owner(),
				Labels: mergeLabels(all, map[string]string{"k8s-app": "exporter-cassandra-jmx"})},
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone,
				Ports:    []corev1.ServicePort{{Name: "promjmx", Port: 9500, Protocol: corev1.ProtocolTCP}},
				Selector: all,
			},
		},
	}
	maxUnavailable := intstr.FromInt32(cc.Spec.MaxPodUnavailable)
	set.PDB = &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: cc.Name, Namespace: cc.Namespace, Labels: all, OwnerReferences: cc.owner()},
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &maxUnavailable, Selector: &metav1.LabelSelector{MatchLabels: all}},
	}
	for _, r := range cc.racks() {
		sts, err := casskopStatefulSet(cc, r)
		if err != nil {
			return set, err
		}
		set.StatefulSets = append(set.StatefulSets, sts)
	}
	return set, nil
}

func mergeLabels(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// casskopStatefulSet is CassKop's generateCassandraStatefulSet for one
// rack, with the banzaicloud last-applied annotation its object matcher
// keeps (the object's JSON, as k8s-objectmatcher writes it for objects
// under its size limit).
func casskopStatefulSet(cc *casskopCluster, r casskopRack) (*appsv1.StatefulSet, error) {
	labels := cc.labels(&r)
	partition := int32(0)
	s := cc.Spec
	capacity, err := resource.ParseQuantity(s.DataCapacity)
	if err != nil {
		return nil, fmt.Errorf("cassandracluster %s: dataCapacity: %w", cc.Name, err)
	}
	pvc := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: labels},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: capacity}},
		},
	}
	if s.DataStorageClass != "" {
		pvc.Spec.StorageClassName = ptrTo(s.DataStorageClass)
	}
	sts := &appsv1.StatefulSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: cc.Name + "-" + r.DC + "-" + r.Rack, Namespace: cc.Namespace,
			Labels: labels, OwnerReferences: cc.owner()},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: cc.Name,
			Replicas:    ptrTo(r.Nodes),
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &partition}},
			Selector:             &metav1.LabelSelector{MatchLabels: labels},
			Template:             corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{}}, Spec: casskopPodSpec(cc, r)},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{pvc},
		},
	}
	b, err := json.Marshal(sts)
	if err != nil {
		return nil, err
	}
	sts.Annotations = map[string]string{casskopLastApplied: string(b)}
	return sts, nil
}

// casskopPodSpec is CassKop's pod template for one rack (see the file's
// comment for where it differs, and why).
func casskopPodSpec(cc *casskopCluster, r casskopRack) corev1.PodSpec {
	s := cc.Spec
	initResources := corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.5"), corev1.ResourceMemory: resource.MustParse("0.5Gi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.5"), corev1.ResourceMemory: resource.MustParse("0.5Gi")},
	}
	bootstrapMount := []corev1.VolumeMount{{Name: "bootstrap", MountPath: "/bootstrap"}}
	seeds := strings.Join(cc.seeds(), ",")
	podIP := fieldEnv("POD_IP", "status.podIP")
	common := []corev1.EnvVar{podIP, {Name: "CASSANDRA_LOG_DIR", Value: "/var/log/cassandra"}}
	return corev1.PodSpec{
		Affinity: &corev1.Affinity{
			NodeAffinity: &corev1.NodeAffinity{},
			PodAntiAffinity: &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 100,
				PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname",
					LabelSelector: &metav1.LabelSelector{MatchLabels: cc.labels(nil)}},
			}}},
		},
		SecurityContext: &corev1.PodSecurityContext{RunAsUser: s.RunAsUser, RunAsNonRoot: ptrTo(true), FSGroup: s.FSGroup},
		InitContainers: []corev1.Container{
			{
				Name: "base-config-builder", Image: s.CassandraImage, ImagePullPolicy: s.ImagePullPolicy,
				Command: []string{"/bin/sh"}, Args: []string{"-c", "cp -r /etc/cassandra/* /bootstrap/"},
				VolumeMounts: bootstrapMount, Resources: initResources,
			},
			{
				Name: "config-builder", Image: s.ConfigBuilderImage, ImagePullPolicy: s.ImagePullPolicy,
				Command: []string{"bash", "-c", configBuilderScript(cc, r)},
				Env: []corev1.EnvVar{
					{Name: "CONFIG_FILE_DATA", Value: configFileData(cc, r)},
					{Name: "CONFIG_OUTPUT_DIRECTORY", Value: "/bootstrap"},
					fieldEnv("RACK_NAME", "metadata.labels['"+labelRack+"']"),
					{Name: "PRODUCT_NAME", Value: "cassandra"},
					{Name: "PRODUCT_VERSION", Value: imageTag(s.CassandraImage)},
					podIP,
					fieldEnv("HOST_IP", "status.hostIP"),
				},
				VolumeMounts: bootstrapMount, Resources: initResources,
			},
			{
				Name: "bootstrap", Image: s.BootstrapImage, ImagePullPolicy: s.ImagePullPolicy,
				Command: []string{"bash", "-c", bootstrapScript},
				Env: append([]corev1.EnvVar{
					{Name: "CASSANDRA_CLUSTER_NAME", Value: cc.Name},
					{Name: "CASSANDRA_SEEDS", Value: seeds},
					fieldEnv("CASSANDRA_DC", "metadata.labels['"+labelDC+"']"),
					fieldEnv("CASSANDRA_RACK", "metadata.labels['"+labelRack+"']"),
				}, common...),
				VolumeMounts: []corev1.VolumeMount{
					{Name: "bootstrap", MountPath: "/etc/cassandra"},
					{Name: "extra-lib", MountPath: "/extra-lib"},
					{Name: "tools", MountPath: "/opt/bin"},
				},
				Resources: initResources,
			},
		},
		Containers: []corev1.Container{
			casskopCassandraContainer(cc, append(common, corev1.EnvVar{Name: "CASSANDRA_SEEDS", Value: seeds})),
			{
				Name: "backrest-sidecar", Image: casskopBackRestImage,
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 4567}},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.5"), corev1.ResourceMemory: resource.MustParse("1Gi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.5"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "bootstrap", MountPath: "/etc/cassandra"},
					{Name: "extra-lib", MountPath: "/extra-lib"},
					{Name: "data", MountPath: "/var/lib/cassandra"},
					{Name: "tmp", MountPath: "/tmp"},
				},
			},
		},
		Volumes: []corev1.Volume{
			emptyDirVolume("bootstrap"), emptyDirVolume("extra-lib"), emptyDirVolume("tools"),
			emptyDirVolume("log"), emptyDirVolume("tmp"),
		},
		RestartPolicy:                 corev1.RestartPolicyAlways,
		TerminationGracePeriodSeconds: ptrTo(casskopGracePeriod),
		ServiceAccountName:            s.ServiceAccountName,
	}
}

// casskopCassandraContainer is CassKop's createCassandraContainer.
func casskopCassandraContainer(cc *casskopCluster, env []corev1.EnvVar) corev1.Container {
	s := cc.Spec
	port := func(name string, p int32) corev1.ContainerPort {
		return corev1.ContainerPort{Name: name, ContainerPort: p, Protocol: corev1.ProtocolTCP}
	}
	probe := func(script string, delay, timeout, period int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/bash", "-c", script}}},
			InitialDelaySeconds: delay, TimeoutSeconds: timeout, PeriodSeconds: period,
		}
	}
	return corev1.Container{
		Name: "cassandra", Image: s.CassandraImage, ImagePullPolicy: s.ImagePullPolicy,
		Command: []string{"cassandra", "-f"},
		Ports: []corev1.ContainerPort{
			port("intra-node", 7000), port("intra-node-tls", 7001), port("jmx-port", 7199),
			port("cql", 9042), port("promjmx", 9500), port("jolokia", 8778),
		},
		SecurityContext: &corev1.SecurityContext{
			Capabilities:           &corev1.Capabilities{Add: []corev1.Capability{"IPC_LOCK"}},
			ProcMount:              ptrTo(corev1.DefaultProcMount),
			ReadOnlyRootFilesystem: ptrTo(true),
		},
		Env:            env,
		ReadinessProbe: probe("/etc/cassandra/readiness-probe.sh", 60, 10, 10),
		LivenessProbe:  probe("/etc/cassandra/liveness-probe.sh", 120, 20, 10),
		VolumeMounts: []corev1.VolumeMount{
			{Name: "bootstrap", MountPath: "/etc/cassandra"},
			{Name: "extra-lib", MountPath: "/extra-lib"},
			{Name: "tools", MountPath: "/opt/bin"},
			{Name: "data", MountPath: "/var/lib/cassandra"},
			{Name: "tmp", MountPath: "/tmp"},
			{Name: "log", MountPath: "/var/log/cassandra"},
		},
		Resources: s.Resources,
	}
}

func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
}

func emptyDirVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

func imageTag(image string) string {
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		return image[i+1:]
	}
	return ""
}

// casskopHeap is CassKop's defineJvmMemory: max heap a quarter of the
// memory limit, initial a quarter of that; 2048M and 512M without one.
func casskopHeap(cc *casskopCluster) (initial, maxHeap string) {
	limit := cc.Spec.Resources.Limits.Memory()
	if limit.IsZero() {
		return "512M", "2048M"
	}
	maxMB := limit.Value() / 4 / (1 << 20)
	return fmt.Sprintf("%dM", maxMB/4), fmt.Sprintf("%dM", maxMB)
}

// configFileData is CassKop's CONFIG_FILE_DATA for config-builder: the
// cluster and datacenter, the CassandraCluster's config, CassKop's
// defaults under it.
func configFileData(cc *casskopCluster, r casskopRack) string {
	initial, maxHeap := casskopHeap(cc)
	data := map[string]any{
		"cluster-info":    map[string]any{"name": cc.Name, "seeds": strings.Join(cc.seeds(), ",")},
		"datacenter-info": map[string]any{"name": r.DC},
		"cassandra-yaml": map[string]any{
			"read_request_timeout_in_ms": 5000, "write_request_timeout_in_ms": 5000, "counter_write_request_timeout_in_ms": 5000,
		},
		"logback-xml": map[string]any{"debuglog-enabled": false},
		"jvm-options": map[string]any{
			"initial_heap_size": initial, "max_heap_size": maxHeap,
			"cassandra_ring_delay_ms": 30000, "jmx-connection-type": "remote-no-auth",
		},
	}
	for section, values := range cc.Spec.Config {
		m, _ := data[section].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		maps.Copy(m, values)
		data[section] = m
	}
	b, _ := json.Marshal(data)
	return string(b)
}

// configBuilderScript writes into /bootstrap (the image's /etc/cassandra,
// copied there by base-config-builder) what cass-config-builder renders
// from CONFIG_FILE_DATA for this rack: cassandra.yaml's cluster name,
// seeds, snitch, CassKop's request timeouts (5000 ms; in 5.0's names) and
// the CassandraCluster's cassandra-yaml; cassandra-rackdc.properties (the
// datacenter, and the rack from RACK_NAME); the heap in
// jvm-server.options. CassKop's ring delay (30 s) is left to the world's
// (5 s): it only slows starts.
func configBuilderScript(cc *casskopCluster, r casskopRack) string {
	settings := map[string]any{
		"cluster_name":                  cc.Name,
		"endpoint_snitch":               "GossipingPropertyFileSnitch",
		"read_request_timeout":          "5000ms",
		"write_request_timeout":         "5000ms",
		"counter_write_request_timeout": "5000ms",
	}
	maps.Copy(settings, cc.Spec.Config["cassandra-yaml"])
	y, _ := yaml.Marshal(settings)
	initial, maxHeap := casskopHeap(cc)
	return `set -eu
# cass-config-builder's work, for what CONFIG_FILE_DATA says (the image does not exist in the local world).
cat > /bootstrap/cassandra-yaml.settings <<'EOF'
` + string(y) + `EOF
awk 'NR == FNR { if (match($0, /^[A-Za-z0-9_]+:/)) drop[substr($0, 1, RLENGTH - 1)] = 1; next }
/^[A-Za-z0-9_]+:/ { key = $0; sub(/:.*/, "", key); skip = (key in drop) }
/^[^ \t#-]/ && !/^[A-Za-z0-9_]+:/ { skip = 0 }
!skip' /bootstrap/cassandra-yaml.settings /bootstrap/cassandra.yaml > /bootstrap/cassandra.yaml.new
cat /bootstrap/cassandra-yaml.settings >> /bootstrap/cassandra.yaml.new
mv /bootstrap/cassandra.yaml.new /bootstrap/cassandra.yaml
rm /bootstrap/cassandra-yaml.settings
sed -i -e 's|- seeds:.*|- seeds: "` + strings.Join(cc.seeds(), ",") + `"|' /bootstrap/cassandra.yaml
printf 'dc=%s\nrack=%s\n' ` + r.DC + ` "$RACK_NAME" > /bootstrap/cassandra-rackdc.properties
printf '%s\n' -Xms` + initial + ` -Xmx` + maxHeap + ` >> /bootstrap/jvm-server.options
`
}

// bootstrapScript does what CassKop's bootstrap image (bootstrap.sh, then
// run.sh) does, with what the world has: the Jolokia agent (from the
// agent image's /jolokia) and curl into the pod's /extra-lib and
// /opt/bin, the probe scripts into /etc/cassandra, the seed provider,
// and run.sh's -javaagent line (discovery off: the world's agent is 2.x,
// whose discovery CassKop's 1.6.1 did not run).
const bootstrapScript = `set -e
echo "Configuration used:"
set | grep '^CASSANDRA' || true
cp /jolokia/jolokia-agent.jar /extra-lib/jolokia-agent.jar
cp "$(command -v curl)" /opt/bin/curl
cat > /etc/cassandra/readiness-probe.sh <<'EOF'
#!/bin/bash
if [[ -n $JOLOKIA_USER ]] && [[ -n $JOLOKIA_PASSWORD ]]; then
    USER_OPT="--user $JOLOKIA_USER:$JOLOKIA_PASSWORD"
fi
CURL="/opt/bin/curl $USER_OPT -s --connect-timeout 0.5"
BASE_CMD="http://$POD_IP:8778/jolokia/read/org.apache.cassandra.db:type=StorageService"
if $CURL ${BASE_CMD}/LiveNodes | grep -q $POD_IP; then
  exit 0
fi
exit 1
EOF
cat > /etc/cassandra/liveness-probe.sh <<'EOF'
#!/bin/bash
nodetool status
EOF
chmod 0755 /etc/cassandra/readiness-probe.sh /etc/cassandra/liveness-probe.sh
sed -ri 's/- class_name: .*/- class_name: org.apache.cassandra.locator.SimpleSeedProvider/' /etc/cassandra/cassandra.yaml
echo "-javaagent:/extra-lib/jolokia-agent.jar=host=0.0.0.0,executor=fixed,discoveryEnabled=false" >> /etc/cassandra/jvm-server.options
echo '== bootstrap ended'
`

// casskopRing is a ring CassKop made in one region of the world.
type casskopRing struct {
	w      *env.World
	region *env.Region
	dyn    dynamic.Interface
	cc     *casskopCluster
	set    casskopSet
}

// newCasskopRing installs CassKop's CRD (once per world), the namespace,
// CassKop's ServiceAccount and operator Deployment (1 replica: the
// simulated kubelet runs a pod without a cassandra container as an empty
// one), and creates the CassandraCluster as a user does. Its nodes are
// stopped when the test ends.
func newCasskopRing(t *testing.T, w *env.World, region *env.Region, name string) *casskopRing {
	t.Helper()
	dyn, err := dynamic.NewForConfig(region.Config)
	if err != nil {
		t.Fatal(err)
	}
	k := &casskopRing{w: w, region: region, dyn: dyn}
	t.Cleanup(func() { k.stop(t) })
	installCasskopCRD(t, dyn)
	ctx := t.Context()
	core := region.Client.CoreV1()
	if _, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: casskopServiceAccount, Namespace: "cassandra"}}
	if _, err := core.ServiceAccounts("cassandra").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	op := map[string]string{"app": "casskop"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "casskop", Namespace: "cassandra", Labels: op},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptrTo(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: op},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: op},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "casskop", Image: casskopOperatorImage, Command: []string{"casskop"},
					Env: []corev1.EnvVar{{Name: "WATCH_NAMESPACE", Value: "cassandra"}},
				}}},
			},
		},
	}
	if _, err := region.Client.AppsV1().Deployments("cassandra").Create(ctx, dep, metav1.CreateOptions{FieldManager: "helm"}); err != nil {
		t.Fatal(err)
	}
	u := kopCassandraCluster(t, name, "cassandra")
	created, err := dyn.Resource(cassandraClusters).Namespace("cassandra").Create(ctx, u, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"})
	if err != nil {
		t.Fatalf("create the CassandraCluster: %v", err)
	}
	if k.cc, err = decodeCasskop(created); err != nil {
		t.Fatal(err)
	}
	if k.set, err = casskopObjects(k.cc); err != nil {
		t.Fatal(err)
	}
	return k
}

// installCasskopCRD creates CassKop's CassandraCluster CRD (unless an
// earlier test of the world did) and waits until it is served.
func installCasskopCRD(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	b, err := os.ReadFile(casskopCRDFile)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	if _, err := dyn.Resource(crdResource).Create(t.Context(), u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	harness.WaitFor(t, time.Minute, "CRD "+u.GetName()+" served", func() error {
		_, err := dyn.Resource(cassandraClusters).Namespace("default").List(t.Context(), metav1.ListOptions{})
		return err
	})
}

// status writes the CassandraCluster's status as CassKop keeps it (the
// CRD has no status subresource: an Update of the object), with its
// last-applied-configuration annotation: phase and action of every rack,
// and the seed list.
func (k *casskopRing) status(t *testing.T, phase, actionStatus string) {
	t.Helper()
	ri := k.dyn.Resource(cassandraClusters).Namespace(k.cc.Namespace)
	u, err := ri.Get(t.Context(), k.cc.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(map[string]any{"metadata": map[string]any{"name": k.cc.Name, "namespace": k.cc.Namespace, "labels": k.cc.Labels}, "spec": u.Object["spec"]})
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[casskopCRLastApplied] = string(spec)
	u.SetAnnotations(ann)
	racks := map[string]any{}
	for _, r := range k.cc.racks() {
		racks[r.DC+"-"+r.Rack] = map[string]any{
			"phase":               phase,
			"cassandraLastAction": map[string]any{"name": "Initializing", "status": actionStatus},
		}
	}
	var seeds []any
	for _, s := range k.cc.seeds() {
		seeds = append(seeds, s)
	}
	u.Object["status"] = map[string]any{
		"phase": phase, "lastClusterAction": "Initializing", "lastClusterActionStatus": actionStatus,
		"seedlist": seeds, "cassandraRackStatus": racks,
	}
	if _, err := ri.Update(t.Context(), u, metav1.UpdateOptions{FieldManager: casskopFieldManager}); err != nil {
		t.Fatalf("cassandracluster %s: status: %v", k.cc.Name, err)
	}
}

// create creates the ring as CassKop's controller does while it
// initialises a cluster: the Services and the PodDisruptionBudget, then
// one rack's StatefulSet after the other, each once the rack before has
// all its nodes ready (and, here, Up and Normal).
func (k *casskopRing) create(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	ns := k.cc.Namespace
	create := metav1.CreateOptions{FieldManager: casskopFieldManager}
	k.status(t, "Initializing", "Ongoing")
	for _, s := range k.set.Services {
		if _, err := k.region.Client.CoreV1().Services(ns).Create(ctx, s, create); err != nil {
			t.Fatalf("service %s: %v", s.Name, err)
		}
	}
	if _, err := k.region.Client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, k.set.PDB, create); err != nil {
		t.Fatalf("poddisruptionbudget %s: %v", k.set.PDB.Name, err)
	}
	var up []string
	for _, sts := range k.set.StatefulSets {
		start := time.Now()
		if _, err := k.region.Client.AppsV1().StatefulSets(ns).Create(ctx, sts, create); err != nil {
			t.Fatalf("statefulset %s: %v", sts.Name, err)
		}
		for i := range *sts.Spec.Replicas {
			pod := fmt.Sprintf("%s-%d", sts.Name, i)
			k.waitReady(t, pod, 5*time.Minute)
			up = append(up, pod)
			k.waitUN(t, up, 3*time.Minute)
			t.Logf("%s: ready, Up and Normal %s after its StatefulSet was created", pod, time.Since(start).Round(time.Second))
		}
	}
	k.status(t, "Running", "Done")
}

// waitReady waits until the pod is Ready.
func (k *casskopRing) waitReady(t *testing.T, pod string, limit time.Duration) {
	t.Helper()
	harness.WaitFor(t, limit, pod+" ready", func() error {
		p, err := k.region.Client.CoreV1().Pods(k.cc.Namespace).Get(t.Context(), pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !podReady(p) {
			return fmt.Errorf("phase %s, not ready", p.Status.Phase)
		}
		return nil
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// waitUN waits until every node of pods sees every one of them Up and
// Normal (nodetool status), and no other node.
func (k *casskopRing) waitUN(t *testing.T, pods []string, limit time.Duration) {
	t.Helper()
	harness.WaitFor(t, limit, fmt.Sprintf("%v Up and Normal", pods), func() error {
		return k.ringUN(t, pods)
	})
}

// ringUN checks, on every node of pods, that nodetool status lists
// exactly those nodes, all UN.
func (k *casskopRing) ringUN(t *testing.T, pods []string) error {
	want := map[string]string{}
	for _, p := range pods {
		n := k.node(p)
		if n == nil {
			return fmt.Errorf("%s: no JVM runs", p)
		}
		want[n.IP()] = p
	}
	for _, p := range pods {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		out, err := k.node(p).Nodetool(ctx, "status")
		cancel()
		if err != nil {
			return err
		}
		rows := parseNodetoolStatus(out)
		if len(rows) != len(want) {
			return fmt.Errorf("%s sees %d nodes, want %d:\n%s", p, len(rows), len(want), out)
		}
		for ip, pod := range want {
			if rows[ip].State != "UN" {
				return fmt.Errorf("%s sees %s (%s) as %q:\n%s", p, pod, ip, rows[ip].State, out)
			}
		}
	}
	return nil
}

// node is the running JVM of one of the ring's pods, or nil.
func (k *casskopRing) node(pod string) *realcassandra.Container {
	return k.w.Real.Node(k.region.Name, k.cc.Namespace, pod)
}

// pods are the ring's pods (CassKop's labels: they stay on the pods,
// which the StatefulSets' unchanged selectors select), by name.
func (k *casskopRing) pods(t *testing.T) []corev1.Pod {
	t.Helper()
	l, err := k.region.Client.CoreV1().Pods(k.cc.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: k.cc.selector()})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].Name < l.Items[j].Name })
	return l.Items
}

// podNames are the pods the StatefulSets are to run.
func (k *casskopRing) podNames() []string {
	var out []string
	for _, sts := range k.set.StatefulSets {
		for i := range *sts.Spec.Replicas {
			out = append(out, fmt.Sprintf("%s-%d", sts.Name, i))
		}
	}
	return slices.Sorted(slices.Values(out))
}

// stop deletes the ring's StatefulSets, then its pods with grace period 0,
// and the operator's Deployment, and waits until none of its JVMs runs.
func (k *casskopRing) stop(t *testing.T) {
	if k.cc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := k.cc.Namespace
	sel := metav1.ListOptions{LabelSelector: k.cc.selector()}
	if err := k.region.Client.AppsV1().Deployments(ns).Delete(ctx, "casskop", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Logf("stop %s: deployment casskop: %v", k.cc.Name, err)
	}
	if err := k.region.Client.AppsV1().StatefulSets(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, sel); err != nil {
		t.Logf("stop %s: StatefulSets: %v", k.cc.Name, err)
	}
	if err := k.region.Client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptrTo(int64(0))}, sel); err != nil {
		t.Logf("stop %s: pods: %v", k.cc.Name, err)
	}
	for ctx.Err() == nil {
		var running []string
		for _, n := range k.w.Real.Nodes() {
			if strings.HasPrefix(n.Pod(), k.cc.Name+"-") {
				running = append(running, n.Pod())
			}
		}
		if len(running) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Logf("stop %s: JVMs still running after 3 minutes: %v", k.cc.Name, running)
		case <-time.After(time.Second):
		}
	}
}
