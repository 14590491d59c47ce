package env_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ringops/ringops/internal/testkit/wait"
)

// eventually waits for cond (wait.Until).
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	wait.Until(t, timeout, what, cond)
}

// ringView is what one node says about the ring, read over Jolokia.
type ringView struct {
	Mode                       string
	Live, Unreachable, Joining []string
	Leaving                    []string
}

func (v ringView) String() string {
	return fmt.Sprintf("mode %s, live %v, unreachable %v, joining %v, leaving %v",
		v.Mode, v.Live, v.Unreachable, v.Joining, v.Leaving)
}

// readRing asks a node's Jolokia agent (one bulk POST, basic auth) for its
// view of the ring, as ringops does.
func readRing(ip string, port int32, user, password string) (ringView, error) {
	const mbean = "org.apache.cassandra.db:type=StorageService"
	attrs := []string{"OperationMode", "LiveNodes", "UnreachableNodes", "JoiningNodes", "LeavingNodes"}
	var reqs []map[string]any
	for _, a := range attrs {
		reqs = append(reqs, map[string]any{"type": "read", "mbean": mbean, "attribute": a})
	}
	body, _ := json.Marshal(reqs)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(ip, strconv.Itoa(int(port))) + "/jolokia/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return ringView{}, err
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ringView{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return ringView{}, fmt.Errorf("jolokia %s: HTTP %s", url, resp.Status)
	}
	var answers []struct {
		Status int             `json:"status"`
		Value  json.RawMessage `json:"value"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answers); err != nil {
		return ringView{}, fmt.Errorf("jolokia %s: %w", url, err)
	}
	if len(answers) != len(attrs) {
		return ringView{}, fmt.Errorf("jolokia %s: %d answers to %d reads", url, len(answers), len(attrs))
	}
	var v ringView
	targets := []any{&v.Mode, &v.Live, &v.Unreachable, &v.Joining, &v.Leaving}
	for i, a := range answers {
		if a.Status != http.StatusOK {
			return ringView{}, fmt.Errorf("jolokia %s: %s: %d %s", url, attrs[i], a.Status, a.Error)
		}
		if err := json.Unmarshal(a.Value, targets[i]); err != nil {
			return ringView{}, fmt.Errorf("jolokia %s: %s: %w", url, attrs[i], err)
		}
	}
	for _, l := range [][]string{v.Live, v.Unreachable, v.Joining, v.Leaving} {
		slices.Sort(l)
	}
	return v, nil
}

func getPod(client kubernetes.Interface, ns, name string) (*corev1.Pod, error) {
	return client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podCondition(p *corev1.Pod, typ corev1.PodConditionType) (corev1.PodCondition, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c, true
		}
	}
	return corev1.PodCondition{}, false
}

func cassandraStatus(p *corev1.Pod) corev1.ContainerStatus {
	for _, c := range p.Status.ContainerStatuses {
		if c.Name == "cassandra" {
			return c
		}
	}
	return corev1.ContainerStatus{}
}

// childrenNamed returns the live child processes of this test process
// whose command is one of names.
func childrenNamed(names ...string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	self := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(data)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < 0 || end+2 >= len(s) {
			continue
		}
		comm := s[open+1 : end]
		fields := strings.Fields(s[end+2:])
		if len(fields) > 1 && fields[1] == self && slices.Contains(names, comm) {
			out = append(out, fmt.Sprintf("%s (pid %s)", comm, e.Name()))
		}
	}
	return out
}
