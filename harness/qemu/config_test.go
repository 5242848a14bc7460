package qemu

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestArgsFull(t *testing.T) {
	c := Config{
		Machine: PC, Kernel: "/k/vmlinuz", Initrd: "/k/initrd.cpio", Append: "console=ttyS0 panic=-1",
		MemoryMB: 512, CPUs: 2, Accel: TCG,
		NICs:             []NIC{{MAC: "52:54:00:4F:45:01"}},
		Disks:            []Disk{{Path: "/d/disk,0.img", Serial: "TSTDISK0417"}},
		StateDisk:        "state.img",
		ACPITables:       []string{"/t/SLIC", "/t/MS,DM"},
		SMBIOSFiles:      []string{"/s/type1.bin"},
		SMBIOSEntryPoint: "64",
		OEMID:            "TSTOEM", OEMTableID: "TSTBOARD",
		Channel:   &Channel{Socket: "channel.sock", Name: "org.oemact.channel.0"},
		TPM:       &TPM{Socket: "/tpm/ctrl.sock", Model: "tpm-crb"},
		SerialLog: "serial.log", QMPSocket: "qmp.sock",
		Extra: []string{"-rtc", "base=2011-06-15"},
	}
	args, err := Args(c)
	require.NoError(t, err)
	want := []string{
		"-nodefaults", "-no-user-config", "-display", "none",
		"-machine", "pc,x-oem-id=TSTOEM,x-oem-table-id=TSTBOARD,smbios-entry-point-type=64",
		"-accel", "tcg", "-m", "512", "-smp", "2", "-cpu", "qemu64,+rdrand",
		"-kernel", "/k/vmlinuz", "-initrd", "/k/initrd.cpio", "-append", "console=ttyS0 panic=-1",
		"-no-reboot", "-serial", "file:serial.log",
		"-acpitable", "file=/t/SLIC", "-acpitable", "file=/t/MS,,DM",
		"-smbios", "file=/s/type1.bin",
		"-device", "virtio-net-pci,mac=52:54:00:4f:45:01",
		"-drive", "file=/d/disk,,0.img,format=raw,if=none,id=disk0", "-device", "virtio-blk-pci,drive=disk0,serial=TSTDISK0417",
		"-drive", "file=state.img,format=raw,if=none,id=state", "-device", "virtio-blk-pci,drive=state,serial=oemact-state",
		"-chardev", "socket,id=channel,reconnect=1,path=channel.sock",
		"-device", "virtio-serial-pci,id=vser0", "-device", "virtserialport,bus=vser0.0,chardev=channel,name=org.oemact.channel.0",
		"-chardev", "socket,id=qmp,reconnect=1,path=qmp.sock", "-mon", "chardev=qmp,mode=control",
		"-chardev", "socket,id=tpmchr,path=/tpm/ctrl.sock", "-tpmdev", "emulator,id=tpm0,chardev=tpmchr", "-device", "tpm-crb,tpmdev=tpm0",
		"-rtc", "base=2011-06-15",
	}
	assert.Equal(t, want, args)
}

func TestArgsDefaults(t *testing.T) {
	args, err := Args(Config{Kernel: "k", Accel: KVM})
	require.NoError(t, err)
	s := strings.Join(args, " ")
	assert.Contains(t, s, "-machine q35 -accel kvm -m 256 -smp 1 -cpu qemu64,+rdrand")
	assert.Contains(t, s, "-serial stdio")
	assert.NotContains(t, s, "-bios")

	args, err = Args(Config{Kernel: "k", Accel: TCG, Firmware: OVMF, OVMF: "/fw/OVMF.fd"})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(args, " "), "-bios /fw/OVMF.fd")
}

