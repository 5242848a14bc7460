package service

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/oemact/oemact/firmware/fileio"
	"github.com/oemact/oemact/oemact/service/api"
)

// MinTokenLen is the shortest token the service takes, wherever it comes from.
const MinTokenLen = 16

// EnvAdminToken is where the admin token is read from when no token file is given.
const EnvAdminToken = "OEMACT_ADMIN_TOKEN"

// maxTokenFile bounds a token file: a token is one line.
const maxTokenFile = 4 << 10

// CheckToken applies the one rule for tokens; source names where the token came from.
func CheckToken(source, tok string) error {
	if len(tok) < MinTokenLen {
		return fmt.Errorf("%s: the token has %d characters; use at least %d", source, len(tok), MinTokenLen)
	}
	return nil
}

// ReadTokenFile reads a token from a regular file that only its owner may read, trimmed of
// surrounding white space, and checks it.
func ReadTokenFile(path string) (string, error) {
	f, st, err := fileio.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %v): run chmod 600 on it", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("%s: more than %d bytes; a token file holds one line", path, maxTokenFile)
	}
	tok := strings.TrimSpace(string(b))
	return tok, CheckToken(path, tok)
}

// AdminToken reads the admin token from file when one is given, else from $OEMACT_ADMIN_TOKEN
// (through getenv); "" means none. Both follow the same rule.
func AdminToken(file string, getenv func(string) string) (string, error) {
	if file != "" {
		return ReadTokenFile(file)
	}
	tok := strings.TrimSpace(getenv(EnvAdminToken))
	if tok == "" {
		return "", nil
	}
	return tok, CheckToken("$"+EnvAdminToken, tok)
}

// checkTokens refuses a configuration whose tokens break the rule.
func (c *Config) checkTokens() error {
	var errs []error
	if c.AdminToken != "" {
		errs = append(errs, CheckToken("admin token", c.AdminToken))
	}
	if c.Token != "" {
		errs = append(errs, CheckToken("token", c.Token))
	}
	return errors.Join(errs...)
}

// bearer is the request's bearer token, if any.
func bearer(r *http.Request) (string, bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func tokenIs(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// authorize checks the access token (Config.Token) of any request, before anything else of it
// is read; the admin token is accepted too.
func (s *Server) authorize(r *http.Request) *api.Error {
	if s.cfg.Token == "" {
		return nil
	}
	got, ok := bearer(r)
	if ok && (tokenIs(got, s.cfg.Token) || tokenIs(got, s.cfg.AdminToken)) {
		return nil
	}
	return api.Errorf(api.CodeTokenRequired, "this service takes requests with its token only: send Authorization: Bearer <token>")
}

// admin checks the admin token before anything else of the request is read.
func (s *Server) admin(r *http.Request) *api.Error {
	if s.cfg.AdminToken == "" {
		return api.Errorf(api.CodeAdminDisabled, "catalog changes are disabled: start the server with --admin-token-file or $"+EnvAdminToken)
	}
	got, ok := bearer(r)
	if !ok || !tokenIs(got, s.cfg.AdminToken) {
		return api.Errorf(api.CodeAdminTokenRequired, "catalog changes need the admin token: send Authorization: Bearer <token>")
	}
	return nil
}
