package render

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/schemas"
)

// base holds what the generated objects of one context are made from.
type base struct {
	c     *schemas.CassandraCluster
	dcs   []*schemas.Datacenter // the datacenters of the context, in spec order
	seeds string                // CASSANDRA_SEEDS
}

// newBase selects the datacenters of kubeContext.
func newBase(c *schemas.CassandraCluster, kubeContext string) (*base, error) {
	b := &base{c: c, seeds: strings.Join(Seeds(c), ",")}
	for i := range c.Spec.Datacenters {
		if c.Spec.Datacenters[i].Context == kubeContext {
			b.dcs = append(b.dcs, &c.Spec.Datacenters[i])
		}
	}
	if len(b.dcs) == 0 {
		return nil, fmt.Errorf("%w (the cluster's contexts: %s)", ErrUnknownContext, strings.Join(c.Contexts(), ", "))
	}
	return b, nil
}

// manifest is an API object without its status, as it is written.
type manifest[S any] struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              S `json:"spec"`
}

// object is one generated object, ready to serialise, with what a
// Component may not change of it.
type object struct {
	obj    any
	expect expected
}

// expected is what a Component may not change of a generated object: its
// identity, the contract's labels (put back after the build), and the
// replicas of a StatefulSet (the planner's to set, from cluster.yaml).
type expected struct {
	id          objectID
	labels      map[string]string
	annotations map[string]string // put back after the build, as labels
	protected   map[string]any    // fields a Component may not change (guard.go), by path
	podLabels   map[string]string // StatefulSets: of the pod template
	replicas    *int32
}

func newObject[S any](tm metav1.TypeMeta, om metav1.ObjectMeta, spec S) object {
	return object{
		obj: &manifest[S]{TypeMeta: tm, ObjectMeta: om, Spec: spec},
		expect: expected{
			id:     objectID{Kind: tm.Kind, Namespace: om.Namespace, Name: om.Name},
			labels: contractLabels(om.Labels),
		},
	}
}

// contractLabels are the labels of the pod contract among labels.
func contractLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range []string{contract.LabelName, contract.LabelInstance, contract.LabelManagedBy, contract.LabelCluster, contract.LabelDatacenter, contract.LabelRack} {
		if v, ok := labels[k]; ok {
			out[k] = v
		}
	}
	return out
}

// objects returns the generated objects: the ConfigMap, the Service, a
// PodDisruptionBudget per datacenter, the NetworkPolicy of the agent port
// (unless disabled) and a StatefulSet per rack.
func (b *base) objects() ([]object, error) {
	cm := b.configMap()
	svc := b.service()
	out := []object{
		{obj: cm, expect: expected{
			id:          objectID{Kind: cm.Kind, Namespace: cm.Namespace, Name: cm.Name},
			labels:      contractLabels(cm.Labels),
			annotations: map[string]string{contract.AnnotationLastApplied: cm.Annotations[contract.AnnotationLastApplied]},
		}},
		newObject(svc.TypeMeta, svc.ObjectMeta, svc.Spec),
	}
	for _, dc := range b.dcs {
		pdb := b.podDisruptionBudget(dc)
		out = append(out, newObject(pdb.TypeMeta, pdb.ObjectMeta, pdb.Spec))
	}
	if np := b.networkPolicy(); np != nil {
		out = append(out, newObject(np.TypeMeta, np.ObjectMeta, np.Spec))
	}
	for _, dc := range b.dcs {
		for i := range dc.Racks {
			sts, err := b.statefulSet(dc, &dc.Racks[i])
			if err != nil {
				return nil, err
			}
			o := newObject(sts.TypeMeta, sts.ObjectMeta, sts.Spec)
			o.expect.podLabels = contractLabels(sts.Spec.Template.Labels)
			o.expect.replicas = sts.Spec.Replicas
			out = append(out, o)
		}
	}
	return out, nil
}