func TestArgsInvalid(t *testing.T) {
	base := Config{Kernel: "k", Accel: TCG}
	cases := []struct {
		field string
		mod   func(*Config)
		want  string
	}{
		{"Machine", func(c *Config) { c.Machine = "microvm" }, "microvm drops -acpitable"},
		{"Firmware", func(c *Config) { c.Firmware = "coreboot" }, "want seabios or ovmf"},
		{"Accel", func(c *Config) { c.Accel = "" }, "Run probes KVM"},
		{"Accel", func(c *Config) { c.Accel = "hvf" }, "want tcg or kvm"},
		{"Kernel", func(c *Config) { c.Kernel = "" }, "required"},
		{"MemoryMB", func(c *Config) { c.MemoryMB = 16 }, "64 or more"},
		{"CPUs", func(c *Config) { c.CPUs = -1 }, "1 to 255"},
		{"CPUModel", func(c *Config) { c.CPUModel = "-enable-kvm" }, "not a QEMU CPU model"},
		{"OEMID", func(c *Config) { c.OEMID = "TOOLONG" }, "ACPI holds 6"},
		{"OEMTableID", func(c *Config) { c.OEMTableID = "A,B" }, "without commas"},
		{"SMBIOSEntryPoint", func(c *Config) { c.SMBIOSEntryPoint = "3" }, "want 32 or 64"},
		{"NICs[0].MAC", func(c *Config) { c.NICs = []NIC{{MAC: "52:54:00:12:34"}} }, "not a MAC address"},
		{"NICs[0].MAC", func(c *Config) { c.NICs = []NIC{{MAC: "01:00:5e:00:00:01"}} }, "multicast"},
		{"NICs[1].MAC", func(c *Config) { c.NICs = []NIC{{MAC: "52:54:00:00:00:01"}, {MAC: "52-54-00-00-00-01"}} }, "used twice"},
		{"Disks[0].Serial", func(c *Config) { c.Disks = []Disk{{Path: "d", Serial: strings.Repeat("S", 21)}} }, "at most 20"},
		{"Disks[0].Serial", func(c *Config) { c.Disks = []Disk{{Path: "d", Serial: "a,drive=x"}} }, "without spaces, commas"},
		{"Disks[0].Serial", func(c *Config) { c.Disks = []Disk{{Path: "d", Serial: StateDiskSerial}} }, "reserved"},
		{"Disks[0].Path", func(c *Config) { c.Disks = []Disk{{Serial: "x"}} }, "required"},
		{"Disks[0].Format", func(c *Config) { c.Disks = []Disk{{Path: "d", Format: "vmdk"}} }, "raw or qcow2"},
		{"Channel.Name", func(c *Config) { c.Channel = &Channel{Socket: "s"} }, "required"},
		{"Channel.Name", func(c *Config) { c.Channel = &Channel{Socket: "s", Name: "a b"} }, "without spaces"},
		{"Channel.Socket", func(c *Config) { c.Channel = &Channel{Name: "n"} }, "required"},
		{"TPM.Model", func(c *Config) { c.TPM = &TPM{Socket: "s", Model: "tpm-spapr"} }, "tpm-tis or tpm-crb"},
	}
	for _, tc := range cases {
		t.Run(tc.field+" "+tc.want, func(t *testing.T) {
			c := base
			tc.mod(&c)
			_, err := Args(c)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestQuoteAndCommandLine(t *testing.T) {
	assert.Equal(t, "file=/a/b,,c", Quote("file=/a/b,,c"))
	assert.Equal(t, "'console=ttyS0 panic=-1'", Quote("console=ttyS0 panic=-1"))
	assert.Equal(t, `'it'\''s'`, Quote("it's"))
	assert.Equal(t, "''", Quote(""))
	assert.Equal(t, "cd '/tmp/a b' && qemu-system-x86_64 -append 'x y'", CommandLine("/tmp/a b", "qemu-system-x86_64", []string{"-append", "x y"}))
}

func TestLocalize(t *testing.T) {
	c := localize(Config{Kernel: "/k/vmlinuz", StateDisk: "/art/m1/state.img", Channel: &Channel{Socket: "/art/m1/channel.sock", Name: "n"},
		Disks: []Disk{{Path: "/art/m1/sub/d.img"}}, ACPITables: []string{"/art/SLIC"}}, "/art/m1")
	assert.Equal(t, "/k/vmlinuz", c.Kernel)
	assert.Equal(t, "state.img", c.StateDisk)
	assert.Equal(t, "channel.sock", c.Channel.Socket)
	assert.Equal(t, "sub/d.img", c.Disks[0].Path)
	assert.Equal(t, []string{"/art/SLIC"}, c.ACPITables)
}

func TestArgsBootImage(t *testing.T) {
	c := Config{Boot: BootDisk, Image: &Image{Path: "/img/win7.vhdx", Format: "vhdx", Overlay: "boot-overlay.qcow2"},
		Firmware: OVMF, OVMF: "/fw/OVMF.fd", Accel: TCG, GuestAgent: "qga.sock"}
	args, err := Args(c)
	require.NoError(t, err)
	s := strings.Join(args, " ")
	assert.Contains(t, s, "-bios /fw/OVMF.fd -drive file=boot-overlay.qcow2,format=qcow2,if=none,id=boot -device virtio-blk-pci,drive=boot,bootindex=0 -no-reboot")
	assert.NotContains(t, s, "win7.vhdx", "QEMU opens the overlay, never the image")
	assert.NotContains(t, s, "-kernel")
	assert.Contains(t, s, "-chardev socket,id=qga,reconnect=1,path=qga.sock -device virtio-serial-pci,id=vser0 -device virtserialport,bus=vser0.0,chardev=qga,name=org.qemu.guest_agent.0")

	c.Image.Interface = "ide"
	args, err = Args(c)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(args, " "), "-device ide-hd,drive=boot,bootindex=0 ")

	// The image disk's serial, as the OS reads it.
	c.Image.Serial = "OSDISK01"
	args, err = Args(c)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(args, " "), "-device ide-hd,drive=boot,bootindex=0,serial=OSDISK01 ")
	c.Image.Interface = ""
	args, err = Args(c)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(args, " "), "-device virtio-blk-pci,drive=boot,bootindex=0,serial=OSDISK01 ")

	args, err = Args(Config{Boot: BootCDROM, Image: &Image{Path: "/img/a,b.iso"}, Accel: TCG})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(args, " "), "-drive file=/img/a,,b.iso,format=raw,media=cdrom,readonly=on,if=none,id=boot -device ide-cd,drive=boot,bootindex=0 ")

	// With the harness's channel too, both ports share one virtio-serial controller.
	args, err = Args(Config{Kernel: "k", Accel: TCG, GuestAgent: "qga.sock", Channel: &Channel{Socket: "c.sock", Name: "org.oemact.channel.0"}})
	require.NoError(t, err)
	s = strings.Join(args, " ")
	assert.Equal(t, 1, strings.Count(s, "virtio-serial-pci"))
	assert.Contains(t, s, "-chardev socket,id=qga,reconnect=1,path=qga.sock -device virtserialport,bus=vser0.0,chardev=qga,name=org.qemu.guest_agent.0")
}

