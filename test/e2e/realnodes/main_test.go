package realnodes

import (
	"testing"

	"github.com/ringops/ringops/test/e2e/harness"
)

func TestMain(m *testing.M) {
	harness.Main(m, realWorlds)
}
