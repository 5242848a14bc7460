package cert

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
)

// Role is what a TEST key is for; it decides the sizes allowed.
type Role int

const (
	// RoleOEM keys sign SLIC Windows markers. The SLIC public key structure holds a 128-byte modulus,
	// so an OEM key is RSA-1024 and nothing else.
	RoleOEM Role = iota
	// RoleAuthority keys play Microsoft's role: they sign OEM certificates.
	RoleAuthority
)

func (r Role) String() string {
	if r == RoleAuthority {
		return "authority"
	}
	return "OEM"
}

// OEMKeyBits is the only OEM key size: the SLIC's public key structure is fixed at 1024 bits
// (DESIGN.md, SLIC layout: BitLength u32 = 1024, Modulus[128]).
const OEMKeyBits = 1024

// AuthorityKeyBits are the authority key sizes allowed; the first is the default.
var AuthorityKeyBits = []int{2048, 3072, 4096}

// CheckKeySize says whether bits is an allowed size for a role, and why not.
func CheckKeySize(r Role, bits int) error {
	if r == RoleOEM {
		if bits != OEMKeyBits {
			return fmt.Errorf("%w: OEM key is RSA-%d, want RSA-%d (the SLIC holds a 1024-bit modulus)", ErrKeySize, bits, OEMKeyBits)
		}
		return nil
	}
	for _, b := range AuthorityKeyBits {
		if bits == b {
			return nil
		}
	}
	return fmt.Errorf("%w: authority key is RSA-%d, want RSA-2048, 3072 or 4096", ErrKeySize, bits)
}

// checkPublicKey checks a key's size for its role and an exponent a SLIC can hold (u32, odd, > 1).
func checkPublicKey(r Role, pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return fmt.Errorf("%w: no %s key", ErrKeySize, r)
	}
	if err := CheckKeySize(r, pub.N.BitLen()); err != nil {
		return err
	}
	if pub.E < 3 || pub.E%2 == 0 || int64(pub.E) > 0xFFFFFFFF {
		return fmt.Errorf("%w: %s key exponent %d must be odd, at least 3 and fit in 32 bits", ErrKeySize, r, pub.E)
	}
	return nil
}

// GenerateKey makes a new TEST key for a role. bits 0 means the role's default size.
func GenerateKey(r Role, bits int) (*rsa.PrivateKey, error) {
	if bits == 0 {
		bits = OEMKeyBits
		if r == RoleAuthority {
			bits = AuthorityKeyBits[0]
		}
	}
	if err := CheckKeySize(r, bits); err != nil {
		return nil, err
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// Fingerprint identifies a public key: hex SHA-256 of its PKIX (SubjectPublicKeyInfo) DER form,
// the same bytes `openssl pkey -pubout -outform DER | sha256sum` hashes.
func Fingerprint(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "invalid-key"
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// testLabelLine marks a PEM file as a TEST key. It is written as text before the PEM block, where
// PEM readers (Go's encoding/pem, OpenSSL) skip it; OpenSSL rejects headers inside the block.
const testLabelLine = "TEST ONLY: oemact TEST key"

// EncodePrivateKeyPEM writes a key as PKCS#8 PEM, preceded by lines that label it TEST and say
// what it is for. note, when not empty, is added as one more line (for example how it was made).
func EncodePrivateKeyPEM(key *rsa.PrivateKey, r Role, note string) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s (%s, RSA-%d). Not a Microsoft or OEM key; nothing signed with it is genuine.\n",
		testLabelLine, roleUse(r), key.N.BitLen())
	fmt.Fprintf(&b, "Public key SHA-256 (PKIX DER): %s\n", Fingerprint(&key.PublicKey))
	if note = strings.TrimSpace(note); note != "" {
		for _, line := range strings.Split(note, "\n") {
			fmt.Fprintln(&b, strings.TrimSpace(line))
		}
	}
	if err := pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// EncodePublicKeyPEM writes a public key as PKIX PEM, labelled TEST like EncodePrivateKeyPEM.
func EncodePublicKeyPEM(pub *rsa.PublicKey, r Role) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s (%s public key, RSA-%d).\n", testLabelLine, roleUse(r), pub.N.BitLen())
	fmt.Fprintf(&b, "Public key SHA-256 (PKIX DER): %s\n", Fingerprint(pub))
	if err := pem.Encode(&b, &pem.Block{Type: "PUBLIC KEY", Bytes: der}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func roleUse(r Role) string {
	if r == RoleAuthority {
		return "authority: signs OEM certificates in Microsoft's role"
	}
	return "OEM: signs SLIC Windows markers"
}

// IsTestLabelled reports whether a PEM file carries the TEST label that EncodePrivateKeyPEM writes.
func IsTestLabelled(pemBytes []byte) bool {
	i := bytes.Index(pemBytes, []byte("-----BEGIN "))
	if i < 0 {
		return false
	}
	return bytes.Contains(pemBytes[:i], []byte(testLabelLine))
}

// ParsePrivateKeyPEM reads an RSA private key from PEM (PKCS#8 "PRIVATE KEY" or PKCS#1
// "RSA PRIVATE KEY"). name is used in errors.
func ParsePrivateKeyPEM(b []byte, name string) (*rsa.PrivateKey, error) {
	block, err := firstBlock(b, name)
	if err != nil {
		return nil, err
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: PKCS#8 private key: %w", name, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%s: private key is %T, want RSA", name, k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: PKCS#1 private key: %w", name, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%s: PEM block %q is not a private key (make one with: oemact keygen)", name, block.Type)
}

// ParsePublicKeyPEM reads an RSA public key from PEM: a public key ("PUBLIC KEY", "RSA PUBLIC
// KEY") or a private key, whose public half is returned.
func ParsePublicKeyPEM(b []byte, name string) (*rsa.PublicKey, error) {
	block, err := firstBlock(b, name)
	if err != nil {
		return nil, err
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: public key: %w", name, err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%s: public key is %T, want RSA", name, k)
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: PKCS#1 public key: %w", name, err)
		}
		return k, nil
	}
	k, err := ParsePrivateKeyPEM(b, name)
	if err != nil {
		return nil, err
	}
	return &k.PublicKey, nil
}

func firstBlock(b []byte, name string) (*pem.Block, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block found (want a key written by oemact keygen)", name)
	}
	return block, nil
}

// LoadPrivateKey reads a PEM private key file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, err
	}
	return ParsePrivateKeyPEM(b, path)
}

// LoadPublicKey reads a PEM public or private key file and returns the public key.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := fileio.ReadFile(path, fileio.YAMLLimit)
	if err != nil {
		return nil, err
	}
	return ParsePublicKeyPEM(b, path)
}
