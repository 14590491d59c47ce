{{/*
Names, labels and the cross-field checks of the chart. The files, variables
and arguments the daemon is given are described in README.md ("What the
daemon is given"); keep the two in step.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "ringops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: fullnameOverride, else <release> when it already contains the
chart name, else <release>-<chart>. Truncated to 52 characters so that the
longest derived name (<fullname>-kubeconfig) stays a valid name.
*/}}
{{- define "ringops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ringops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "ringops.labels" -}}
helm.sh/chart: {{ include "ringops.chart" . }}
{{ include "ringops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ringops
{{- end }}

{{/* Labels that select the daemon's pods. */}}
{{- define "ringops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ringops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ringops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ringops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, else repository:tag. */}}
{{- define "ringops.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The names of the Leases in the release namespace. */}}
{{- define "ringops.leaseName" -}}
{{- include "ringops.fullname" . }}
{{- end }}
{{- define "ringops.webhookLeaseName" -}}
{{- include "ringops.fullname" . }}-webhook
{{- end }}

{{/*
The shard Leases (shards > 1): <lease>-shard-<i> and <lease>-shard-<i>-home,
i in 0..shards-1, one per line.
*/}}
{{- define "ringops.shardLeaseNames" -}}
{{- $lease := include "ringops.leaseName" . }}
{{- range $i := until (int .Values.shards) }}
{{ $lease }}-shard-{{ $i }}
{{ $lease }}-shard-{{ $i }}-home
{{- end }}
{{- end }}

{{/* The number of daemons: replicaCount, else (shards > 1) shardReplicas or one per shard. */}}
{{- define "ringops.replicas" -}}
{{- if gt (int .Values.shards) 1 }}
{{- default .Values.shards .Values.shardReplicas }}
{{- else }}
{{- .Values.replicaCount }}
{{- end }}
{{- end }}

{{/* Secret names: the existing Secret, else the one the chart creates. */}}
{{- define "ringops.gitSecretName" -}}
{{- default (printf "%s-git" (include "ringops.fullname" .)) .Values.git.auth.existingSecret }}
{{- end }}
{{- define "ringops.kubeconfigSecretName" -}}
{{- default (printf "%s-kubeconfig" (include "ringops.fullname" .)) .Values.regions.kubeconfig.existingSecret }}
{{- end }}
{{- define "ringops.forgeSecretName" -}}
{{- default (printf "%s-forge" (include "ringops.fullname" .)) .Values.forge.existingSecret }}
{{- end }}
{{- define "ringops.webhookSecretName" -}}
{{- default (printf "%s-webhook" (include "ringops.fullname" .)) .Values.webhook.existingSecret }}
{{- end }}

{{- define "ringops.apiSecretName" -}}
{{- default (printf "%s-api" (include "ringops.fullname" .)) .Values.api.token.existingSecret }}
{{- end }}

{{/* "true" when a kubeconfig for remote regions is given. */}}
{{- define "ringops.hasKubeconfig" -}}
{{- if or .Values.regions.kubeconfig.existingSecret .Values.regions.kubeconfig.content }}true{{ end }}
{{- end }}

{{/*
The files of the Git Secret, as "<key in the Secret>=<file name>" lines: the
keys that the auth method uses and that are present (an existing Secret's
key names come from git.auth.keys; the chart's own Secret uses the file
names as keys).
*/}}
{{- define "ringops.gitFiles" -}}
{{- $a := .Values.git.auth }}
{{- $k := $a.keys }}
{{- $files := list }}
{{- if eq $a.method "ssh" }}
{{- $files = list (list $k.sshPrivateKey $a.sshPrivateKey "identity") (list $k.sshPassphrase $a.sshPassphrase "passphrase") (list $k.knownHosts $a.knownHosts "known_hosts") }}
{{- else if eq $a.method "token" }}
{{- $files = list (list $k.token $a.token "token") (list $k.caBundle $a.caBundle "ca.crt") }}
{{- end }}
{{- range $files }}
{{- $key := index . 0 }}{{ $inline := index . 1 }}{{ $file := index . 2 }}
{{- if $a.existingSecret }}
{{- if $key }}
{{ $key }}={{ $file }}
{{- end }}
{{- else if $inline }}
{{ $file }}={{ $file }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when the Git Secret provides the file named by the argument. */}}
{{- define "ringops.hasGitFile" -}}
{{- $want := index . 1 }}
{{- range splitList "\n" (include "ringops.gitFiles" (index . 0)) }}
{{- if and . (eq (last (splitList "=" .)) $want) }}true{{ end }}
{{- end }}
{{- end }}

{{/*
Cross-field checks that the JSON schema cannot state clearly; each fails the
render with a message that names the value to set.
*/}}
{{- define "ringops.validate" -}}
{{- $v := .Values }}
{{- if not $v.remote.rbacOnly }}
{{- if not $v.git.url }}
{{- fail "git.url is required: the repository that holds the cluster specs" }}
{{- end }}
{{- if and (le (int $v.shards) 1) (gt (int $v.replicaCount) 1) (not $v.leaderElection.enabled) }}
{{- fail "leaderElection.enabled must be true with 2 replicas: two daemons must never roll out at once" }}
{{- end }}
{{- if and (gt (int $v.shards) 1) (gt (int $v.shardReplicas) (int $v.shards)) }}
{{- fail (printf "shardReplicas %d is more than shards %d: pod i's home shard is i mod shards, so two pods would share one" (int $v.shardReplicas) (int $v.shards)) }}
{{- end }}
{{- if not (or $v.regions.inClusterContext (include "ringops.hasKubeconfig" .)) }}
{{- fail "no region is reachable: set regions.inClusterContext, regions.kubeconfig.existingSecret or regions.kubeconfig.content" }}
{{- end }}
{{- include "ringops.validateGit" . }}
{{- if and $v.forge.enabled (not (or $v.forge.existingSecret $v.forge.token)) }}
{{- fail "forge.enabled needs forge.existingSecret or forge.token (the API token)" }}
{{- end }}
{{- if and $v.webhook.enabled (not (or $v.webhook.existingSecret $v.webhook.secret)) }}
{{- fail "webhook.enabled needs webhook.existingSecret or webhook.secret: unsigned hooks are refused" }}
{{- end }}
{{- if and $v.webhook.gitlabToken (eq $v.webhook.gitlabToken $v.webhook.secret) }}
{{- fail "webhook.gitlabToken must differ from webhook.secret: GitLab sends its token in clear, the secret is the HMAC key of the other forges" }}
{{- end }}
{{- if and $v.ingress.enabled (not $v.webhook.enabled) }}
{{- fail "ingress.enabled exposes the webhooks: set webhook.enabled too" }}
{{- end }}
{{- if and $v.api.token.enabled (not (or $v.api.token.existingSecret $v.api.token.value)) }}
{{- fail "api.token.enabled needs api.token.existingSecret or api.token.value (the bearer token)" }}
{{- end }}
{{- if and $v.ingress.enabled (not $v.ingress.host) }}
{{- fail "ingress.host is required when ingress.enabled" }}
{{- end }}
{{- end }}
{{- if and (or $v.remote.rbacOnly $v.regions.inClusterContext) (not $v.cassandra.namespaces) }}
{{- fail "cassandra.namespaces is empty: list the namespaces of the Cassandra clusters" }}
{{- end }}
{{- end }}

{{- define "ringops.validateGit" -}}
{{- $a := .Values.git.auth }}
{{- $url := .Values.git.url }}
{{- if and (eq $a.method "ssh") (not (hasPrefix "ssh://" $url)) }}
{{- fail "git.auth.method ssh needs an ssh:// git.url (ssh://git@host:22/owner/repo.git)" }}
{{- end }}
{{- if and (eq $a.method "token") (not (hasPrefix "https://" $url)) }}
{{- fail "git.auth.method token needs an https:// git.url: a token is never sent over plain http" }}
{{- end }}
{{- if eq $a.method "ssh" }}
{{- if not (include "ringops.hasGitFile" (list . "identity")) }}
{{- fail "git.auth.method ssh needs the SSH key: git.auth.sshPrivateKey, or git.auth.existingSecret with git.auth.keys.sshPrivateKey" }}
{{- end }}
{{- if not (include "ringops.hasGitFile" (list . "known_hosts")) }}
{{- fail "git.auth.method ssh needs known_hosts (it is mandatory): git.auth.knownHosts, or git.auth.existingSecret with git.auth.keys.knownHosts" }}
{{- end }}
{{- end }}
{{- if and (eq $a.method "token") (not (include "ringops.hasGitFile" (list . "token"))) }}
{{- fail "git.auth.method token needs the token: git.auth.token, or git.auth.existingSecret with git.auth.keys.token" }}
{{- end }}
{{- end }}

{{/* The rules ringops needs in each Cassandra namespace (README: RBAC). */}}
{{- define "ringops.cassandraRules" -}}
# Server-side apply of the rendered objects, and prune of those that left the
# desired state (labelled app.kubernetes.io/managed-by=ringops).
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["services", "configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# Observe pods; delete a pod that is down during a restart.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "delete"]
{{- if .Values.cassandra.adoptFromCassKop }}
# Adoption in place of clusters CassKop ran (cassandra.adoptFromCassKop):
# list Deployments, to refuse while CassKop's operator runs; patch pods, to
# add ringops' labels to the running pods without a restart.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["patch"]
{{- end }}
# The NetworkPolicy <cluster>-jolokia of the agent port (rendered unless
# spec.jolokia.networkPolicy.enabled is false): apply and prune.
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
{{- if .Values.cassandra.storage.deleteOnDecommission }}
# Annotate, expand, and delete after decommission
# (spec.storage.deleteOnDecommission).
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "patch", "delete"]
{{- else }}
# Annotate and expand (no delete: cassandra.storage.deleteOnDecommission is
# false).
- apiGroups: [""]
  resources: ["persistentvolumeclaims"]
  verbs: ["get", "list", "watch", "patch"]
{{- end }}
{{- with .Values.cassandra.jolokia.credentialsSecrets }}
# Jolokia credentials (spec.jolokia.credentialsSecret) and CAs: these
# Secrets only.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
  resourceNames: {{ toJson (sortAlpha (uniq .)) }}
{{- end }}
{{- if .Values.cassandra.jolokia.keepCredentials }}
# The agents' credentials ringops keeps (<cluster>-jolokia, labelled
# ringops.dev/credentials): created by server-side apply (create cannot be
# limited by name), read, rotated (patch).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create"]
{{- with .Values.cassandra.clusters }}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "patch"]
  resourceNames: {{ $names := list }}{{ range sortAlpha (uniq .) }}{{ $names = append $names (printf "%s-jolokia" .) }}{{ end }}{{ toJson $names }}
{{- else }}
# cassandra.clusters is empty: every Secret of the namespace (RBAC cannot
# select by label); list the clusters to narrow it to their Secrets.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "patch"]
{{- end }}
{{- end }}
{{- if eq .Values.cassandra.jolokia.via "proxy" }}
# Jolokia through the API server's pod proxy (a bulk read is a POST: create).
- apiGroups: [""]
  resources: ["pods/proxy"]
  verbs: ["get", "create"]
{{- end }}
{{- with .Values.rbac.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The RINGOPS_GIT_* variables of sources/git AuthFromEnv: file paths under
/etc/ringops/git for the secrets, plain values for the rest.
*/}}
{{- define "ringops.gitEnv" -}}
{{- $a := .Values.git.auth }}
{{- $vars := dict "identity" "RINGOPS_GIT_SSH_KEY_FILE" "passphrase" "RINGOPS_GIT_SSH_KEY_PASSPHRASE_FILE" "known_hosts" "RINGOPS_GIT_KNOWN_HOSTS_FILE" "token" "RINGOPS_GIT_TOKEN_FILE" "ca.crt" "RINGOPS_GIT_CA_FILE" }}
{{- range splitList "\n" (include "ringops.gitFiles" .) }}
{{- if . }}
{{- $file := last (splitList "=" .) }}
- name: {{ get $vars $file }}
  value: /etc/ringops/git/{{ $file }}
{{- end }}
{{- end }}
{{- if eq $a.method "token" }}
{{- with $a.username }}
- name: RINGOPS_GIT_USERNAME
  value: {{ . | quote }}
{{- end }}
{{- if $a.bearer }}
- name: RINGOPS_GIT_BEARER
  value: "true"
{{- end }}
{{- end }}
{{- end }}
