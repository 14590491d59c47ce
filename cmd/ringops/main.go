// Command ringops runs multi-region Apache Cassandra on Kubernetes from a Git
// repository. See the README for the repository format and the commands.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}
