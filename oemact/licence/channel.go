package licence

import (
	"fmt"

	"github.com/oemact/oemact/oemact/edition"
	"github.com/oemact/oemact/oemact/hwid"
)

// OEMBoardPolicy binds an OEM:SLP licence to its system board: the SMBIOS baseboard is the one
// component that counts, so disk, NIC, memory, CPU and display swaps never touch the licence, and
// a new board takes it out of tolerance. (The marker itself is checked apart, at every boot.) This
// follows the OEM licence terms, which tie the licence to the motherboard; it is the model's
// rule, not Windows' algorithm.
var OEMBoardPolicy = hwid.Policy{
	Name:                "oem-board",
	Description:         "OEM:SLP model: bound to the system board and the firmware marker; other components do not count",
	Votes:               map[hwid.Class]int{hwid.Board: 1},
	MinMatching:         1,
	MinMatchingDockable: 1,
}

// Path is how a channel's licence becomes activated.
type Path string

const (
	PathService  Path = "service"  // online or by telephone, answered by the activation service
	PathFirmware Path = "firmware" // offline at every boot, from the SLIC marker (OEM Activation 2.1)
	PathKMS      Path = "kms"      // from a KMS host on the organisation's network
)

// ActivationPath returns how a channel activates: Retail, OEM:COA, OEM:DM (the OA 3.0 key from the
// MSDM goes to the service) and Volume:MAK through the service; OEM:SLP from the firmware;
// Volume:GVLK from a KMS host.
func ActivationPath(ch edition.Channel) Path {
	switch ch {
	case edition.OEMSLP:
		return PathFirmware
	case edition.VolumeGVLK:
		return PathKMS
	}
	return PathService
}

// KMSNeedsMarker reports whether an edition's KMS clients need a Windows marker in the BIOS: the
// volume editions of Windows 7 are upgrades that need a qualifying OS, shown by the marker
// (DESIGN.md). Server 2008 R2 and older releases do not.
func KMSNeedsMarker(ed edition.Edition) bool { return ed.Release == edition.Win7 }

// KMSActivates applies the KMS threshold (oemact/edition: 25 for client releases, 5 for
// servers) to a host's count and explains the verdict.
func KMSActivates(ed edition.Edition, count int) (bool, string) {
	info := ed.ReleaseInfo()
	if count >= info.KMSThreshold {
		return true, fmt.Sprintf("the KMS host has counted %d machines; %s activates from %d", count, info.Name, info.KMSThreshold)
	}
	return false, fmt.Sprintf("the KMS host has counted %d machines; %s needs %d before it activates clients", count, info.Name, info.KMSThreshold)
}

// KMSAnswerFor is the answer a KMS host with the given count gives a client of the edition, by
// the model's rules (threshold only; the marker rule is the client's, see Machine.KMSResponse).
// The validity, renewal and retry numbers are the config's.
func KMSAnswerFor(ed edition.Edition, count int) KMSAnswer {
	ok, why := KMSActivates(ed, count)
	a := KMSAnswer{Reached: true, Count: count, Activated: ok, Message: why}
	if !ok {
		a.Code = CodeKMSCountLow
	}
	return a
}