// yaml serialises the generated objects as one multi-document YAML stream
// of JSON documents (JSON is YAML, and encoding/json is several times
// faster than a YAML encoder), and returns what the build may not change.
func (b *base) yaml() ([]byte, []expected, error) {
	objs, err := b.objects()
	if err != nil {
		return nil, nil, err
	}
	var buf []byte
	exp := make([]expected, 0, len(objs))
	for _, o := range objs {
		j, err := json.Marshal(o.obj)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.expect.id, err)
		}
		buf = append(buf, "---\n"...)
		buf = append(buf, j...)
		buf = append(buf, '\n')
		if o.expect.protected, err = protectedValues(o.expect.id.Kind, j); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.expect.id, err)
		}
		exp = append(exp, o.expect)
	}
	return buf, exp, nil
}

// configMapID is the identity of the ConfigMap <cluster>-config.
func (b *base) configMapID() objectID {
	return objectID{Kind: "ConfigMap", Namespace: b.c.Metadata.Namespace, Name: ConfigMapName(b.c.Metadata.Name)}
}

func (b *base) meta(name string, labels map[string]string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{
		Name:        name,
		Namespace:   b.c.Metadata.Namespace,
		Labels:      labels,
		Annotations: maps.Clone(b.c.Metadata.Annotations),
	}
	if b.c.Spec.Adopt {
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[contract.AnnotationAdopt] = "true"
	}
	return m
}

// clusterLabels are the labels of every object: metadata.labels under the
// contract's labels.
func (b *base) clusterLabels() map[string]string { return b.labels(nil) }

// labels are metadata.labels, then extra, then the contract's cluster labels.
func (b *base) labels(extra map[string]string) map[string]string {
	l := make(map[string]string, len(b.c.Metadata.Labels)+len(extra)+6)
	maps.Copy(l, b.c.Metadata.Labels)
	maps.Copy(l, extra)
	l[contract.LabelName] = contract.AppName
	l[contract.LabelInstance] = b.c.Metadata.Name
	l[contract.LabelManagedBy] = contract.ManagedBy
	l[contract.LabelCluster] = b.c.Metadata.Name
	return l
}

func (b *base) dcLabels(dc *schemas.Datacenter) map[string]string {
	l := b.clusterLabels()
	l[contract.LabelDatacenter] = dc.Name
	return l
}

func (b *base) rackLabels(dc *schemas.Datacenter, rack *schemas.Rack) map[string]string {
	l := b.dcLabels(dc)
	l[contract.LabelRack] = rack.Name
	return l
}

func (b *base) configMap() *corev1.ConfigMap {
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: b.meta(ConfigMapName(b.c.Metadata.Name), b.clusterLabels()),
		Data:       map[string]string{OverridesKey: b.overrides()},
	}
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[contract.AnnotationLastApplied] = schemas.EncodeLastApplied(b.c)
	return cm
}

// overrides is the content of cassandra-overrides.yaml: a comment, then
// spec.config.cassandra-yaml with its keys sorted, and with
// authentication Password the settings of AuthSettings that
// cassandra-yaml does not set (nothing when empty, so that appending it
// leaves cassandra.yaml valid).
func (b *base) overrides() string {
	s := "# ringops: spec.config.cassandra-yaml of cluster " + b.c.Metadata.Name + "\n"
	settings := map[string]any{}
	if b.c.CQLAuthentication() == schemas.CQLAuthPassword {
		for k, v := range AuthSettings {
			settings[k] = v
		}
	}
	if cfg := b.c.Spec.Config; cfg != nil {
		maps.Copy(settings, cfg.CassandraYAML) // the user's own win (validated to agree)
	}
	if len(settings) == 0 {
		return s
	}
	y, err := yaml.Marshal(settings)
	if err != nil { // values come from YAML: they always marshal
		panic(fmt.Sprintf("render: config.cassandra-yaml: %v", err))
	}
	return s + string(y)
}

func (b *base) service() *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: b.meta(b.c.Metadata.Name, b.clusterLabels()),
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 map[string]string{contract.LabelCluster: b.c.Metadata.Name},
			Ports:                    b.servicePorts(),
		},
	}
}

