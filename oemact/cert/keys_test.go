package cert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrivateKeyPEMRoundTrip(t *testing.T) {
	k := keys().oem
	b, err := EncodePrivateKeyPEM(k, RoleOEM, "made by a test\nsecond line")
	require.NoError(t, err)
	s := string(b)
	assert.True(t, strings.HasPrefix(s, "TEST ONLY: oemact TEST key (OEM: signs SLIC Windows markers, RSA-1024)."), s)
	assert.Contains(t, s, "Public key SHA-256 (PKIX DER): "+Fingerprint(&k.PublicKey))
	assert.Contains(t, s, "made by a test\nsecond line\n-----BEGIN PRIVATE KEY-----")
	assert.True(t, IsTestLabelled(b))

	got, err := ParsePrivateKeyPEM(b, "oem.pem")
	require.NoError(t, err)
	assert.True(t, got.Equal(k))
	pub, err := ParsePublicKeyPEM(b, "oem.pem")
	require.NoError(t, err)
	assert.True(t, pub.Equal(&k.PublicKey))

	pb, err := EncodePublicKeyPEM(&k.PublicKey, RoleOEM)
	require.NoError(t, err)
	assert.True(t, IsTestLabelled(pb))
	pub, err = ParsePublicKeyPEM(pb, "oem.pub.pem")
	require.NoError(t, err)
	assert.True(t, pub.Equal(&k.PublicKey))
	_, err = ParsePrivateKeyPEM(pb, "oem.pub.pem")
	assert.ErrorContains(t, err, `oem.pub.pem: PEM block "PUBLIC KEY" is not a private key`)
}

// PKCS#1 files (openssl genrsa -traditional, older tools) are read too, but are not TEST-labelled.
func TestParsePKCS1(t *testing.T) {
	k := keys().oem
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	got, err := ParsePrivateKeyPEM(b, "k")
	require.NoError(t, err)
	assert.True(t, got.Equal(k))
	assert.False(t, IsTestLabelled(b))
	b = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)})
	pub, err := ParsePublicKeyPEM(b, "k")
	require.NoError(t, err)
	assert.True(t, pub.Equal(&k.PublicKey))
}

func TestParseKeyErrors(t *testing.T) {
	_, err := ParsePrivateKeyPEM([]byte("not a key"), "x.pem")
	assert.ErrorContains(t, err, "x.pem: no PEM block found")
	_, err = ParsePublicKeyPEM([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "x.pem")
	assert.ErrorContains(t, err, "x.pem: PKCS#8 private key")

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	_, err = ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), "ec.pem")
	assert.ErrorContains(t, err, "ec.pem: private key is *ecdsa.PrivateKey, want RSA")

	_, err = LoadPrivateKey(filepath.Join(t.TempDir(), "missing.pem"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// OpenSSL must read our files: the TEST label is text before the block, not a PEM header, which
// OpenSSL rejects. The fingerprint must be the one OpenSSL computes.
func TestOpenSSLReadsKeys(t *testing.T) {
	openssl := hosttooltest.Require(t, "openssl")
	k := keys().oem
	b, err := EncodePrivateKeyPEM(k, RoleOEM, "")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "oem.pem")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	out, err := exec.Command(openssl, "pkey", "-in", path, "-pubout", "-outform", "DER").Output()
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	assert.Equal(t, der, out)
}
