// Package cassandra finds the cached Apache Cassandra 5.0 and the Jolokia
// 2.x JVM agent that test/tools/cassandra/build.sh resolves from Maven
// Central. Test-only: the real nodes of test/env (realcassandra) and the
// real-agent conformance tests use it.
package cassandra

import (
	"context"
	"path/filepath"

	"github.com/ringops/ringops/test/tools/toolcache"
)

// tool is the cached Cassandra of build.sh.
var tool = toolcache.Tool{
	Name:   "cassandra",
	Env:    "RINGOPS_CASSANDRA_DIR",
	Script: "test/tools/cassandra/build.sh",
	Files:  []string{"lib/.complete", "conf/cassandra.yaml", "jolokia/jolokia-agent.jar"},
}

// Find returns the Cassandra directory: $RINGOPS_CASSANDRA_DIR, else the
// cache filled by build.sh (run when needed: about 70 MB from Maven Central
// the first time).
func Find(ctx context.Context) (string, error) { return tool.Dir(ctx) }

// AgentJar is the Jolokia JVM agent's jar in the directory Find returns.
func AgentJar(dir string) string { return filepath.Join(dir, "jolokia", "jolokia-agent.jar") }
