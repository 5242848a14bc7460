package smbios

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundTripRealDumps(t *testing.T) {
	for _, name := range realDumps {
		t.Run(name, func(t *testing.T) {
			raw := readFixture(t, name)
			in, err := Decode(raw)
			require.NotNil(t, in, "%v", err)

			table, err := in.Table.Bytes()
			require.NoError(t, err)
			switch in.Format {
			case FormatDumpBin:
				out, err := in.DumpBin()
				require.NoError(t, err)
				assert.Equal(t, raw, out, "decode then encode must give the same file")
			case FormatBare:
				// Broken after 0x1de: what decoded encodes back to the same bytes.
				require.Equal(t, int64(0x1de), in.End)
				assert.Equal(t, raw[:in.End], table)
			default:
				t.Fatalf("unexpected format %v", in.Format)
			}

			// Every typed view encodes back to its structure's bytes.
			for _, s := range in.Structures {
				tv, err := ParseTyped(s, in.Version)
				require.NoError(t, err)
				if tv == nil {
					continue
				}
				got, err := tv.Structure()
				require.NoError(t, err)
				want, _ := s.MarshalBinary()
				gotb, err := got.MarshalBinary()
				require.NoError(t, err)
				assert.Equal(t, want, gotb, "type %d handle 0x%04X", s.Type, s.Handle)
			}
		})
	}
}

func TestRoundTripContainers(t *testing.T) {
	for _, name := range realDumps {
		t.Run(name, func(t *testing.T) {
			in, err := Read(fixturePath(t, name))
			require.NotNil(t, in, "%v", err)
			if in.EntryPoint == nil {
				require.NoError(t, in.SetEntryPoint(EntryPoint32))
			}
			want, err := in.Table.Bytes()
			require.NoError(t, err)

			// sysfs pair: written, read back as a folder and through either file.
			dir := t.TempDir()
			require.NoError(t, in.WriteSysfs(dir))
			for _, p := range []string{dir, filepath.Join(dir, SysfsEntryPointFile), filepath.Join(dir, SysfsTableFile)} {
				back, err := Read(p)
				require.NoError(t, err, p)
				assert.Equal(t, FormatSysfs, back.Format)
				got, err := back.Table.Bytes()
				require.NoError(t, err)
				assert.Equal(t, want, got, p)
				assert.Equal(t, in.Version, back.Version)
			}

			// RSMB blob.
			blob, err := in.RSMBBlob()
			require.NoError(t, err)
			back, err := Decode(blob)
			require.NoError(t, err)
			assert.Equal(t, FormatRSMB, back.Format)
			got, err := back.Table.Bytes()
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, in.Version.Major, back.Version.Major)
			assert.Equal(t, in.Version.Minor, back.Version.Minor)

			// dump-bin file on disk.
			p := filepath.Join(t.TempDir(), "dump.bin")
			require.NoError(t, in.WriteDumpBin(p))
			back, err = Read(p)
			require.NoError(t, err)
			assert.Equal(t, FormatDumpBin, back.Format)
			got, err = back.Table.Bytes()
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}