func TestArgsBootImageInvalid(t *testing.T) {
	disk := func(im Image) func(*Config) {
		return func(c *Config) { c.Kernel, c.Boot, c.Image = "", BootDisk, &im }
	}
	cases := []struct {
		field string
		mod   func(*Config)
		want  string
	}{
		{"Boot", func(c *Config) { c.Boot = "pxe" }, `"pxe": want disk, cdrom or empty`},
		{"Image", func(c *Config) { c.Image = &Image{Path: "x"} }, "set for a kernel boot"},
		{"Kernel", func(c *Config) { c.Boot, c.Image = BootDisk, &Image{Path: "x", Overlay: "o"} }, "set for a disk boot, which runs the image's own boot loader"},
		{"Image.Path", disk(Image{}), "required for a disk boot"},
		{"Image.Path", func(c *Config) { c.Kernel, c.Boot = "", BootCDROM }, "required for a cdrom boot"},
		{"Image.Format", disk(Image{Path: "x", Format: "vdi", Overlay: "o"}), `"vdi": want raw, qcow2, vmdk, vhdx`},
		{"Image.Interface", disk(Image{Path: "x", Interface: "scsi", Overlay: "o"}), `"scsi": want virtio or ide`},
		{"Image.Overlay", disk(Image{Path: "x"}), "required: a disk image is booted through a throw-away qcow2 overlay"},
		{"Image.Serial", disk(Image{Path: "x", Overlay: "o", Serial: "a,b"}), "only printable ASCII without spaces, commas"},
		{"Image.Serial", disk(Image{Path: "x", Overlay: "o", Serial: "123456789012345678901"}), "at most 20"},
		{"Image.Serial", disk(Image{Path: "x", Overlay: "o", Serial: StateDiskSerial}), "reserved for the state disk"},
		{"Image.Interface", func(c *Config) { c.Kernel, c.Boot, c.Image = "", BootCDROM, &Image{Path: "x", Interface: "virtio"} }, "a CD-ROM is on the AHCI/IDE controller"},
		{"Image.Overlay", func(c *Config) { c.Kernel, c.Boot, c.Image = "", BootCDROM, &Image{Path: "x", Overlay: "o"} }, "read-only media"},
		{"Channel.Name", func(c *Config) {
			c.GuestAgent, c.Channel = "q.sock", &Channel{Socket: "c.sock", Name: GuestAgentPort}
		}, "the guest agent's port"},
	}
	for _, tc := range cases {
		t.Run(tc.field+" "+tc.want, func(t *testing.T) {
			c := Config{Kernel: "k", Accel: TCG}
			tc.mod(&c)
			_, err := Args(c)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
