package plan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ringops/ringops/schemas"
)

func TestWindowsSaysUntilWhenAndWhichIsNext(t *testing.T) {
	nightly := schemas.Window{Schedule: "0 1 * * *", Duration: "4h"}
	paris := schemas.Window{Schedule: "0 22 * * 5", Duration: "1h", TimeZone: "Europe/Paris"}
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }

	st := Windows([]schemas.Window{nightly}, at("2026-03-01T02:30:00Z"))
	assert.True(t, st.Open)
	assert.Equal(t, at("2026-03-01T05:00:00Z"), st.Until.UTC())

	st = Windows([]schemas.Window{paris, nightly}, at("2026-03-01T05:30:00Z"))
	assert.False(t, st.Open)
	assert.Equal(t, at("2026-03-02T01:00:00Z"), st.Next.UTC())
	assert.Equal(t, nightly, st.Window)

	st = Windows([]schemas.Window{{Schedule: "0 0 30 2 *", Duration: "1h"}}, at("2026-03-01T05:30:00Z"))
	assert.False(t, st.Open)
	assert.True(t, st.Next.IsZero(), "February 30th never comes")
}
