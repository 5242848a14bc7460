package tpm

import (
	"errors"

	"github.com/google/go-tpm/tpm2/transport"
)

// On Windows the TPM is reached through TBS, not a path; oemact's TPM binding runs in Linux
// guests and on Linux hosts.
var errWindows = errors.New("TPM paths are a Linux interface; on Windows the TPM is behind TBS, which oemact does not use")

func openDevice(path string) (transport.TPMCloser, error) { return nil, errWindows }

func openSocket(path string) (transport.TPMCloser, error) { return nil, errWindows }
