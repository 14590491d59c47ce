// Package jolokia is the Jolokia client of reconciler/ring: it reads a
// node's view of the ring (ring.View) and runs the long node operations.
// It is an edge: it speaks HTTP, to the agents directly or through the API
// server's pod proxy (client-go rest). The model it feeds (ring.Snapshot,
// ring.Assess) is in reconciler/ring, which imports nothing of it.
//
// # Jolokia
//
// Client reads a node's view in one bulk POST: StorageService's LiveNodes,
// UnreachableNodes, JoiningNodes, LeavingNodes, MovingNodes, OperationMode,
// EndpointToHostId, SchemaVersion, NativeTransportRunning and
// ReleaseVersion (one multi-attribute read), and StorageService's LoadMap
// (optional: its failure leaves the load empty). Each attribute exists in
// Cassandra 3.11, 4.0, 4.1 and 5.0 (the agent fails a multi-attribute read
// naming a missing one as a whole: 5.0 has no HostIdMap) and is answered
// from the node's own state: nothing makes it ask its peers
// (StorageProxy.SchemaVersions is a cluster-wide request that blocks up to
// request_timeout, and a DECOMMISSIONED node never answers it). ring.Assess
// compares the nodes' own schema versions, and counts a NORMAL node whose
// native transport does not run as not serving (NotServing): Cassandra
// turns NORMAL seconds before it serves CQL. Both the HTTP status and each
// request's status inside the answer are checked. Every call has a timeout (Options.Timeout) and a size
// limit (Options.MaxResponseBytes). Failures are typed: ErrTimeout,
// ErrUnauthorized (HTTP 401), *HTTPError, *RequestError (a per-request
// 404/403/500 in an HTTP 200 answer), ErrMalformed and *ValueError (HTML,
// truncated JSON, a value of the wrong type), ErrTooLarge, ErrNoAddress;
// each wrapped in a *NodeError naming the node. Endpoints in any of
// Cassandra's forms ("10.0.0.1", "/10.0.0.1", "host/10.0.0.1",
// "10.0.0.1:7000") are normalised to the bare IP.
//
// A Router says how a node's agent is reached: Direct (http://<pod IP>:<port>/jolokia/,
// with optional basic auth per kube context) or PodProxy (through each
// region's API server, /api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/jolokia/).
// Credentials never appear in errors or logs: they print as "user:***".
//
// # Long operations
//
// Operations starts the long operations of a rollout, fire-and-forget:
// each reads the node, sends one call bounded by a short ExecTimeout (the
// Jolokia JVM agent serves one request at a time by default, so a call
// held open for a whole decommission would starve every read of the node)
// and returns. No answer in time is no failure; the caller follows the
// operation from the ring and from ReadProgress (StreamManager streams,
// CompactionManager compactions, the OldVersionSSTableCount gauge).
//
//	Decommission     NORMAL ──decommission() (<4.0) / decommission(boolean)──▶ LEAVING
//	                 LEAVING (3.10+, 4.x), DECOMMISSION_FAILED (5.0) ──sent again──▶ LEAVING
//	ResumeBootstrap  JOINING (4.x), JOINING_FAILED (5.0) ──resumeBootstrap()──▶ streams
//	UpgradeSSTables  NORMAL ──upgradeSSTables(ks, true, jobs, []) per keyspace──▶ rewrites
//	RemoveNode       via a NORMAL node, a dead host ID ──removeNode(hostID)──▶ the dead node
//	                 leaving in every view while its data re-replicates, then gone
//	Cleanup          NORMAL ──forceKeyspaceCleanup(jobs, ks, []) per non-local keyspace──▶
//	                 "Cleanup" compactions (Progress.CleaningUp); one reusable action, for
//	                 the growth of a datacenter (every keyspace) and for a lower replication
//	                 factor (its keyspaces) alike
//	Rebuild          NORMAL ──rebuild(src, ks, null, null) per keyspace──▶ "Rebuild" streams
//	                 (Progress.Tasks); a new datacenter's nodes, or keyspaces it gains (#15)
//
// Downtime asks a live node's Gossiper how long an endpoint has been down.
//
// Neither ever starts while the node's view has another node joining,
// leaving, moving or down (ErrRingBusy), and at most one is being sent per
// cluster at a time.
package jolokia
