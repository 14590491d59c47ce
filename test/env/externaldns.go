package env

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ringops/ringops/test/env/kubelet"
)

// PublishExternalDNS writes into a cluster directory, for each region
// (kube context), the Component regions/<region>/kustomization.yaml that
// annotates the cluster's headless Service (named as the cluster) with
// the external-DNS hostname of the datacenter living there, as a user of
// external-dns writes it: the world then resolves <pod>.<domain> from
// every region, as external-dns publishes it. domains maps a region to
// its datacenter's spec.datacenters[].dnsDomain.
func PublishExternalDNS(clusterDir, cluster string, domains map[string]string) error {
	for region, domain := range domains {
		comp := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
  - target: {kind: Service, name: %[1]s}
    patch: |-
      apiVersion: v1
      kind: Service
      metadata:
        name: %[1]s
        annotations:
          %[2]s: %[3]s
`, cluster, kubelet.AnnotationExternalDNS, domain)
		dir := filepath.Join(clusterDir, "regions", region)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(comp), 0o644); err != nil {
			return err
		}
	}
	return nil
}
