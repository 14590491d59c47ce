// Package jolokia is the local world's Jolokia agent: the HTTP protocol of
// the Jolokia 1.7.1 JVM agent (the one Cassandra pods carry on port 8778,
// path /jolokia/) over an in-memory MBean registry. Test-only: the
// simulated Cassandra nodes of test/env serve their MBeans through it; the
// ringops binary never imports it.
//
// It owns:
//   - the MBean interfaces (MBean, Operation, Registry, JMXError, Described)
//     and MapRegistry, an in-memory MBean server;
//   - Handler, which answers exactly as the real agent: GET
//     (/read/<mbean>/<attr>[,<attr>][/<path>], /exec/<mbean>/<op>/<args>,
//     /search, /list, /write, /version, "!" escaping, ?p=) and POST (one
//     request or a bulk array answered in order); read of one, several or
//     all attributes and of MBean patterns; exec by name or signature with
//     the agent's argument conversion; its error statuses, error texts,
//     stack traces, request echoes, JSON formatting (json-simple escaping,
//     java.util.HashMap key order, Double.toString numbers), headers
//     (text/plain; charset=utf-8, no-cache, CORS) and chunked answers; the
//     JDK HTTP server's own 400/404 pages; basic auth as the agent's
//     authenticator on Java 11 (401 with WWW-Authenticate: Basic
//     realm="jolokia"; as a 2.x agent, with charset="UTF-8" added);
//   - the 2.6.0 agent's HTTPS (protocol=https): AgentTLS, read from the
//     agent's options (serverCert, serverKey, serverKeyAlgorithm, caCert,
//     useSslClientAuthentication) and refusing to start where the agent
//     does (ErrAgentStart), and NewAgentListener, which serves it as the
//     JDK's HttpsServer (TLS 1.2 and 1.3; a plain-HTTP client gets its
//     connection closed, no answer; a failed handshake closed with no
//     alert); held to the real 2.6.0 agent on Java 17 by
//     agent_real_test.go (the cached jar of test/tools/cassandra);
//   - Server, a Handler listening on one ip:port, with the faults the
//     simulator needs: a delay before every answer (SetDelay) and refused
//     connections (Stop, then Start again on the same address).
//
// How faithful it is, is not a matter of belief: conformance_test.go runs
// the real Jolokia 1.7.1 (Debian's libjolokia-core-java, wired by
// testdata/harness/Harness.java as the JVM agent wires it) next to the
// Handler, asks both the same questions and requires the same answers,
// field by field.
//
// Deliberate differences: the version answer never reports credentials,
// stack traces carry one simulated frame (their first line, the exception,
// is the agent's), and the JVM's own MBeans (java.lang:*) do not exist.
package jolokia
