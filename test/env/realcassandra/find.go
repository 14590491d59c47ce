package realcassandra

import (
	"context"

	"github.com/ringops/ringops/test/tools/cassandra"
)

// Find returns the Cassandra directory: $RINGOPS_CASSANDRA_DIR, else the
// cache filled by test/tools/cassandra/build.sh (run when needed: about 70
// MB from Maven Central the first time).
func Find(ctx context.Context) (string, error) { return cassandra.Find(ctx) }
