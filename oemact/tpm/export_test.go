package tpm

import "github.com/google/go-tpm/tpm2/transport"

// TransportOf lets the external tests talk to the TPM directly.
func TransportOf(t *TPM) transport.TPM { return t.t }
