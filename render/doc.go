// Package render turns a validated, defaulted CassandraCluster and one kube
// context (region) into the Kubernetes objects to apply there. It is pure and
// deterministic: no cluster, no network, the same bytes for the same inputs.
//
// The base is generated in memory from typed k8s.io/api objects, then built
// with kustomize (krusty, on an in-memory filesystem) together with the
// region's Component from clusters/<name>/regions/<context>/ when the
// repository has one:
//
//	/kustomization.yaml     resources: [base], components: [regions/<context>]
//	/base/...               the generated objects
//	/regions/<context>/...  copied from the repository (regular files only)
//
// # Safety of region Components
//
// Only regular files are copied (a symlink is followed only to a regular
// file inside the repository), within Options' size and count limits.
// Every file of the Component, and every YAML string its kustomizations
// hold inline (patches), is parsed before kustomize sees it and its nodes
// counted with anchors and aliases expanded, within Options.MaxYAMLNodes
// and MaxMappingKeys per mapping (budget.go): kustomize would expand an
// alias bomb of a few hundred bytes to gigabytes, and its time grows with
// the square of a mapping's size. Every render has a deadline
// (Options.Timeout, ErrDeadline), the wait for the kustomize lock
// included; a build cannot be stopped, so one past its deadline finishes
// in the background and is dropped. With the schema's bounds on the spec
// (schemas.MaxRacks, ...) this bounds the time and memory of a render
// (BenchmarkRenderAtBounds); FuzzRenderComponent fuzzes it.
// Before the build every kustomization of the Component is inspected: the
// top one must be a kind: Component, and no reference may be remote (URL,
// git) or leave the Component's directory. Helm and plugins are disabled.
// kustomize runs under a process-wide lock (it is not safe for concurrent
// builds) and its panics become errors. After the build, a patch whose
// target selects nothing, a generated object removed or renamed, and a
// StatefulSet whose replicas changed are errors; the contract's labels are
// put back. What a Component may touch is decided in guard.go: it may add
// only objects of AllowedKinds in the cluster's namespace, no object may
// carry ownerReferences, and the protected fields of generated objects
// (selectors, the headless Service, update strategy, pod management,
// claim retention, claim names, the disruption budget, finalizers) keep
// their rendered values (ErrForbidden). Every error of a Component names
// its file (and field), as a
// *FileError wrapping one of the Err* sentinels.
//
// # What is rendered in a context
//
// For every datacenter whose context it is, and per rack, a StatefulSet
// <cluster>-<dc>-<rack> (serviceName <cluster>, OrderedReady, RollingUpdate,
// volumeClaimTemplate "data"); per datacenter a PodDisruptionBudget
// <cluster>-<dc> (maxUnavailable 1); once per context the headless Service
// <cluster> (publishNotReadyAddresses; every container port but the
// agent's, which nothing resolves through it), the ConfigMap
// <cluster>-config holding the configuration overrides and, unless
// spec.jolokia.networkPolicy.enabled is false, the NetworkPolicy
// <cluster>-jolokia: the agent port admits only
// spec.jolokia.networkPolicy.from (default: the pods labelled
// app.kubernetes.io/name=ringops of the namespace ringops, the chart's),
// the ports 9042, 7000 and 7001 admit every source as without a policy,
// and every other port of the pods is closed to the network (a
// Component's NetworkPolicy can open one; policies add up). A context
// with no datacenter is an error (ErrUnknownContext). Objects are sorted:
// ConfigMap, Service, PodDisruptionBudget, StatefulSet, then any other
// kind (the NetworkPolicy, what a Component added); then by namespace and
// name. Never rendered: the Secret <cluster>-jolokia (JolokiaSecretName),
// which the reconciler creates with random credentials when
// spec.jolokia.credentialsSecret is empty, labelled contract.LabelCredentials; a
// Component may not use that label.
//
// # The pod contract
//
// The simulated kubelet and Cassandra of test/env read pods exactly as a
// Cassandra image does, through this contract; keep both sides in step.
// The keys of its labels and annotations, with who writes and who reads
// each, are package internal/contract's.
//
//   - Container "cassandra" with ports cql 9042, intra-node 7000,
//     intra-node-tls 7001, jmx 7199, jolokia <spec.jolokia.port> (8778).
//   - Env CASSANDRA_CLUSTER_NAME, CASSANDRA_DC, CASSANDRA_RACK,
//     CASSANDRA_ENDPOINT_SNITCH=GossipingPropertyFileSnitch, and
//     CASSANDRA_SEEDS: comma-separated DNS names <pod>.<dnsDomain> (the
//     first DNS label is the pod name), never empty (the official image
//     then makes the node its own seed). Rendered, it is the target seeds
//     of every datacenter (Seeds); the planner writes into the live
//     StatefulSets the seeds that have joined the ring instead, so that no
//     node is in its own seed list before it has bootstrapped.
//     Also POD_IP (downward API), CASSANDRA_NUM_TOKENS when
//     config.cassandra-yaml.num_tokens is set, JVM_EXTRA_OPTS from
//     config.jvm-options (and the Jolokia agent), then spec.env; sorted by
//     name, the contract's variables winning over spec.env.
//   - The agents' credentials are the keys username and password of the
//     Secret JolokiaCredentials names: spec.jolokia.credentialsSecret, else
//     <cluster>-jolokia (which ringops keeps); none: no authentication.
//     Only with agentImage none (the image's own agent) are they in env,
//     JOLOKIA_USER and JOLOKIA_PASSWORD; the injected agent and the
//     readiness probe read them from the agent's options file, so no
//     process of the container sees them in its environment.
//   - The Jolokia agent, unless spec.jolokia.agentImage is none (default
//     ghcr.io/ringops/jolokia-agent:2.6.0, images/jolokia-agent): an init
//     container "jolokia-agent" of that image, which must hold the jar at
//     /jolokia/jolokia-agent.jar and a POSIX sh, copies it into the emptyDir
//     "jolokia-agent" (/opt/jolokia, read-only in the Cassandra container)
//     and writes there jolokia-agent.properties: host=0.0.0.0, the port,
//     executor=fixed with a few threads (the agent's default serves one
//     request at a time), discoveryEnabled=false and, with credentials, user
//     and password read from the Secret, mounted in that init container only
//     (volume "jolokia-credentials" at /etc/ringops/jolokia-credentials).
//     JVM_EXTRA_OPTS then ends with
//     -javaagent:/opt/jolokia/jolokia-agent.jar=config=/opt/jolokia/jolokia-agent.properties.
//     With spec.jolokia.tls, the Secret it names (volume "jolokia-tls" at
//     /etc/ringops/jolokia-tls, in the init container only) gives tls.crt
//     and tls.key, copied to /opt/jolokia, and the options add
//     protocol=https, serverCert, serverKey and serverKeyAlgorithm; a
//     second -javaagent, the same jar and options with
//     host=127.0.0.1,port=<port+1>,protocol=http, serves the readiness
//     probe (bash speaks no TLS) on the pod's loopback, with the same
//     credentials.
//   - Annotation ringops.dev/jolokia-rotate on pod templates: spec.jolokia.rotate,
//     so that a new token restarts the nodes (an agent reads its password
//     at start).
//   - Labels (on every object and pod): app.kubernetes.io/name=cassandra,
//     app.kubernetes.io/instance=<cluster>, app.kubernetes.io/managed-by=ringops,
//     ringops.dev/cluster=<cluster>; on per-datacenter objects and pods also
//     ringops.dev/datacenter=<dc>; on StatefulSets and pods ringops.dev/rack.
//   - Annotation ringops.dev/spec-hash on every object: the SHA-256 of the
//     object as rendered (its JSON, keys sorted), without that annotation
//     (and without metadata.annotations if it was the only one).
//   - Annotation ringops.dev/config-hash on pod templates: the SHA-256 of the
//     data of <cluster>-config, so that a configuration change rolls the
//     racks.
//   - Annotation ringops.dev/adopt: "true" on every object when spec.adopt
//     is set: the apply may take over a live object of the same name that
//     ringops did not create (reconciler/kube refuses it otherwise).
//   - Annotation ringops.dev/last-applied on <cluster>-config: the spec's
//     change basis (schemas.EncodeLastApplied), the clusters' record of
//     what was rolled out, read back by the engine's Prepare; put back
//     after a Component, like the contract's labels.
//   - The lost-volume gate (gate.go): the init container "config" has env
//     POD_NAME and RINGOPS_NODES (key <statefulset> of the ConfigMap
//     <cluster>-nodes, optional, which ringops writes and never renders),
//     mounts the data volume read-only at /var/lib/cassandra, and exits 1
//     on a new data volume of a pod whose node joined the ring before,
//     until ringops writes an instruction: replace=<ip> adds
//     -Dcassandra.replace_address_first_boot=<ip> to jvm-server.options
//     (jvm.options on 3.11), join=new lets a new node bootstrap.
//
// The pod's readiness probe reads the node's own StorageService OperationMode
// and NativeTransportRunning in one Jolokia read and is ready
// only when NORMAL and serving CQL (a joining node is not, nor a NORMAL one
// whose native transport has not started yet), with bash's /dev/tcp, the
// credentials of the agent's options file (of env with agentImage none);
// its liveness probe is a TCP check of the Jolokia port; its
// terminationMessagePolicy is FallbackToLogsOnError, so that why Cassandra
// refused to start (the end of its log) is the message of its last
// termination, which the planner shows with a pod that is not Ready. The init container "config" copies
// /etc/cassandra into an emptyDir, drops from cassandra.yaml the top-level
// keys the overrides set and appends the overrides.
//
// Seeds: at most spec.seedsPerDatacenter per datacenter, lowest ordinals
// first, spread over racks (ordinal 0 of every rack, then ordinal 1, ...),
// only among the nodes the spec asks for; datacenters in spec order. This
// is the target set; SeedsWhere applies the same rule to a subset (the
// planner's: the nodes that have joined).
//
// A Renderer remembers its last renders, keyed by their inputs (the spec,
// the context and the Component's files), so that a pass over many clusters
// only builds what changed.
package render
