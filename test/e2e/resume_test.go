package e2e

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/test/e2e/harness"
)

// TestResumeAfterKill kills `ringops apply --wait` (SIGKILL) at random
// points of a bootstrap and of an image roll, starts it again each time,
// and checks that the rollout converges with no step repeated (no node
// bootstrapped or restarted twice, no step printed twice) and no gate
// skipped (never two nodes busy at once, replicas by one).
func TestResumeAfterKill(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "carts")
	c := copyExample(t, "carts")
	c.Edit(t, "settle: 10s", "settle: 1s")
	seed := time.Now().UnixNano()
	t.Logf("random kill points from seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))

	outs := killRepeatedly(t, rng, c.applyArgs(w.Kubeconfig, "--wait"), 12)
	final := harness.Ringops(t, limit, c.applyArgs(w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, final.Code, "%s", final)
	outs = append(outs, final.Stdout)
	assertOnce(t, outs, scales)
	assert.Equal(t, []string{"carts-dc1-r1-0", "carts-dc1-r2-0", "carts-dc1-r3-0", "carts-dc2-r1-0", "carts-dc2-r2-0",
		"carts-dc3-r1-0", "carts-dc3-r2-0"}, m.Joined(), "the order in which the nodes joined the ring")
	for pod, n := range m.Creations() {
		assert.Equal(t, 1, n, "pod %s created more than once during a bootstrap", pod)
	}
	assertCalm(t, m)
	assertHealthy(t, w, c.Dir, "carts", 7)

	m.Reset()
	c.Edit(t, "image: cassandra:4.1.5", "image: cassandra:4.1.6")
	outs = killRepeatedly(t, rng, c.applyArgs(w.Kubeconfig, "--wait"), 12)
	final = harness.Ringops(t, limit, c.applyArgs(w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, final.Code, "%s", final)
	outs = append(outs, final.Stdout)
	assertOnce(t, outs, restarted)
	assertRecreatedOnce(t, m, 7)
	assertCalm(t, m)
	assertHealthy(t, w, c.Dir, "carts", 7)
	assertImage(t, w, "carts", "cassandra:4.1.6")
}

// killRepeatedly runs ringops n times, each killed with SIGKILL after a
// random 0.3-3.5 s (sooner when it ends by itself: the rollout is over),
// and returns what each printed.
func killRepeatedly(t *testing.T, rng *rand.Rand, args []string, n int) []string {
	t.Helper()
	var outs []string
	for i := range n {
		var out bytes.Buffer
		cmd := exec.Command(harness.Binary, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		after := 300*time.Millisecond + time.Duration(rng.Int64N(int64(3200*time.Millisecond)))
		select {
		case <-done:
			t.Logf("run %d ended by itself:\n%s", i, out.String())
			return append(outs, out.String())
		case <-time.After(after):
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		<-done
		t.Logf("run %d killed after %s:\n%s", i, after.Round(time.Millisecond), out.String())
		outs = append(outs, out.String())
	}
	return outs
}

// assertOnce: no step that extract finds is printed twice over the runs.
func assertOnce(t *testing.T, outs []string, extract func(string) []string) {
	t.Helper()
	var all []string
	for _, o := range outs {
		all = append(all, extract(o)...)
	}
	seen := map[string]bool{}
	for _, s := range all {
		assert.False(t, seen[s], "step %q taken twice", s)
		seen[s] = true
	}
	assert.NotEmpty(t, all)
	slices.Sort(all)
	t.Logf("steps: %v", all)
}
