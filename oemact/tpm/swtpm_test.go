package tpm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
	"github.com/oemact/oemact/harness/swtpm"
	"github.com/oemact/oemact/oemact/tpm"
)

// swTPM is swtpm through its data socket (go-tpm's linuxudstpm transport), as the static binary
// would reach it: no cgo.
type swTPM struct {
	dir  string
	proc *swtpm.Process
	conn *tpm.TPM
}

func (s *swTPM) Open(t *testing.T) *tpm.TPM {
	if s.conn == nil {
		c, err := tpm.Open(s.proc.Server)
		require.NoError(t, err)
		s.conn = c
	}
	return s.conn
}

func (s *swTPM) stop(t *testing.T) {
	if s.conn != nil {
		require.NoError(t, s.conn.Close())
		s.conn = nil
	}
	if s.proc != nil {
		require.NoError(t, s.proc.Stop())
		s.proc = nil
	}
}

func (s *swTPM) start(t *testing.T) {
	p, err := swtpm.Start(s.dir, swtpm.Options{Server: true})
	require.NoError(t, err)
	s.proc = p
}

// Reboot is a new swtpm process on the same state: TPM2_Startup(CLEAR) with the seeds kept.
func (s *swTPM) Reboot(t *testing.T) { s.stop(t); s.start(t) }

// Replace wipes the state: the next swtpm manufactures a new TPM.
func (s *swTPM) Replace(t *testing.T) {
	s.stop(t)
	require.NoError(t, swtpm.Wipe(s.dir))
	s.start(t)
}

func TestBindingSwtpm(t *testing.T) {
	hosttooltest.Require(t, "swtpm")
	s := &swTPM{dir: t.TempDir()}
	s.start(t)
	defer s.stop(t)
	testBinding(t, s)
	s.stop(t)
	require.Empty(t, swtpm.Running(s.dir), "no swtpm left on the state folder")
}
