package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/oemact/oemact/firmware/productkey"
	"github.com/oemact/oemact/oemact/hwid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func machine() hwid.Inventory {
	var inv hwid.Inventory
	inv.Add(hwid.NIC, "52:54:00:12:34:56")
	inv.Add(hwid.NIC, "52:54:00:12:34:57")
	inv.Add(hwid.Disk, "DISK-0001")
	inv.Add(hwid.Memory, hwid.MemoryRange(480*1024))
	inv.Add(hwid.CPU, "QEMU Virtual CPU version 2.5+ x2")
	inv.Add(hwid.System, "uuid=5e7a serial=TST0001")
	inv.Add(hwid.BIOS, "SeaBIOS 1.16")
	return inv
}

func TestInstallationIDRoundTrip(t *testing.T) {
	key := productkey.Derive("mak/win7-professional")
	inv := machine()
	inv.Dockable = true
	iid, err := NewInstallationID(key, inv)
	require.NoError(t, err)
	assert.Len(t, iid, IIDDigits+IIDGroups-1)
	assert.Equal(t, IIDGroups, len(strings.Split(iid, "-")))

	got, err := ParseInstallationID(iid)
	require.NoError(t, err)
	assert.Equal(t, key, got.Key)
	assert.True(t, got.Hardware.Dockable)
	mins := MinDigests(inv)
	require.Len(t, got.Hardware.Components, len(mins))
	for _, c := range got.Hardware.Components {
		assert.Equal(t, mins[c.Class][:3], c.Digest, c.Class)
	}
	// Spaces or no separators read the same.
	got2, err := ParseInstallationID(strings.ReplaceAll(iid, "-", " "))
	require.NoError(t, err)
	assert.Equal(t, got, got2)
	got3, err := ParseInstallationID(strings.ReplaceAll(iid, "-", ""))
	require.NoError(t, err)
	assert.Equal(t, got, got3)

	// The ID is a function of key and hardware: the same machine gives the same ID.
	again, err := NewInstallationID(key, inv)
	require.NoError(t, err)
	assert.Equal(t, iid, again)
	other, err := NewInstallationID(productkey.Derive("x"), inv)
	require.NoError(t, err)
	assert.NotEqual(t, iid, other)

	// The product key's 25 characters are encoded, not written: the ID never shows the key.
	assert.NotContains(t, iid, key.Reveal())
}

// Every single-digit typo and every swap of neighbouring digits in a group is caught by the
// group's check digit, and reported by group.
func TestInstallationIDTyposAreCaught(t *testing.T) {
	iid, err := NewInstallationID(productkey.Derive("retail/win7-ultimate"), machine())
	require.NoError(t, err)
	d := []byte(iid)
	for i := range d {
		if d[i] == '-' {
			continue
		}
		orig := d[i]
		for c := byte('0'); c <= '9'; c++ {
			if c == orig {
				continue
			}
			d[i] = c
			_, err := ParseInstallationID(string(d))
			var pe *Error
			require.ErrorAs(t, err, &pe, "digit %d -> %c", i, c)
			assert.Equal(t, i/(GroupLen+1)+1, pe.Group)
		}
		d[i] = orig
		if i+1 < len(d) && d[i+1] != '-' && d[i] != d[i+1] {
			d[i], d[i+1] = d[i+1], d[i]
			_, err := ParseInstallationID(string(d))
			assert.Error(t, err, "swap %d", i)
			d[i], d[i+1] = d[i+1], d[i]
		}
	}
	// Two groups swapped: each group is valid alone; the checksum catches it.
	g := strings.Split(iid, "-")
	for g[2] == g[3] {
		t.Fatal("test needs two different groups")
	}
	g[2], g[3] = g[3], g[2]
	_, err = ParseInstallationID(strings.Join(g, "-"))
	assert.ErrorContains(t, err, "checksum")
}

func TestInstallationIDErrors(t *testing.T) {
	iid, err := NewInstallationID(productkey.Derive("k"), machine())
	require.NoError(t, err)
	for _, tc := range []struct{ in, want string }{
		{"", "0 digits, want 102"},
		{iid[:50], "digits, want 102"},
		{iid + "-123456", "more than 102 digits"},
		{strings.Replace(iid, "-", "x", 1), "character 7 is not a digit"},
		{iid[:3] + "-" + iid[3:], "group 1: a separator inside a group"},
		{strings.Repeat("9999999-", 17), "separator inside a group"},
		{strings.Repeat("000000-", 16) + "000000", "checksum"},
	} {
		_, err := ParseInstallationID(tc.in)
		require.Error(t, err, tc.in)
		assert.Contains(t, err.Error(), tc.want, tc.in)
	}
	_, err = NewInstallationID(productkey.Key{}, machine())
	assert.Error(t, err)
	bad := hwid.Inventory{Components: []hwid.Component{{Class: hwid.NIC, Digest: "zz"}}}
	_, err = NewInstallationID(productkey.Derive("k"), bad)
	assert.ErrorContains(t, err, "nic component")
}

func TestConfirmationID(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	iid, err := NewInstallationID(productkey.Derive("retail/win7-professional"), machine())
	require.NoError(t, err)
	cid, err := Confirm(iid, secret)
	require.NoError(t, err)
	assert.Len(t, cid, CIDDigits+CIDGroups-1)
	require.NoError(t, VerifyConfirmation(iid, cid))
	require.NoError(t, VerifyConfirmationMAC(iid, cid, secret))

	// Deterministic: the same installation gets the same confirmation.
	again, err := Confirm(strings.ReplaceAll(iid, "-", " "), secret)
	require.NoError(t, err)
	assert.Equal(t, cid, again)

	other, err := NewInstallationID(productkey.Derive("retail/win7-ultimate"), machine())
	require.NoError(t, err)
	assert.ErrorContains(t, VerifyConfirmation(other, cid), "belongs to another installation ID")
	assert.ErrorContains(t, VerifyConfirmationMAC(iid, cid, []byte("another secret")), "not issued by this service")

	d := []byte(cid)
	d[3] = '0' + (d[3]-'0'+1)%10
	var pe *Error
	assert.True(t, errors.As(VerifyConfirmation(iid, string(d)), &pe))
	assert.Equal(t, 1, pe.Group)
}

func TestDamm(t *testing.T) {
	// The published example: 572 has check digit 4.
	assert.Equal(t, byte('4'), Damm("572"))
	assert.Equal(t, byte('0'), Damm("5724"))
}

func FuzzParseInstallationID(f *testing.F) {
	iid, _ := NewInstallationID(productkey.Derive("fuzz"), machine())
	f.Add(iid)
	f.Add(strings.ReplaceAll(iid, "-", ""))
	f.Add("")
	f.Add(strings.Repeat("000000-", 17))
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseInstallationID(s)
		if err != nil {
			return
		}
		// Whatever parses writes back to an ID that parses to the same thing.
		again, err := NewInstallationID(in.Key, in.Hardware)
		if err != nil {
			t.Fatalf("re-encoding a parsed ID: %v", err)
		}
		in2, err := ParseInstallationID(again)
		if err != nil || in2.Key != in.Key || len(in2.Hardware.Components) != len(in.Hardware.Components) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func BenchmarkInstallationAndConfirmation(b *testing.B) {
	key := productkey.Derive("bench")
	inv := machine()
	secret := []byte("0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		iid, err := NewInstallationID(key, inv)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Confirm(iid, secret); err != nil {
			b.Fatal(err)
		}
	}
}
