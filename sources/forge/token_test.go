package forge_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
)

const secretValue = "ghp_s3cretTokenValue"

func TestTokensNeverPrint(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(secretValue+"\n"), 0o600))
	t.Setenv("RINGOPS_TEST_FORGE_TOKEN", secretValue)

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	for _, src := range []forge.TokenSource{forge.TokenFile(file), forge.TokenEnv("RINGOPS_TEST_FORGE_TOKEN"), forge.StaticToken(secretValue)} {
		tok, err := src.Token()
		require.NoError(t, err)
		assert.Equal(t, secretValue, string(tok), "the token itself is read, trimmed")
		out := fmt.Sprintf("%v %s %+v %#v %q %v", tok, tok, tok, tok, tok, src) + fmt.Sprintf("%#v %v", src, src)
		log.Info("token", "token", tok, "source", src)
		assert.NotContains(t, out, secretValue)
	}
	assert.NotContains(t, logs.String(), secretValue)
}

func TestTokenErrorsSayWhereNotWhat(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	for _, src := range []forge.TokenSource{forge.TokenFile(empty), forge.TokenFile("/nonexistent/token"), forge.TokenEnv("RINGOPS_TEST_UNSET_VARIABLE"), forge.StaticToken(nil)} {
		_, err := src.Token()
		assert.ErrorIs(t, err, forge.ErrInvalidToken, "%v", src)
	}
}
