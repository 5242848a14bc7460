package tpm

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// ErrPolicy means the TPM refused to unseal because the PCR no longer holds the value the data was
// sealed to: the firmware identity changed. Unseal returns it as a *PolicyError.
var ErrPolicy = errors.New("tpm: the firmware identity changed since the data was sealed")

// ErrOtherTPM means the blob was sealed under another TPM's storage key: the TPM was replaced (or
// cleared), alone or with the board.
var ErrOtherTPM = errors.New("tpm: the data was sealed by another TPM")

// ErrNoBlob is Unseal's answer to an empty blob: nothing was sealed yet.
var ErrNoBlob = errors.New("tpm: nothing sealed yet")

// PolicyError is a refused unseal: the PCR's value now, the value sealed to, and the items that
// were measured then, so a report can say what changed.
type PolicyError struct {
	PCR     int
	Sealed  Digest // the value the data is sealed to
	Current Digest // the PCR's value when unsealing
	// SealedItems are the items measured when sealing, as the blob records them.
	SealedItems []Item
	// Err is the TPM's answer (TPM_RC_POLICY_FAIL).
	Err error
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("tpm: the firmware identity changed since sealing: PCR %d is %s, the data is sealed to %s (%v)",
		e.PCR, e.Current, e.Sealed, e.Err)
}

// Is makes errors.Is(err, ErrPolicy) true.
func (e *PolicyError) Is(target error) bool { return target == ErrPolicy }

func (e *PolicyError) Unwrap() error { return e.Err }

// Changed lists what differs between the items sealed and the items measured now (current, from
// this boot's Measurement): the names whose digest changed, appeared or disappeared, in the order
// measured then, with those that are new after. The TPM only says the PCR differs; this says why.
func (e *PolicyError) Changed(current []Item) []string {
	return ChangedItems(e.SealedItems, current)
}

// ChangedItems compares two measurements item by item, by name.
func ChangedItems(before, after []Item) []string {
	now := map[string]Digest{}
	for _, it := range after {
		now[it.Name] = it.Digest
	}
	var out []string
	seen := map[string]bool{}
	for _, it := range before {
		seen[it.Name] = true
		if d, ok := now[it.Name]; !ok {
			out = append(out, it.Name+" (gone)")
		} else if !bytes.Equal(d, it.Digest) {
			out = append(out, it.Name)
		}
	}
	for _, it := range after {
		if !seen[it.Name] {
			out = append(out, it.Name+" (new)")
		}
	}
	return out
}

// srkTemplate is the storage root key: the TCG reference ECC P-256 SRK template (TCG TPM v2.0
// Provisioning Guidance), created again at every use from the owner hierarchy's seed, so it is the
// same key each time and nothing is kept in the TPM. ECC rather than the RSA 2048 template: swtpm
// creates it in about 4 ms against about 55 ms.
var srkTemplate = tpm2.ECCSRKTemplate

type srk struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
}

func (t *TPM) createSRK() (*srk, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(srkTemplate),
	}.Execute(t.t)
	if err != nil {
		return nil, fmt.Errorf("tpm: creating the storage key: %w", err)
	}
	return &srk{handle: rsp.ObjectHandle, name: rsp.Name}, nil
}

// sealTemplate is the sealed object: keyed-hash data that only the policy may open (userWithAuth
// clear), fixed to this TPM and parent, and exempt from dictionary-attack lockout so that a
// changed firmware, which fails the policy at every boot, never locks the TPM.
func sealTemplate(policy []byte) tpm2.TPMTPublic {
	return tpm2.TPMTPublic{
		Type:    tpm2.TPMAlgKeyedHash,
		NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{
			FixedTPM:    true,
			FixedParent: true,
			NoDA:        true,
		},
		AuthPolicy: tpm2.TPM2BDigest{Buffer: policy},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgKeyedHash, &tpm2.TPMSKeyedHashParms{
			Scheme: tpm2.TPMTKeyedHashScheme{Scheme: tpm2.TPMAlgNull},
		}),
	}
}

