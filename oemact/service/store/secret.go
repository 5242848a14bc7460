package store

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
)

// SecretPath is where the HMAC secret of a database lives: beside it, "<db>.hmac-secret".
func SecretPath(dbPath string) string { return dbPath + ".hmac-secret" }

// loadSecret reads the secret, or creates it (32 random bytes, hex, mode 0600) when create is
// true and the file does not exist.
func loadSecret(path string, create bool) ([]byte, bool, error) {
	b, err := fileio.ReadFile(path, 4<<10)
	if errors.Is(err, fs.ErrNotExist) && create {
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, false, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("creating the HMAC secret: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("writing the HMAC secret %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("writing the HMAC secret %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, false, err
		}
		return secret, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("HMAC secret: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("HMAC secret: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("HMAC secret %s is readable by others (mode %v): run chmod 600 on it", path, st.Mode().Perm())
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) < 16 {
		return nil, false, fmt.Errorf("HMAC secret %s: want at least 16 bytes in hex on one line", path)
	}
	return secret, false, nil
}

func mac(secret []byte, label string, data []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}
