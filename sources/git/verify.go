package git

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"golang.org/x/crypto/ssh"
)

const (
	pgpSignatureHeader = "-----BEGIN PGP SIGNATURE-----"
	sshSignatureHeader = "-----BEGIN SSH SIGNATURE-----"
	pgpKeyHeader       = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
)

// verifier checks commit signatures against the trusted keys.
type verifier struct {
	pgp openpgp.EntityList
	ssh map[string]ssh.PublicKey // by wire encoding
}

// newVerifier loads the trusted keys of opts.
func newVerifier(opts *VerifyOptions) (*verifier, error) {
	v := &verifier{ssh: map[string]ssh.PublicKey{}}
	for _, file := range opts.KeyFiles {
		if err := v.load(file); err != nil {
			return nil, fmt.Errorf("verify key file %s: %w", file, err)
		}
	}
	if len(v.pgp) == 0 && len(v.ssh) == 0 {
		return nil, errors.New("verify: no trusted keys (set KeyFiles)")
	}
	return v, nil
}

func (v *verifier) load(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte(pgpKeyHeader)) {
		keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("OpenPGP key block: %w", err)
		}
		v.pgp = append(v.pgp, keys...)
		return nil
	}
	for rest, n := b, 0; len(bytes.TrimSpace(rest)) > 0; n++ {
		key, _, _, next, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			if n == 0 {
				return fmt.Errorf("neither an OpenPGP key block nor SSH public keys: %w", err)
			}
			return fmt.Errorf("SSH public key %d: %w", n+1, err)
		}
		v.ssh[string(key.Marshal())] = key
		rest = next
	}
	return nil
}

// verify checks the signature of a raw commit object and returns who
// signed it ("openpgp:<key id>" or "ssh:SHA256:..."), or a refusal.
func (v *verifier) verify(rawCommit []byte) (string, error) {
	payload, sigs := splitSignature(rawCommit)
	switch {
	case len(sigs) == 0:
		return "", ErrUnsigned
	case len(sigs) > 1:
		return "", fmt.Errorf("%w: %d signatures, expected one", ErrBadSignature, len(sigs))
	case strings.HasPrefix(sigs[0], pgpSignatureHeader):
		return v.verifyPGP(payload, sigs[0])
	case strings.HasPrefix(sigs[0], sshSignatureHeader):
		return v.verifySSH(payload, sigs[0])
	}
	return "", fmt.Errorf("%w: unsupported signature format (only OpenPGP and SSH)", ErrBadSignature)
}

func (v *verifier) verifyPGP(payload []byte, sig string) (string, error) {
	entity, err := openpgp.CheckArmoredDetachedSignature(v.pgp, bytes.NewReader(payload), strings.NewReader(sig), nil)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return "", fmt.Errorf("%w: OpenPGP key %s", ErrUnknownSigner, pgpIssuer(sig))
	case err != nil:
		return "", fmt.Errorf("%w: OpenPGP: %w", ErrBadSignature, err)
	}
	return "openpgp:" + entity.PrimaryKey.KeyIdString(), nil
}

// pgpIssuer returns the issuer key ID of an armored signature, for messages.
func pgpIssuer(sig string) string {
	block, err := armor.Decode(strings.NewReader(sig))
	if err != nil {
		return "(unreadable)"
	}
	p, err := packet.Read(block.Body)
	if s, ok := p.(*packet.Signature); err == nil && ok && s.IssuerKeyId != nil {
		return fmt.Sprintf("%016X", *s.IssuerKeyId)
	}
	return "(no issuer)"
}

// splitSignature separates a raw commit object into the signed payload (the
// object without its gpgsig headers, exactly what git signs) and the
// signatures found in those headers.
func splitSignature(raw []byte) ([]byte, []string) {
	var payload bytes.Buffer
	var sigs []*strings.Builder
	var cur *strings.Builder
	header := true
	for rest := raw; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		switch {
		case !header:
		case len(bytes.TrimSuffix(line, []byte("\n"))) == 0:
			header = false
		case cur != nil && line[0] == ' ':
			cur.Write(line[1:])
			continue
		case bytes.HasPrefix(line, []byte("gpgsig ")) || bytes.HasPrefix(line, []byte("gpgsig-sha256 ")):
			_, value, _ := bytes.Cut(line, []byte(" "))
			cur = &strings.Builder{}
			cur.Write(value)
			sigs = append(sigs, cur)
			continue
		default:
			cur = nil
		}
		payload.Write(line)
	}
	out := make([]string, len(sigs))
	for i, b := range sigs {
		out[i] = b.String()
	}
	return payload.Bytes(), out
}
