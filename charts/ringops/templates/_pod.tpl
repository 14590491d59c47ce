{{- /*
The daemon's pod, shared by the Deployment (shards: 1) and the StatefulSet
(shards > 1). Its contract (arguments, files, variables, port, Leases) is
README.md, "What the daemon is given". Included verbatim, at its own
indentation, under a workload's "  template:".
*/}}
{{- define "ringops.podTemplate" -}}
{{- $fullname := include "ringops.fullname" . }}
{{- $hasKubeconfig := include "ringops.hasKubeconfig" . }}
{{- $gitFiles := include "ringops.gitFiles" . }}
    metadata:
      labels:
        {{- include "ringops.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # Inline credentials changed: roll the pods (existing Secrets are
        # re-read by the daemon itself).
        checksum/secrets: {{ include (print $.Template.BasePath "/secrets.yaml") . | sha256sum }}
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "ringops.serviceAccountName" . }}
      # The in-cluster region and leader election use the pod's own token.
      automountServiceAccountToken: true
      enableServiceLinks: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
      containers:
        - name: ringops
          image: {{ include "ringops.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          command: ["ringops"]
          args:
            - run
            - --repo={{ .Values.git.url }}
            - --branch={{ .Values.git.branch }}
            - --path={{ .Values.git.path }}
            - --interval={{ .Values.git.interval }}
            - --http-address=:8080
            - --api-address=:{{ .Values.api.port }}
            - --log-format=json
            {{- if $hasKubeconfig }}
            - --kubeconfig=/etc/ringops/kubeconfig/kubeconfig
            {{- end }}
            {{- with .Values.regions.inClusterContext }}
            - --in-cluster-context={{ . }}
            {{- end }}
            - --via={{ .Values.cassandra.jolokia.via }}
            {{- if gt (int .Values.shards) 1 }}
            - --leader-elect=false
            - --shards={{ .Values.shards }}
            {{- else }}
            - --leader-elect={{ .Values.leaderElection.enabled }}
            {{- end }}
            - --leader-election-namespace={{ .Release.Namespace }}
            - --leader-election-id={{ include "ringops.leaseName" . }}
            {{- if .Values.forge.enabled }}
            {{- with .Values.forge.kind }}
            - --forge={{ . }}
            {{- end }}
            {{- with .Values.forge.apiURL }}
            - --forge-api-url={{ . }}
            {{- end }}
            {{- with .Values.forge.repository }}
            - --forge-repository={{ . }}
            {{- end }}
            {{- if .Values.forge.prValidation }}
            - --pr-validation
            {{- end }}
            {{- end }}
            {{- range .Values.extraArgs }}
            - {{ . | quote }}
            {{- end }}
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            {{- if (.Values.resources.limits).memory }}
            # The Go runtime keeps the heap under the memory limit.
            - name: GOMEMLIMIT
              valueFrom:
                resourceFieldRef:
                  resource: limits.memory
            {{- end }}
            {{- with include "ringops.gitEnv" . | trim }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- if .Values.forge.enabled }}
            - name: RINGOPS_FORGE_TOKEN_FILE
              value: /etc/ringops/forge/token
            {{- end }}
            {{- if .Values.webhook.enabled }}
            - name: RINGOPS_WEBHOOK_SECRET_FILE
              value: /etc/ringops/webhook/secret
            {{- if or .Values.webhook.gitlabTokenKey .Values.webhook.gitlabToken }}
            - name: RINGOPS_GITLAB_WEBHOOK_TOKEN_FILE
              value: /etc/ringops/webhook/gitlab-token
            {{- end }}
            {{- end }}
            {{- if .Values.api.token.enabled }}
            - name: RINGOPS_API_TOKEN_FILE
              value: /etc/ringops/api/token
            {{- end }}
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: 8080
              protocol: TCP
            - name: api
              containerPort: {{ .Values.api.port }}
              protocol: TCP
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ .Values.probes.startup.periodSeconds }}
            failureThreshold: {{ .Values.probes.startup.failureThreshold }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
            failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
            failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $hasKubeconfig }}
            - name: kubeconfig
              mountPath: /etc/ringops/kubeconfig
              readOnly: true
            {{- end }}
            {{- if $gitFiles }}
            - name: git
              mountPath: /etc/ringops/git
              readOnly: true
            {{- end }}
            {{- if .Values.forge.enabled }}
            - name: forge
              mountPath: /etc/ringops/forge
              readOnly: true
            {{- end }}
            {{- if .Values.webhook.enabled }}
            - name: webhook
              mountPath: /etc/ringops/webhook
              readOnly: true
            {{- end }}
            {{- if .Values.api.token.enabled }}
            - name: api-token
              mountPath: /etc/ringops/api
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ .Values.tmpSizeLimit }}
        {{- if $hasKubeconfig }}
        - name: kubeconfig
          secret:
            secretName: {{ include "ringops.kubeconfigSecretName" . }}
            defaultMode: 0440
            items:
              - key: {{ .Values.regions.kubeconfig.key }}
                path: kubeconfig
        {{- end }}
        {{- if $gitFiles }}
        - name: git
          secret:
            secretName: {{ include "ringops.gitSecretName" . }}
            defaultMode: 0440
            items:
              {{- range splitList "\n" $gitFiles }}
              {{- if . }}
              {{- $kv := splitList "=" . }}
              - key: {{ index $kv 0 }}
                path: {{ index $kv 1 }}
              {{- end }}
              {{- end }}
        {{- end }}
        {{- if .Values.forge.enabled }}
        - name: forge
          secret:
            secretName: {{ include "ringops.forgeSecretName" . }}
            defaultMode: 0440
            items:
              - key: {{ .Values.forge.tokenKey }}
                path: token
        {{- end }}
        {{- if .Values.webhook.enabled }}
        - name: webhook
          secret:
            secretName: {{ include "ringops.webhookSecretName" . }}
            defaultMode: 0440
            items:
              - key: {{ .Values.webhook.secretKey }}
                path: secret
              {{- if or .Values.webhook.gitlabTokenKey .Values.webhook.gitlabToken }}
              - key: {{ default "gitlab-token" .Values.webhook.gitlabTokenKey }}
                path: gitlab-token
              {{- end }}
        {{- end }}
        {{- if .Values.api.token.enabled }}
        - name: api-token
          secret:
            secretName: {{ include "ringops.apiSecretName" . }}
            defaultMode: 0440
            items:
              - key: {{ .Values.api.token.key }}
                path: token
        {{- end }}
      {{- if and (gt (int (include "ringops.replicas" .)) 1) .Values.topologySpread.enabled }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: {{ .Values.topologySpread.topologyKey }}
          whenUnsatisfiable: ScheduleAnyway
          matchLabelKeys: [{{ if gt (int .Values.shards) 1 }}"controller-revision-hash"{{ else }}"pod-template-hash"{{ end }}]
          labelSelector:
            matchLabels:
              {{- include "ringops.selectorLabels" . | nindent 14 }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
