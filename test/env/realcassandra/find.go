package realcassandra

import (
	"context"

	"github.com/ringops/ringops/test/tools/toolcache"
)

// tool is the cached Cassandra of test/tools/cassandra/build.sh.
var tool = toolcache.Tool{
	Name:   "cassandra",
	Env:    "RINGOPS_CASSANDRA_DIR",
	Script: "test/tools/cassandra/build.sh",
	Files:  []string{"lib/.complete", "conf/cassandra.yaml", "jolokia/jolokia-agent.jar"},
}

// Find returns the Cassandra directory: $RINGOPS_CASSANDRA_DIR, else the
// cache filled by test/tools/cassandra/build.sh (run when needed: about 70
// MB from Maven Central the first time).
func Find(ctx context.Context) (string, error) { return tool.Dir(ctx) }
