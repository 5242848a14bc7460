package hwid

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func baseInventory() Inventory {
	var inv Inventory
	inv.Add(NIC, "52:54:00:12:34:56")
	inv.Add(Disk, "DISK-0001")
	inv.Add(Memory, MemoryRange(480*1024))
	inv.Add(CPU, "QEMU Virtual CPU version 2.5+ x2")
	inv.Add(Display, "none")
	inv.Add(StorageController, "1af4:1001")
	inv.Add(System, "uuid=5e7a... serial=TST0001")
	inv.Add(BIOS, "SeaBIOS 1.16")
	inv.Add(TPM, "ek-digest")
	return inv
}

func with(inv Inventory, c Class, value string) Inventory {
	out := Inventory{Dockable: inv.Dockable}
	for _, comp := range inv.Components {
		if comp.Class == c {
			comp = NewComponent(c, value)
		}
		out.Components = append(out.Components, comp)
	}
	return out
}

func TestBuiltinPoliciesAreValid(t *testing.T) {
	for name, p := range Policies {
		require.NoError(t, p.Validate(), name)
		assert.Equal(t, 10, p.Total(), name)
	}
	assert.Equal(t, 3, VotePolicy.Votes[NIC])
	assert.Equal(t, 7, VotePolicy.MinMatching)
	assert.Equal(t, 4, VotePolicy.MinMatchingDockable)
	assert.Greater(t, KMSPolicy.Votes[Disk], KMSPolicy.Votes[NIC])
	_, err := LookupPolicy("nope")
	assert.ErrorContains(t, err, "known: kms-disk, vote")
}

// The published rule: 10 votes, the NIC worth 3, in tolerance while 7 match. A NIC swap alone
// loses 3 votes and stays in tolerance; the 4th vote lost takes the machine out.
func TestVotePolicyFourthVote(t *testing.T) {
	base := baseInventory()
	steps := []struct {
		class   Class
		value   string
		lost    int
		in      bool
		remain  int
		changed int
	}{
		{NIC, "52:54:00:aa:bb:cc", 3, true, 0, 1},
		{Disk, "DISK-0002", 4, false, 0, 2},
		{Memory, MemoryRange(990 * 1024), 5, false, 0, 3},
	}
	cur := base
	for _, s := range steps {
		cur = with(cur, s.class, s.value)
		d := VotePolicy.Compare(base, cur)
		assert.Equal(t, s.lost, d.Lost, s.class)
		assert.Equal(t, 10-s.lost, d.Matching, s.class)
		assert.Equal(t, s.in, d.InTolerance, s.class)
		assert.Equal(t, s.remain, d.Remaining, s.class)
		assert.Len(t, d.Changes, s.changed, s.class)
	}
	// Without the NIC: three one-vote changes stay in tolerance, the fourth does not.
	cur = base
	for i, c := range []Class{Disk, Memory, CPU, Display} {
		cur = with(cur, c, "changed")
		d := VotePolicy.Compare(base, cur)
		assert.Equal(t, i < 3, d.InTolerance, "after %d changes", i+1)
	}
	// The TPM carries no vote in the default policy.
	d := VotePolicy.Compare(base, with(base, TPM, "other"))
	assert.True(t, d.InTolerance)
	assert.Equal(t, 0, d.Lost)
	assert.Equal(t, 3, d.Remaining)
}

func TestDockableThreshold(t *testing.T) {
	base := baseInventory()
	base.Dockable = true
	cur := with(with(base, NIC, "x"), Disk, "y")
	cur = with(with(cur, Memory, "z"), CPU, "w")
	d := VotePolicy.Compare(base, cur) // 6 lost, 4 match
	assert.Equal(t, 4, d.Required)
	assert.True(t, d.InTolerance)
	assert.True(t, d.Dockable)
	assert.Equal(t, "vote policy: 6 of 10 votes lost (nic 3 + disk 1 + memory 1 + cpu 1), 4 match, 4 required (dockable): in tolerance", d.Votes())
	d = VotePolicy.Compare(base, with(cur, Display, "v"))
	assert.False(t, d.InTolerance)
	d = VotePolicy.Compare(base, with(with(baseInventory(), NIC, "x"), Disk, "y"))
	assert.False(t, d.Dockable, "the current inventory decides")
	assert.Equal(t, "vote policy: 4 of 10 votes lost (nic 3 + disk 1), 6 match, 7 required (not dockable): out of tolerance", d.Votes())
}

func TestKMSPolicyDiskAlone(t *testing.T) {
	base := baseInventory()
	d := KMSPolicy.Compare(base, with(base, Disk, "new"))
	assert.False(t, d.InTolerance)
	assert.Equal(t, 4, d.Lost)
	d = KMSPolicy.Compare(base, with(base, NIC, "new"))
	assert.True(t, d.InTolerance)
}

func TestMultipleInstancesMatchOnAny(t *testing.T) {
	var a, b Inventory
	a.Add(NIC, "52:54:00:00:00:01")
	a.Add(NIC, "52:54:00:00:00:02")
	b.Add(NIC, "52:54:00:00:00:02")
	b.Add(NIC, "52:54:00:00:00:03")
	p := Policy{Name: "nic", Votes: map[Class]int{NIC: 1}, MinMatching: 1, MinMatchingDockable: 1}
	assert.True(t, p.Compare(a, b).InTolerance)
}

func TestDigestNormalisesAndRedacts(t *testing.T) {
	assert.Equal(t, Digest(NIC, "52:54:00:AA:BB:CC"), Digest(NIC, " 52:54:00:aa:bb:cc "))
	assert.NotEqual(t, Digest(NIC, "x"), Digest(Disk, "x"))
	assert.Len(t, Digest(NIC, "x"), 16)
	r := baseInventory().Redacted()
	for _, c := range r.Components {
		assert.Empty(t, c.Value)
		assert.NotEmpty(t, c.Digest)
	}
}

func TestDiffString(t *testing.T) {
	base := baseInventory()
	d := VotePolicy.Compare(base, with(with(base, NIC, "x"), Disk, "y"))
	assert.Equal(t, "out of tolerance: 6 of 10 votes match, 7 required; changed: nic (3), disk (1)", d.String())
	d = VotePolicy.Compare(base, base)
	assert.Equal(t, "in tolerance: 10 of 10 votes match, 7 required, 3 more may be lost", d.String())
	assert.Equal(t, "vote policy: 0 of 10 votes lost, 10 match, 7 required (not dockable): in tolerance", d.Votes())
}

func TestMemoryRange(t *testing.T) {
	for _, tc := range []struct {
		kib  uint64
		want string
	}{
		{0, "0MiB-1MiB"},
		{224 * 1024, "128MiB-256MiB"},
		{480 * 1024, "256MiB-512MiB"},
		{990 * 1024, "512MiB-1GiB"},
		{4000 * 1024, "2GiB-4GiB"},
		{16 * 1024 * 1024, "16GiB-32GiB"},
	} {
		assert.Equal(t, tc.want, MemoryRange(tc.kib), tc.kib)
	}
}

func TestPolicyValidate(t *testing.T) {
	assert.ErrorContains(t, Policy{Name: "x"}.Validate(), "no votes")
	assert.ErrorContains(t, Policy{Name: "x", Votes: map[Class]int{NIC: 3}, MinMatching: 4, MinMatchingDockable: 1}.Validate(), "min_matching 4")
	assert.ErrorContains(t, Policy{Name: "x", Votes: map[Class]int{NIC: 3, Disk: -1}, MinMatching: 1, MinMatchingDockable: 1}.Validate(), "negative")
}