// servicePorts are the container's ports but the agent's: nothing resolves
// the agent through the Service (ringops reaches each pod by its IP, or
// through the pod proxy), and a Service port is one more way in.
func (b *base) servicePorts() []corev1.ServicePort {
	var out []corev1.ServicePort
	for _, p := range b.ports() {
		if p.Name == PortJolokia {
			continue
		}
		out = append(out, corev1.ServicePort{
			Name: p.Name, Port: p.ContainerPort, TargetPort: intstr.FromString(p.Name), Protocol: corev1.ProtocolTCP,
		})
	}
	return out
}

// ports are the Cassandra container's ports.
func (b *base) ports() []corev1.ContainerPort {
	port := func(name string, n int32) corev1.ContainerPort {
		return corev1.ContainerPort{Name: name, ContainerPort: n, Protocol: corev1.ProtocolTCP}
	}
	return []corev1.ContainerPort{
		port(PortCQL, CQLPort),
		port(PortIntraNode, IntraNodePort),
		port(PortIntraNodeTLS, IntraNodeTLSPort),
		port(PortJMX, JMXPort),
		port(PortJolokia, b.jolokiaPort()),
	}
}

func (b *base) jolokiaPort() int32 {
	if j := b.c.Spec.Jolokia; j != nil && j.Port != nil {
		return *j.Port
	}
	return schemas.DefaultJolokiaPort
}

func (b *base) podDisruptionBudget(dc *schemas.Datacenter) *policyv1.PodDisruptionBudget {
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: b.meta(PodDisruptionBudgetName(b.c.Metadata.Name, dc.Name), b.dcLabels(dc)),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{
				contract.LabelCluster:    b.c.Metadata.Name,
				contract.LabelDatacenter: dc.Name,
			}},
		},
	}
}

func (b *base) statefulSet(dc *schemas.Datacenter, rack *schemas.Rack) (*appsv1.StatefulSet, error) {
	name := b.c.StatefulSetName(dc.Name, rack.Name)
	pod, err := b.podTemplate(dc, rack)
	if err != nil {
		return nil, fmt.Errorf("statefulset %s: %w", name, err)
	}
	claim, err := b.dataClaim(dc, rack)
	if err != nil {
		return nil, fmt.Errorf("statefulset %s: %w", name, err)
	}
	var replicas int32
	if rack.Nodes != nil {
		replicas = *rack.Nodes
	}
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: b.meta(name, b.rackLabels(dc, rack)),
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         b.c.Metadata.Name,
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy:      appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{
				contract.LabelCluster:    b.c.Metadata.Name,
				contract.LabelDatacenter: dc.Name,
				contract.LabelRack:       rack.Name,
			}},
			Template:             pod,
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{claim},
		},
	}, nil
}

func (b *base) dataClaim(dc *schemas.Datacenter, rack *schemas.Rack) (corev1.PersistentVolumeClaim, error) {
	st := b.c.Spec.Storage
	size, err := resource.ParseQuantity(st.Size)
	if err != nil {
		return corev1.PersistentVolumeClaim{}, fmt.Errorf("spec.storage.size %q: %w", st.Size, err)
	}
	claim := corev1.PersistentVolumeClaim{
		// Only the contract's labels: volumeClaimTemplates cannot change.
		ObjectMeta: metav1.ObjectMeta{Name: VolumeData, Labels: map[string]string{
			contract.LabelName:       contract.AppName,
			contract.LabelInstance:   b.c.Metadata.Name,
			contract.LabelManagedBy:  contract.ManagedBy,
			contract.LabelCluster:    b.c.Metadata.Name,
			contract.LabelDatacenter: dc.Name,
			contract.LabelRack:       rack.Name,
		}},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: size},
			},
		},
	}
	if st.StorageClassName != "" {
		claim.Spec.StorageClassName = &st.StorageClassName
	}
	return claim, nil
}
