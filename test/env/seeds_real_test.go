package env_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/test/env"
)

// TestSeedNamesUnresolvableRefuseStart holds the simulator to a real
// Cassandra 5.0 node whose seed names all fail to resolve (#14 item 10):
// the datacenter's dnsDomain is published by nobody (no external-DNS
// annotation, not the cluster DNS), so its pods' seed names
// <pod>.<dnsDomain> are in no hosts file. The real node logs "Seed
// provider couldn't lookup host" for each (SimpleSeedProvider) and refuses
// to start with "The seed provider lists no seeds." (DatabaseDescriptor);
// the pod crash-loops, never Ready. The simulated world (resolving as the
// real nodes do) must refuse the same way, with the same
// words in the container's termination message (on the real node, the
// end of its log: render gives the container terminationMessagePolicy
// FallbackToLogsOnError, and the kubelet, real or of test/env, makes the
// log's last lines the message of a container that failed).
//
// Measured (December 2026): the real JVM exits about 1 s after it starts
// (3 s after the scale-up), restart count 1, exit code 1, its log:
//
//	WARN  [main] SimpleSeedProvider.java:106 - Seed provider couldn't lookup host tiny-dc1-r1-0.tiny.nowhere.example
//	ERROR [main] CassandraDaemon.java:887 - Exception encountered during startup: The seed provider lists no seeds.
//
// (5.0.1 SimpleSeedProvider.java:103-107, DatabaseDescriptor.java
// :1311-1312). The simulated node's termination message carries the same
// sentence (before its seed names resolved strictly, the simulator
// resolved them by their first label and started).
func TestSeedNamesUnresolvableRefuseStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Cassandra JVM")
	}
	t.Parallel() // after the package's other tests: realcassandra.Exclusive serialises the real ones
	const domain = "tiny.nowhere.example"
	spec := strings.Replace(realSpec, "      context: eu-west\n", "      context: eu-west\n      dnsDomain: "+domain+"\n", 1)
	if spec == realSpec {
		t.Fatal("realSpec changed: no datacenter context to add dnsDomain to")
	}
	ro := env.RealOptions()
	ro.Regions = []string{"eu-west"}
	so := env.DefaultOptions()
	so.Regions, so.NodesPerRegion = []string{"eu-west"}, 3
	worlds := []*confWorld{newConfWorldSpec(t, "real", env.Start(t, ro), spec), newConfWorldSpec(t, "sim", env.Start(t, so), spec)}
	const pod = "tiny-dc1-r1-0"
	said := map[string]string{}
	for _, w := range worlds {
		start := time.Now()
		scaleTo(t, w.region, "tiny-dc1-r1", 1)
		var st corev1.ContainerStatus
		eventually(t, 3*time.Minute, w.name+": "+pod+" crashed", func() (bool, string) {
			p, err := w.region.Client.CoreV1().Pods("cassandra").Get(t.Context(), pod, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			for _, c := range p.Status.ContainerStatuses {
				if c.Name == render.ContainerCassandra {
					st = c
				}
			}
			return st.RestartCount > 0 && st.LastTerminationState.Terminated != nil, fmt.Sprintf("%+v", st.State)
		})
		term := st.LastTerminationState.Terminated
		t.Logf("%s: %s crashed %s after its StatefulSet was scaled up: ready %t, restarts %d, exit code %d, message %q",
			w.name, pod, time.Since(start).Round(time.Second), st.Ready, st.RestartCount, term.ExitCode, term.Message)
		if st.Ready {
			t.Errorf("%s: %s Ready although it cannot start", w.name, pod)
		}
		text := term.Message
		if w.w.Real != nil {
			// The JVM has exited: its log stays in the pod's scratch
			// directory (realcassandra: <world>/pods/<region>/<ns>/<pod>-<uid>).
			logs, _ := filepath.Glob(filepath.Join(w.w.Dir, "pods", "eu-west", "cassandra", pod+"-*", "cassandra.log"))
			var lines []string
			for _, f := range logs {
				b, _ := os.ReadFile(f)
				for _, l := range strings.Split(string(b), "\n") {
					if strings.Contains(strings.ToLower(l), "seed") && !strings.Contains(l, "starting: ") {
						lines = append(lines, l)
					}
				}
			}
			seeds := strings.Join(lines, "\n")
			t.Logf("real: the node's log lines about seeds:\n%s", seeds)
			if want := "Seed provider couldn't lookup host " + pod + "." + domain; !strings.Contains(seeds, want) {
				t.Errorf("real: the log does not say %q", want)
			}
		}
		said[w.name] = text
	}
	const refusal = "The seed provider lists no seeds."
	for _, w := range worlds {
		if !strings.Contains(said[w.name], refusal) {
			t.Errorf("%s: %s did not refuse to start with %q:\n%s", w.name, pod, refusal, said[w.name])
		}
	}
}
