package env_test

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// tinyCluster is a hand-written two-rack Cassandra datacenter following the
// pod contract of render/doc.go: one headless Service, one StatefulSet per
// rack, the seed being ordinal 0 of rack r1.
type tinyCluster struct {
	Namespace, Name, DC string
	Racks               []string
	Seeds               []string // pod names
	JolokiaPort         int32
	User, Password      string
}

func newTinyCluster() tinyCluster {
	return tinyCluster{
		Namespace: "cassandra", Name: "tiny", DC: "dc1", Racks: []string{"r1", "r2"},
		Seeds: []string{"tiny-dc1-r1-0"}, JolokiaPort: 8778,
		User: "monitor", Password: "s3cret-for-tests",
	}
}

func (c tinyCluster) statefulSetName(rack string) string {
	return fmt.Sprintf("%s-%s-%s", c.Name, c.DC, rack)
}

func (c tinyCluster) podName(rack string, ordinal int) string {
	return fmt.Sprintf("%s-%d", c.statefulSetName(rack), ordinal)
}

func (c tinyCluster) labels(rack string) map[string]string {
	l := map[string]string{
		"app.kubernetes.io/name": "cassandra", "app.kubernetes.io/instance": c.Name,
		"app.kubernetes.io/managed-by": "ringops", "ringops.dev/cluster": c.Name,
		"ringops.dev/datacenter": c.DC,
	}
	if rack != "" {
		l["ringops.dev/rack"] = rack
	}
	return l
}

func (c tinyCluster) namespace() *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: c.Namespace}}
}

func (c tinyCluster) secret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "jolokia-auth", Namespace: c.Namespace},
		StringData: map[string]string{"username": c.User, "password": c.Password},
	}
}

func (c tinyCluster) service() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace, Labels: c.labels("")},
		Spec: corev1.ServiceSpec{
			ClusterIP:                corev1.ClusterIPNone,
			PublishNotReadyAddresses: true,
			Selector:                 map[string]string{"ringops.dev/cluster": c.Name},
			Ports: []corev1.ServicePort{
				{Name: "cql", Port: 9042}, {Name: "intra-node", Port: 7000}, {Name: "jolokia", Port: c.JolokiaPort},
			},
		},
	}
}

func (c tinyCluster) seedList() string {
	var names []string
	for _, s := range c.Seeds {
		names = append(names, fmt.Sprintf("%s.%s.%s.svc.cluster.local", s, c.Name, c.Namespace))
	}
	return strings.Join(names, ",")
}

func (c tinyCluster) statefulSet(rack string, replicas int32) *appsv1.StatefulSet {
	labels := c.labels(rack)
	secretRef := func(key string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "jolokia-auth"}, Key: key}}
	}
	class := "fast"
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: c.statefulSetName(rack), Namespace: c.Namespace, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         c.Name,
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Affinity: hostAntiAffinity(map[string]string{"ringops.dev/cluster": c.Name}),
					Containers: []corev1.Container{{
						Name: "cassandra", Image: "cassandra:4.1.5",
						Ports: []corev1.ContainerPort{
							{Name: "cql", ContainerPort: 9042}, {Name: "intra-node", ContainerPort: 7000},
							{Name: "jmx", ContainerPort: 7199}, {Name: "jolokia", ContainerPort: c.JolokiaPort},
						},
						Env: []corev1.EnvVar{
							{Name: "CASSANDRA_CLUSTER_NAME", Value: c.Name},
							{Name: "CASSANDRA_DC", Value: c.DC},
							{Name: "CASSANDRA_RACK", Value: rack},
							{Name: "CASSANDRA_ENDPOINT_SNITCH", Value: "GossipingPropertyFileSnitch"},
							{Name: "CASSANDRA_SEEDS", Value: c.seedList()},
							{Name: "JOLOKIA_USER", ValueFrom: secretRef("username")},
							{Name: "JOLOKIA_PASSWORD", ValueFrom: secretRef("password")},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/cassandra"}},
					}},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: &class,
					Resources: corev1.VolumeResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
					},
				},
			}},
		},
	}
}

// plainStatefulSet runs pods without a Cassandra container (they are ready
// as soon as they run), spread one per node, started in parallel.
func plainStatefulSet(namespace, name string, replicas int32) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         name,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Affinity:   hostAntiAffinity(labels),
					Containers: []corev1.Container{{Name: "app", Image: "busybox"}},
				},
			},
		},
	}
}

func hostAntiAffinity(match map[string]string) *corev1.Affinity {
	return &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: match},
			TopologyKey:   "kubernetes.io/hostname",
		}},
	}}
}