// Seal seals data to the measurement's PCR value: a fresh AES-256 key is sealed in the TPM under
// the storage key with the policy PolicyPCR(m.PCR = m.Value), and the data is encrypted with it.
// The blob (see blob.go for its layout) can be kept anywhere; only this TPM, with the PCR holding
// that value, gives the data back.
//
// The value sealed to is the measurement's replayed value, not read back from the TPM, so a blob
// can be made for an expected measurement as well as for the current one.
func (t *TPM) Seal(data []byte, m *Measurement) ([]byte, error) {
	if m == nil || len(m.Items) == 0 {
		return nil, errors.New("tpm: seal: no measurement to seal to")
	}
	if err := checkPCR(m.PCR); err != nil {
		return nil, err
	}
	if len(m.Items) > MaxEvents {
		return nil, fmt.Errorf("tpm: seal: %d measured items; at most %d", len(m.Items), MaxEvents)
	}
	for i, it := range m.Items {
		if err := checkName(it.Name); err != nil {
			return nil, fmt.Errorf("tpm: seal: item %d: %w", i, err)
		}
	}
	if v := Replay(m.Items); !bytes.Equal(v, m.Value) {
		return nil, fmt.Errorf("tpm: seal: the measurement's items replay to %s, not to its value %s", v, m.Value)
	}
	if max := t.maxData(); len(data) > max {
		return nil, fmt.Errorf("tpm: seal: %d bytes of data; at most %d (TPM.MaxData)", len(data), max)
	}
	policy, err := policyDigest(m.PCR, m.Value)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	parent, err := t.createSRK()
	if err != nil {
		return nil, err
	}
	defer t.flush(parent.handle)
	rsp, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: parent.handle, Name: parent.name, Auth: tpm2.PasswordAuth(nil)},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: key}),
		}},
		InPublic: tpm2.New2B(sealTemplate(policy)),
	}.Execute(t.t)
	if err != nil {
		return nil, fmt.Errorf("tpm: seal: creating the sealed object: %w", err)
	}
	b := &blob{
		pcr: m.PCR, value: m.Value, parentName: parent.name.Buffer, items: m.Items,
		public: rsp.OutPublic.Bytes(), private: rsp.OutPrivate.Buffer,
		nonce: make([]byte, nonceSize),
	}
	if len(b.parentName) != nameSize {
		return nil, fmt.Errorf("tpm: seal: the storage key's name has %d bytes, want %d", len(b.parentName), nameSize)
	}
	if _, err := rand.Read(b.nonce); err != nil {
		return nil, err
	}
	// The additional data is the blob up to the nonce, which marshal computes; encrypt after it.
	b.marshal()
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	b.ciphertext = gcm.Seal(nil, b.nonce, data, b.aad)
	return b.marshal(), nil
}

// Unseal gives back the data Seal sealed, if the PCR holds the value it was sealed to. Errors:
// ErrNoBlob for an empty blob; a *PolicyError (errors.Is ErrPolicy) when the firmware identity
// changed; ErrOtherTPM when the blob comes from another TPM (the TPM or the board was replaced); a
// *BlobError (errors.Is ErrBlob) when the blob is damaged; anything else is the TPM failing.
func (t *TPM) Unseal(in []byte) ([]byte, error) {
	if len(in) == 0 {
		return nil, ErrNoBlob
	}
	b, err := decodeBlob(in, t.maxData())
	if err != nil {
		return nil, err
	}
	parent, err := t.createSRK()
	if err != nil {
		return nil, err
	}
	defer t.flush(parent.handle)
	otherTPM := !bytes.Equal(parent.name.Buffer, b.parentName)
	obj, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: parent.handle, Name: parent.name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    tpm2.TPM2BPrivate{Buffer: b.private},
		InPublic:     tpm2.BytesAs2B[tpm2.TPMTPublic](b.public),
	}.Execute(t.t)
	var rc tpm2.TPMRC
	switch {
	case err != nil && !errors.As(err, &rc):
		return nil, fmt.Errorf("tpm: loading the sealed object: %w", err) // the transport, not the TPM
	case err != nil && otherTPM:
		return nil, fmt.Errorf("%w: its storage key's name is %x, this TPM's is %x: the TPM (or the board) was replaced or cleared",
			ErrOtherTPM, b.parentName, parent.name.Buffer)
	case err != nil:
		// Same storage key, so the TPM's integrity check failed on the areas themselves.
		return nil, &BlobError{Off: headerSize, Msg: "the TPM refused the sealed object", Err: err}
	}
	defer t.flush(obj.ObjectHandle)
	if otherTPM {
		// This TPM's storage key opened it: the recorded name was altered, not the TPM replaced.
		return nil, &BlobError{Off: 0x28, Msg: fmt.Sprintf("the recorded storage key name %x is not the key the object belongs to (%x)", b.parentName, parent.name.Buffer)}
	}
	rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{
		Handle: obj.ObjectHandle, Name: obj.Name,
		Auth: tpm2.Policy(tpm2.TPMAlgSHA256, 16, func(tp transport.TPM, s tpm2.TPMISHPolicy, _ tpm2.TPM2BNonce) error {
			// No expected digest: the TPM folds the PCR's current value into the session, and
			// the unseal then fails on the policy if it is not the sealed one.
			_, err := tpm2.PolicyPCR{PolicySession: s, Pcrs: selection(b.pcr)}.Execute(tp)
			return err
		}),
	}}.Execute(t.t)
	if err != nil {
		if errors.Is(err, tpm2.TPMRCPolicyFail) {
			pe := &PolicyError{PCR: b.pcr, Sealed: b.value, SealedItems: b.items, Err: err}
			if v, rerr := t.readPCR(b.pcr); rerr == nil {
				pe.Current = v
			}
			return nil, pe
		}
		return nil, fmt.Errorf("tpm: unsealing: %w", err)
	}
	key := rsp.OutData.Buffer
	if len(key) != 32 {
		return nil, &BlobError{Off: headerSize, Msg: fmt.Sprintf("the sealed object holds %d bytes, not a 32-byte key", len(key))}
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	data, err := gcm.Open(nil, b.nonce, b.ciphertext, b.aad)
	if err != nil {
		return nil, &BlobError{Off: len(b.aad) + nonceSize, Msg: "the data does not decrypt", Err: err}
	}
	return data, nil
}

func (t *TPM) maxData() int {
	if t.MaxData > 0 {
		return t.MaxData
	}
	return DefaultMaxData
}

func newGCM(key []byte) (cipher.AEAD, error) {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(c)
}
