// Package chart tests the Helm chart charts/ringops, with the real helm CLI
// (built from its Go module by test/tools/helm/build.sh, or taken from
// $RINGOPS_HELM_DIR) and, for RBAC, a real kube-apiserver (test/env):
//
//   - helm lint (plain and --strict) of the defaults and of every values
//     file in testdata;
//   - helm template of testdata/<case>-values.yaml against the golden
//     testdata/<case>.golden.yaml (-update rewrites them, and
//     charts/ringops/remote-rbac.yaml);
//   - values the schema or the templates must refuse, with the message the
//     user sees;
//   - the deployment contract written in charts/ringops/README.md (files
//     mounted where the variables point, security context, probes);
//   - the rendered chart applied to a real API server (server-side dry-run
//     for the workload, for real for the ServiceAccount and RBAC), then
//     SubjectAccessReviews of what the ServiceAccount may and may not do,
//     and the remote-region RBAC used through a kubeconfig built from its
//     long-lived token, as the README tells users to.
//
// Test-only package: nothing imports it.
package chart
