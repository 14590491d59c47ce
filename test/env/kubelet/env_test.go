package kubelet

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestAgentCredentials: the simulated agent asks for the credentials the
// injected agent would read from its Secret volume, so that the simulator's
// Jolokia refuses a read without them, as the real agent does.
func TestAgentCredentials(t *testing.T) {
	secret := func(data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "orders-jolokia"}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	withVolume := pod("db", "orders-dc1-r1-0", nil, nil)
	withVolume.Spec.Volumes = []corev1.Volume{{Name: volumeJolokiaCredentials, VolumeSource: corev1.VolumeSource{
		Secret: &corev1.SecretVolumeSource{SecretName: "orders-jolokia"}}}}
	for _, tc := range []struct {
		name           string
		pod            *corev1.Pod
		secret         *corev1.Secret
		user, password string
		err            bool
	}{
		{"from the Secret", withVolume, secret(map[string]string{"username": "u1", "password": "p1"}), "u1", "p1", false},
		{"no volume: no authentication", pod("db", "orders-dc1-r1-0", nil, nil), nil, "", "", false},
		{"missing Secret", withVolume, nil, "", "", true},
		{"no password", withVolume, secret(map[string]string{"username": "u1"}), "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			if tc.secret != nil {
				client = fake.NewClientset(tc.secret)
			}
			k := &Kubelet{client: client}
			user, password, err := k.agentCredentials(context.Background(), tc.pod)
			if tc.err {
				if !errors.Is(err, errConfig) {
					t.Fatalf("err = %v, want errConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if user != tc.user || password != tc.password {
				t.Errorf("credentials = %q/%q, want %q/%q", user, password, tc.user, tc.password)
			}
		})
	}
}

// TestFieldValue: the downward API's fields a pod's env can name, CassKop's
// among them (status.hostIP, the node's labels of the pod).
func TestFieldValue(t *testing.T) {
	p := pod("db", "kop-dc1-r1-0", map[string]string{"cassandraclusters.db.orange.com.rack": "r1"}, nil)
	p.Spec.NodeName = "eu-west-node-1"
	for path, want := range map[string]string{
		"metadata.name": "kop-dc1-r1-0",
		"metadata.labels['cassandraclusters.db.orange.com.rack']": "r1",
		"spec.nodeName":  "eu-west-node-1",
		"status.podIP":   "127.0.1.2",
		"status.podIPs":  "127.0.1.2",
		"status.hostIP":  "127.0.0.12",
		"status.hostIPs": "127.0.0.12",
	} {
		got, err := fieldValue(p, path, "127.0.1.2", "127.0.0.12")
		if err != nil || got != want {
			t.Errorf("fieldValue(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := fieldValue(p, "status.phase", "127.0.1.2", "127.0.0.12"); !errors.Is(err, errConfig) {
		t.Errorf("an unsupported field: err = %v, want errConfig", err)
	}
}
