package plan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/schemas"
)

func TestWindowOpen(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm
	}
	nightly := []schemas.Window{{Schedule: "0 1 * * *", Duration: "4h", TimeZone: "Europe/Paris"}}
	for _, tc := range []struct {
		name    string
		windows []schemas.Window
		now     string
		open    bool
		next    string
	}{
		{"no windows: always open", nil, "2026-03-02T12:00:00Z", true, ""},
		{"opens at 01:00 Paris (00:00 UTC)", nightly, "2026-03-02T00:00:00Z", true, ""},
		{"inside", nightly, "2026-03-02T03:59:59Z", true, ""},
		{"closes at 05:00 Paris", nightly, "2026-03-02T04:00:00Z", false, "2026-03-03T01:00:00+01:00"},
		{"just before", nightly, "2026-03-01T23:59:59Z", false, "2026-03-02T01:00:00+01:00"},
		{"summer time shifts UTC", nightly, "2026-07-01T23:30:00Z", true, ""},
		{"second window open", append([]schemas.Window{{Schedule: "@weekly", Duration: "1h"}}, nightly...), "2026-03-02T01:00:00Z", true, ""},
		{"earliest next of two", []schemas.Window{{Schedule: "0 12 * * *", Duration: "1h"}, {Schedule: "0 9 * * *", Duration: "1h"}},
			"2026-03-02T06:00:00Z", false, "2026-03-02T09:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, next, err := windowOpen(tc.windows, at(tc.now))
			require.NoError(t, err)
			require.Equal(t, tc.open, open)
			if tc.next == "" {
				require.True(t, next.IsZero(), "next: %s", next)
			} else {
				require.Equal(t, tc.next, next.Format(time.RFC3339))
			}
		})
	}
}

func TestWindowErrors(t *testing.T) {
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, w := range []schemas.Window{
		{Schedule: "not cron", Duration: "1h"},
		{Schedule: "@daily", Duration: "soon"},
		{Schedule: "@daily", Duration: "1h", TimeZone: "Mars/Olympus"},
	} {
		_, _, err := windowOpen([]schemas.Window{w}, now)
		require.Error(t, err, "%+v", w)
		require.Contains(t, err.Error(), "spec.rollout.windows[0]")
	}
}
