//go:build cgo

package tpm_test

import (
	"testing"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/oemact/tpm"
)

// The simulator tests need cgo and libssl-dev (go-tpm-tools builds Microsoft's reference TPM):
// this file only builds with cgo, so CGO_ENABLED=0 builds and tests of the package still work.
// The simulator is a process-wide singleton: simulator.Get blocks until the previous user closes
// it, so these tests do not run in parallel.

type simTPM struct{ sim *simulator.Simulator }

func (s *simTPM) Open(t *testing.T) *tpm.TPM { return tpm.New(transport.FromReadWriter(s.sim)) }

// Reboot is TPM2_Shutdown, a TPM reset and TPM2_Startup(CLEAR), as a machine's power cycle.
func (s *simTPM) Reboot(t *testing.T) { require.NoError(t, s.sim.Reset()) }

// Replace manufactures the TPM again: new seeds.
func (s *simTPM) Replace(t *testing.T) { require.NoError(t, s.sim.ManufactureReset()) }

func TestBindingSimulator(t *testing.T) {
	sim, err := simulator.Get()
	require.NoError(t, err)
	defer sim.Close()
	testBinding(t, &simTPM{sim: sim})
}
