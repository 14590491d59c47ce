package forgetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
)

// Scenario drives a client through the conversation of one contract.
type Scenario func(t *testing.T, c forge.Client)

// PostOnce posts s directly; class nil expects success, else an error
// matching class whose text contains message.
func PostOnce(s forge.Status, class error, message string) Scenario {
	return func(t *testing.T, c forge.Client) {
		err := c.Post(context.Background(), s)
		if class == nil {
			require.NoError(t, err)
			return
		}
		require.ErrorIs(t, err, class)
		assert.ErrorContains(t, err, message)
	}
}

// Queued reports the first status through a Queue, checks each wait the
// Queue takes (what the forge asked for: a reset, Retry-After, a backoff)
// before it is posted, then reports the others one by one. Nothing may be
// dropped.
func Queued(waits []time.Duration, statuses ...forge.Status) Scenario {
	return func(t *testing.T, c forge.Client) {
		q, clock := StartQueue(t, c, nil)
		Report(t, q, statuses[0])
		for _, w := range waits {
			assert.Equal(t, w, clock.NextTimer(t), "the wait the forge asked for")
			clock.Advance(w)
		}
		Flush(t, q)
		for _, s := range statuses[1:] {
			Report(t, q, s)
			Flush(t, q)
		}
		st := q.Stats()
		assert.Zero(t, st.Dropped, "dropped: %v", st.LastError)
	}
}

// RunContracts plays every contract file of dir against a client made by
// newClient for the contract's server, through the scenario of the same
// name; a contract without a scenario, or a scenario without a contract,
// fails the test.
func RunContracts(t *testing.T, dir string, scenarios map[string]Scenario,
	newClient func(t *testing.T, name, serverURL string) forge.Client) {
	files := ContractFiles(t, dir)
	names := map[string]bool{}
	for _, file := range files {
		name := filepath.Base(file)
		names[name] = true
		t.Run(name, func(t *testing.T) {
			run, ok := scenarios[name]
			require.True(t, ok, "no scenario for %s", name)
			srv := Serve(t, LoadContract(t, file))
			run(t, newClient(t, name, srv.URL))
		})
	}
	for name := range scenarios {
		assert.True(t, names[name], "scenario %s has no contract file in %s", name, dir)
	}
}
