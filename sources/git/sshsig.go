package git

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// The SSH signature format (OpenSSH PROTOCOL.sshsig), as written by
// `git -c gpg.format=ssh commit -S`: an armored blob holding the signer's
// public key, a namespace ("git" for commits), a hash algorithm and an SSH
// signature over a preamble that includes the hash of the message.
const (
	sshsigMagic     = "SSHSIG"
	sshsigVersion   = 1
	sshsigNamespace = "git"
	sshSignatureEnd = "-----END SSH SIGNATURE-----"
)

// sshsigBlob is the armored blob after the magic preamble.
type sshsigBlob struct {
	Version       uint32
	PublicKey     []byte
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Signature     []byte
}

// sshsigSigned is what the signature covers, after the magic preamble.
type sshsigSigned struct {
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Hash          []byte
}

// sshSignature is an SSH signature on the wire; Rest carries the flags and
// counter of security-key (sk-*) signatures.
type sshSignature struct {
	Format string
	Blob   []byte
	Rest   []byte `ssh:"rest"`
}

func (v *verifier) verifySSH(payload []byte, armored string) (string, error) {
	blob, err := decodeSSHSig(armored)
	if err != nil {
		return "", fmt.Errorf("%w: SSH: %w", ErrBadSignature, err)
	}
	pub, err := ssh.ParsePublicKey(blob.PublicKey)
	if err != nil {
		return "", fmt.Errorf("%w: SSH: public key: %w", ErrBadSignature, err)
	}
	signer := "ssh:" + ssh.FingerprintSHA256(pub)
	if _, ok := v.ssh[string(pub.Marshal())]; !ok {
		return "", fmt.Errorf("%w: SSH key %s %s", ErrUnknownSigner, pub.Type(), ssh.FingerprintSHA256(pub))
	}
	if err := checkSSHSig(pub, blob, payload); err != nil {
		return "", fmt.Errorf("%w: SSH key %s: %w", ErrBadSignature, ssh.FingerprintSHA256(pub), err)
	}
	return signer, nil
}

// decodeSSHSig parses the armored signature and checks version and namespace.
func decodeSSHSig(armored string) (*sshsigBlob, error) {
	body, ok := strings.CutPrefix(strings.TrimSpace(armored), sshSignatureHeader)
	if !ok {
		return nil, errors.New("no SSH signature header")
	}
	body, _, ok = strings.Cut(body, sshSignatureEnd)
	if !ok {
		return nil, errors.New("no SSH signature end line")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	rest, ok := strings.CutPrefix(string(raw), sshsigMagic)
	if !ok {
		return nil, errors.New("no SSHSIG preamble")
	}
	var blob sshsigBlob
	if err := ssh.Unmarshal([]byte(rest), &blob); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	switch {
	case blob.Version != sshsigVersion:
		return nil, fmt.Errorf("version %d, want %d", blob.Version, sshsigVersion)
	case blob.Namespace != sshsigNamespace:
		return nil, fmt.Errorf("namespace %q, want %q", blob.Namespace, sshsigNamespace)
	}
	return &blob, nil
}

// checkSSHSig verifies blob's signature over message with pub.
func checkSSHSig(pub ssh.PublicKey, blob *sshsigBlob, message []byte) error {
	var digest []byte
	switch blob.HashAlgorithm {
	case "sha512":
		d := sha512.Sum512(message)
		digest = d[:]
	case "sha256":
		d := sha256.Sum256(message)
		digest = d[:]
	default:
		return fmt.Errorf("hash algorithm %q not supported", blob.HashAlgorithm)
	}
	var sig sshSignature
	if err := ssh.Unmarshal(blob.Signature, &sig); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	if sig.Format == ssh.KeyAlgoRSA {
		return errors.New("RSA signatures with SHA-1 are refused")
	}
	signed := append([]byte(sshsigMagic), ssh.Marshal(sshsigSigned{
		Namespace: blob.Namespace, Reserved: blob.Reserved, HashAlgorithm: blob.HashAlgorithm, Hash: digest,
	})...)
	return pub.Verify(signed, &ssh.Signature{Format: sig.Format, Blob: sig.Blob, Rest: sig.Rest})
}
