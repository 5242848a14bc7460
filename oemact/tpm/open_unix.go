//go:build !windows

package tpm

import (
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
)

func openDevice(path string) (transport.TPMCloser, error) { return linuxtpm.Open(path) }

func openSocket(path string) (transport.TPMCloser, error) { return linuxudstpm.Open(path) }
