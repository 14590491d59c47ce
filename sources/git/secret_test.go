package git

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("x", "secret", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %#v %+v", s, s, s, s, s, s), s.String(), log.String()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, hex.EncodeToString(s)) {
			t.Errorf("secret leaked: %q", out)
		}
	}
}
