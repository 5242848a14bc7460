// Package tpm binds oemact's licence state to the firmware identity with a TPM 2.0: it reads the
// endorsement key's digest for the hardware inventory, measures the activation markers and the
// SMBIOS identity into a PCR, and seals data to that PCR's value, so that a changed board or BIOS
// is found by the TPM refusing to unseal at the next boot, not only by comparing strings.
//
// It speaks TPM 2.0 through go-tpm, in pure Go (the guest agent is a static binary): /dev/tpmrm0
// in a guest, a swtpm socket or go-tpm-tools' simulator in tests. Running swtpm is package
// harness/swtpm's job; what a changed identity means for a licence is the activation model's.
//
// A TPM is not safe for concurrent use: a TPM runs one command at a time anyway.
package tpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// DefaultPath is the kernel's TPM 2.0 device with its resource manager: sessions and transient
// objects are flushed when the file is closed, so a crashed agent leaves nothing in the TPM.
const DefaultPath = "/dev/tpmrm0"

// TPM is a connection to a TPM 2.0.
type TPM struct {
	t      transport.TPM
	closer io.Closer
	// MaxData is the largest data Seal accepts and Unseal reads back; default DefaultMaxData.
	MaxData int
}

// DefaultMaxData bounds sealed data: 256 KiB, a quarter of the 1 MiB state disk the sealed blob
// lives on (harness/statedisk), leaving room for the rest of the licence state. The agent's
// licence state is a few KiB.
const DefaultMaxData = 256 << 10

// Open opens the TPM at path: a TPM character device (/dev/tpmrm0, /dev/tpm0) or the unix socket
// of a TPM simulator's data channel (swtpm --server type=unixio).
func Open(path string) (*TPM, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("tpm: %s does not exist: this machine has no TPM 2.0 (or its driver is not loaded)", path)
		}
		return nil, fmt.Errorf("tpm: %w", err)
	}
	var tc transport.TPMCloser
	switch {
	case st.Mode()&os.ModeSocket != 0:
		tc, err = openSocket(path)
	case st.Mode()&os.ModeDevice != 0:
		tc, err = openDevice(path)
	default:
		return nil, fmt.Errorf("tpm: %s is neither a TPM device nor a TPM simulator's socket (%s)", path, st.Mode().Type())
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("tpm: opening %s: %w: run as root or as a member of the tss group", path, err)
		}
		return nil, fmt.Errorf("tpm: opening %s: %w", path, err)
	}
	return &TPM{t: tc, closer: tc, MaxData: DefaultMaxData}, nil
}

// New uses an already open transport, such as go-tpm-tools' simulator in tests. Close does not
// close it.
func New(t transport.TPM) *TPM {
	return &TPM{t: t, MaxData: DefaultMaxData}
}

// Close closes what Open opened.
func (t *TPM) Close() error {
	if t.closer == nil {
		return nil
	}
	err := t.closer.Close()
	t.closer = nil
	return err
}

