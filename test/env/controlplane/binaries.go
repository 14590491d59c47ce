package controlplane

import (
	"context"

	"github.com/ringops/ringops/test/tools/toolcache"
)

// EnvBinDir names the environment variable that points at a directory holding
// kube-apiserver and kube-controller-manager; when unset, BinDir builds them.
const EnvBinDir = "RINGOPS_CONTROLPLANE_DIR"

// Binary names.
const (
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Etcd              = "etcd"
)

// BinDir returns the directory holding kube-apiserver and
// kube-controller-manager: $RINGOPS_CONTROLPLANE_DIR when set, else the
// cache filled by test/env/tools/controlplane/build.sh, which it runs (a
// cached build returns at once; a cold one takes minutes).
func BinDir(ctx context.Context) (string, error) {
	return toolcache.Tool{
		Name:   "control plane binaries",
		Env:    EnvBinDir,
		Script: "test/env/tools/controlplane/build.sh",
		Files:  []string{APIServer, ControllerManager},
	}.Dir(ctx)
}
