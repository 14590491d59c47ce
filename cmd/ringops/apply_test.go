package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/plan"
)

// deadKubeconfig writes a kubeconfig whose contexts point at a loopback
// port nothing listens on: every request is refused at once.
func deadKubeconfig(t *testing.T, contexts ...string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	for _, name := range contexts {
		cfg.Clusters[name] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
		cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "t"}
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

func editedExample(t *testing.T, old, new string) string {
	t.Helper()
	root := brokenRepo(t, func(dir string) {
		p := filepath.Join(dir, "cluster.yaml")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.Contains(t, string(b), old)
		require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
	})
	return filepath.Join(root, "clusters", "orders")
}

func TestApplyInvalidSpecAppliesNothing(t *testing.T) {
	dir := editedExample(t, "\n  nodesPerRack: 1\n", "\n  nodesPerRack: -1\n")
	code, out, errs := ringops(t, "apply", dir, "--kubeconfig", deadKubeconfig(t, "eu-west", "us-east", "ap-south"), "--wait", "-v")
	assert.Equal(t, ExitInvalid, code, errs)
	assert.Contains(t, out, "[orders] blocked: the spec is invalid, nothing is applied")
	assert.Contains(t, out, "writes=0")
	assert.Regexp(t, `cluster\.yaml:\d+: spec\.nodesPerRack: `, errs)
}

func TestApplyUnsafeChangeAppliesNothing(t *testing.T) {
	dir := editedExample(t, "        - name: r3\n", "        - name: r4\n")
	code, out, errs := ringops(t, "apply", dir, "--kubeconfig", deadKubeconfig(t, "eu-west", "us-east", "ap-south"),
		"--previous", filepath.Join(example, "cluster.yaml"), "--wait", "-v")
	assert.Equal(t, ExitInvalid, code, errs)
	assert.Contains(t, out, "[orders] waiting: Blocked: the revision is invalid, nothing is applied")
	assert.Contains(t, out, "requests total: get=0 list=0 watch=0 post=0 put=0 patch=0 delete=0 dryrun=0 writes=0",
		"no API server is even asked")
	assert.Contains(t, errs, "racks[2]")
}

func TestApplySeedRegionDown(t *testing.T) {
	code, out, errs := ringops(t, "apply", example, "--kubeconfig", deadKubeconfig(t, "eu-west", "us-east", "ap-south"), "-v")
	assert.Equal(t, ExitUnreachable, code, errs)
	assert.Contains(t, out, "[eu-west] waiting: RegionUnreachable: the seed region eu-west cannot be read")
	assert.Contains(t, out, "writes=0")
}

func TestApplyTimesOutOnARegionDown(t *testing.T) {
	code, _, errs := ringops(t, "apply", example, "--kubeconfig", deadKubeconfig(t, "eu-west", "us-east", "ap-south"),
		"--wait", "--timeout", "300ms")
	assert.Equal(t, ExitUnreachable, code, errs)
	assert.Contains(t, errs, "--timeout 300ms passed while waiting: RegionUnreachable (eu-west)")
}

func TestApplyContextMissingFromTheKubeconfig(t *testing.T) {
	code, _, errs := ringops(t, "apply", example, "--kubeconfig", deadKubeconfig(t, "eu-west", "us-east"))
	assert.Equal(t, ExitError, code)
	assert.Contains(t, errs, "context ap-south")
}

func TestApplyUsage(t *testing.T) {
	code, _, _ := ringops(t, "apply", example, "--via", "carrier-pigeon")
	assert.Equal(t, ExitUsage, code)
	code, _, _ = ringops(t, "apply")
	assert.Equal(t, ExitUsage, code)
}

// TestApplyExitCodesComeFromTheWaitTable: the exit codes the help
// documents are those of reconciler.Waits, for every wait reason.
func TestApplyExitCodesComeFromTheWaitTable(t *testing.T) {
	assert.Equal(t, []int{ExitOK, ExitInvalid, ExitBlocked, ExitTimeout, ExitUnreachable},
		[]int{reconciler.ExitOK, reconciler.ExitInvalid, reconciler.ExitBlocked, reconciler.ExitTimeout, reconciler.ExitUnreachable})
	want := map[plan.WaitReason]int{plan.Converged: ExitOK, plan.Blocked: ExitBlocked, plan.RegionUnreachable: ExitUnreachable,
		plan.WaitingForRegion: ExitOK, plan.RolloutInProgress: ExitOK, plan.RingUnhealthy: ExitOK, plan.Settling: ExitOK,
		plan.Paused: ExitBlocked, plan.OutsideWindow: ExitBlocked, plan.HealthTimeout: ExitTimeout}
	for r := range reconciler.Waits {
		code := ExitOK
		var ee *exitError
		if err := waitExit(plan.Wait{Reason: r}); errors.As(err, &ee) {
			code = ee.code
		}
		assert.Equal(t, want[r], code, r.String())
	}
	assert.Len(t, want, len(reconciler.Waits))
}