// EKDigest creates the endorsement key from the TCG EK Credential Profile's default RSA 2048
// template (go-tpm's tpm2.RSAEKTemplate; "low range", no NV template is read) and returns the
// SHA-256 of its public area in hex: the bytes of the TPMT_PUBLIC structure as the TPM returns it
// in TPM2B_PUBLIC, without the two-byte size. Because the template's name algorithm is SHA-256,
// this equals the EK's TPM Name without its two-byte algorithm prefix (TPM 2.0 Part 1, 16 Names).
//
// The key is derived from the TPM's endorsement primary seed, so the digest is the same every time
// on one TPM and changes only when the seed does (a new TPM, or TPM2_ChangeEPS). It identifies the
// TPM for the hardware inventory (hwid.TPM). The key is not kept: nothing persists in the TPM.
//
// A machine provisioned the usual way keeps that key at the persistent handle 0x81010001 (TCG TPM
// v2.0 Provisioning Guidance); when the key there was made from the same template, its public
// area is the one CreatePrimary would return, and reading it spares a real TPM an RSA key
// generation, which takes seconds on some chips.
func (t *TPM) EKDigest() (string, error) {
	if pub, ok := t.persistentEK(); ok {
		sum := sha256.Sum256(pub)
		return hex.EncodeToString(sum[:]), nil
	}
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHEndorsement,
		InPublic:      tpm2.New2B(tpm2.RSAEKTemplate),
	}.Execute(t.t)
	if err != nil {
		return "", fmt.Errorf("tpm: creating the endorsement key: %w", err)
	}
	defer t.flush(rsp.ObjectHandle)
	sum := sha256.Sum256(rsp.OutPublic.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// PersistentEKHandle is where provisioning software keeps the RSA 2048 EK.
const PersistentEKHandle = tpm2.TPMHandle(0x81010001)

// persistentEK returns the public area at PersistentEKHandle if it is an EK made from
// tpm2.RSAEKTemplate: a primary key of the endorsement hierarchy whose every field the template
// sets is equal, the key itself aside.
func (t *TPM) persistentEK() (public []byte, ok bool) {
	rsp, err := tpm2.ReadPublic{ObjectHandle: PersistentEKHandle}.Execute(t.t)
	if err != nil {
		return nil, false // none there (TPM_RC_HANDLE), the usual case for swtpm
	}
	// A primary key of the endorsement hierarchy: its qualified name is SHA-256 of the
	// hierarchy's handle and its name (TPM 2.0 Part 1, 16 Names).
	h := sha256.New()
	h.Write([]byte{0x40, 0x00, 0x00, 0x0B}) // TPM_RH_ENDORSEMENT
	h.Write(rsp.Name.Buffer)
	if !bytes.Equal(rsp.QualifiedName.Buffer, append([]byte{0x00, 0x0B}, h.Sum(nil)...)) {
		return nil, false
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil || pub.Type != tpm2.RSAEKTemplate.Type {
		return nil, false
	}
	// go-tpm's Marshal panics on an inconsistent structure; such a key is just not the EK.
	defer func() {
		if recover() != nil {
			public, ok = nil, false
		}
	}()
	same := *pub
	same.Unique = tpm2.RSAEKTemplate.Unique
	if !bytes.Equal(tpm2.Marshal(same), tpm2.Marshal(tpm2.RSAEKTemplate)) {
		return nil, false // another key, or an EK from another template: create ours
	}
	return rsp.OutPublic.Bytes(), true
}

// PCRValue is one PCR's value in the SHA-256 bank.
type PCRValue struct {
	PCR   int    `json:"pcr"`
	Value Digest `json:"value"`
}

// ReadPCRs reads PCRs from the SHA-256 bank, in the order given.
func (t *TPM) ReadPCRs(pcrs ...int) ([]PCRValue, error) {
	out := make([]PCRValue, 0, len(pcrs))
	for _, p := range pcrs {
		v, err := t.readPCR(p)
		if err != nil {
			return nil, err
		}
		out = append(out, PCRValue{PCR: p, Value: v})
	}
	return out, nil
}

// readPCR reads one PCR: TPM2_PCR_Read returns at most eight digests per call, and one at a time
// keeps the answer's order obvious.
func (t *TPM) readPCR(pcr int) (Digest, error) {
	if err := checkPCR(pcr); err != nil {
		return nil, err
	}
	rsp, err := tpm2.PCRRead{PCRSelectionIn: selection(pcr)}.Execute(t.t)
	if err != nil {
		return nil, fmt.Errorf("tpm: reading PCR %d: %w", pcr, err)
	}
	if len(rsp.PCRValues.Digests) != 1 || len(rsp.PCRValues.Digests[0].Buffer) != sha256.Size {
		return nil, fmt.Errorf("tpm: reading PCR %d: the TPM returned no SHA-256 value: its SHA-256 PCR bank is not allocated (swtpm_setup --pcr-banks sha256, or TPM2_PCR_Allocate)", pcr)
	}
	return Digest(rsp.PCRValues.Digests[0].Buffer), nil
}

// selection is the SHA-256 bank selection of one PCR.
func selection(pcr int) tpm2.TPMLPCRSelection {
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(uint(pcr)),
	}}}
}

// checkPCR accepts the 24 PCRs every PC Client TPM has.
func checkPCR(pcr int) error {
	if pcr < 0 || pcr > 23 {
		return fmt.Errorf("tpm: PCR %d does not exist: a PC Client TPM has PCRs 0 to 23", pcr)
	}
	return nil
}

// flush unloads a transient object or session; failures only leak a slot until the resource
// manager (or a TPM reset) reclaims it.
func (t *TPM) flush(h tpm2.TPMHandle) {
	tpm2.FlushContext{FlushHandle: h}.Execute(t.t)
}

// Digest is a SHA-256 digest; it prints and marshals as lower-case hex.
type Digest []byte

func (d Digest) String() string { return hex.EncodeToString(d) }

// MarshalText writes hex.
func (d Digest) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(d)), nil }

// UnmarshalText reads hex.
func (d *Digest) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("tpm: digest %q: %w", b, err)
	}
	*d = v
	return nil
}
