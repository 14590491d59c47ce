package env_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/ringops/ringops/test/env"
)

// TestAgentAuthentication: the Jolokia agent ringops injects asks for the
// credentials of the Secret tiny-jolokia by default, on a real Cassandra
// 5.0 node (the real Jolokia 2.6.0 agent reading the options file the
// rendered init container writes) and on the simulator alike: a read
// without credentials, or with a wrong password, is refused (401), one
// with them answers; the readiness probe (which reads them from the
// options file) makes the pod Ready; on the real node the password is
// neither on the JVM's command line, nor in its environment, nor in its
// log. After a rotation (a new password in the Secret, the pod restarted
// as the rotate annotation makes the StatefulSet do), the agent asks for
// the new password and refuses the old one.
func TestAgentAuthentication(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Cassandra nodes")
	}
	t.Parallel() // after the package's other tests: realcassandra.Exclusive serialises the real ones
	for _, world := range []string{"real", "sim"} {
		t.Run(world, func(t *testing.T) {
			opts := env.DefaultOptions()
			if world == "real" {
				opts = env.RealOptions()
			}
			opts.Regions = []string{"eu-west"}
			w := env.Start(t, opts)
			r := w.Region("eu-west")
			ctx := t.Context()
			if _, err := r.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			dyn := dynamic.NewForConfigOrDie(r.Config)
			for _, o := range renderReal(t, realSpec, "eu-west") {
				if o.GetKind() == "StatefulSet" {
					_ = unstructured.SetNestedField(o.Object, int64(0), "spec", "replicas")
				}
				applyObject(t, dyn, o)
			}
			const pod = "tiny-dc1-r1-0"
			scaleTo(t, r, "tiny-dc1-r1", 1)
			waitReady(t, r, pod, 3*time.Minute)
			url := agentURL(t, r, pod)
			assertAgentAuth(t, url, realJolokiaPassword)
			if world == "real" {
				n := w.Real.Node("eu-west", "cassandra", pod)
				if n == nil {
					t.Fatal("the real runtime does not list the node")
				}
				assertPasswordHidden(t, n.Pid(), n.Log(), realJolokiaPassword)
			}

			// Rotation: the new password once the pod restarted.
			const rotated = "pw-rotated-K9m4"
			old, err := r.Client.CoreV1().Pods("cassandra").Get(ctx, pod, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			applyObject(t, dyn, jolokiaSecret("tiny", "cassandra", rotated))
			if err := r.Client.CoreV1().Pods("cassandra").Delete(ctx, pod, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, 2*time.Minute, "a new pod "+pod, func() (bool, string) {
				p, err := r.Client.CoreV1().Pods("cassandra").Get(ctx, pod, metav1.GetOptions{})
				return err == nil && p.UID != old.UID, fmt.Sprint(err)
			})
			waitReady(t, r, pod, 3*time.Minute)
			url = agentURL(t, r, pod)
			assertAgentAuth(t, url, rotated)
			if code := postRead(t, url, realJolokiaUser, realJolokiaPassword); code != http.StatusUnauthorized {
				t.Errorf("a read with the password before the rotation: HTTP %d, want 401", code)
			}
		})
	}
}

// assertAgentAuth: without credentials or with a wrong password the agent
// answers 401, with password 200.
func assertAgentAuth(t *testing.T, url, password string) {
	t.Helper()
	if code := postRead(t, url, "", ""); code != http.StatusUnauthorized {
		t.Errorf("a read without credentials: HTTP %d, want 401", code)
	}
	if code := postRead(t, url, realJolokiaUser, password+"x"); code != http.StatusUnauthorized {
		t.Errorf("a read with a wrong password: HTTP %d, want 401", code)
	}
	if code := postRead(t, url, realJolokiaUser, password); code != http.StatusOK {
		t.Errorf("a read with the Secret's credentials: HTTP %d, want 200", code)
	}
}

// assertPasswordHidden: the password is not in what other processes of
// the host can read of the JVM (its command line and environment), nor in
// Cassandra's log.
func assertPasswordHidden(t *testing.T, pid int, log, password string) {
	t.Helper()
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + f)
		if err != nil {
			t.Errorf("JVM %d: %v", pid, err)
			continue
		}
		if bytes.Contains(b, []byte(password)) {
			t.Errorf("the agent's password is in the JVM's %s", f)
		}
	}
	if strings.Contains(readFile(t, log), password) {
		t.Errorf("the agent's password is in Cassandra's log %s", log)
	}
}

// agentURL is the Jolokia URL of the pod's agent (its pod IP, port 8778).
func agentURL(t *testing.T, r *env.Region, pod string) string {
	t.Helper()
	p, err := r.Client.CoreV1().Pods("cassandra").Get(t.Context(), pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + net.JoinHostPort(p.Status.PodIP, "8778") + "/jolokia/"
}

// postRead posts a read of StorageService's OperationMode, with basic auth
// when user is set, and returns the HTTP status.
func postRead(t *testing.T, url, user, password string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	body := `{"type":"read","mbean":"org.apache.cassandra.db:type=StorageService","attribute":"OperationMode"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	return resp.StatusCode
}
