package guestprobe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/oemact/licence"
)

func intp(v int) *int { return &v }

// TestParseSlmgrRealOutput reads slmgr output published with its source (testdata/slmgr/README.md).
func TestParseSlmgrRealOutput(t *testing.T) {
	cases := map[string]WindowsLicence{
		"technet-win7-kmsclient-dli.txt": {Name: "Windows(R) 7, Enterprise edition",
			Description: "Windows Operating System - Windows(R) 7, VOLUME_KMSCLIENT channel", Channel: "VOLUME_KMSCLIENT",
			PartialKey: "DVQ7P", LicenseStatus: licence.Licensed, ActivationExpiryMinutes: intp(243720)},
		"technet-server2008r2-kmshost-dli.txt": {Name: "Windows Server(R), ServerEnterprise edition",
			Description: "Windows Operating System - Windows Server(R), VOLUME_KMS_C channel", Channel: "VOLUME_KMS_C",
			PartialKey: "PYWKV", LicenseStatus: licence.Licensed},
		"checkmk-win7-timebased-eval.txt": {Name: "Windows(R) 7, Enterprise edition",
			Description: "Windows Operating System - Windows(R) 7, TIMEBASED_EVAL channel", Channel: "TIMEBASED_EVAL",
			PartialKey: "JCDDG", LicenseStatus: licence.OOBGrace, RemainingGraceMinutes: intp(12960), RemainingGraceDays: intp(9)},
		"checkmk-server2012-kmsclient.txt": {Name: "Windows(R), ServerStandard edition",
			Description: "Windows(R) Operating System, VOLUME_KMSCLIENT channel", Channel: "VOLUME_KMSCLIENT",
			PartialKey: "MDVJX", LicenseStatus: licence.Licensed, ActivationExpiryMinutes: intp(253564)},
		"checkmk-server2008-kmsclient-wrapped.txt": {Name: "Windows Server(R), ServerStandard edition",
			Description: "Windows Operating System - Windows Server(R), VOLUME_KMSCLIENT channel", Channel: "VOLUME_KMSCLIENT",
			PartialKey: "R7VHC", LicenseStatus: licence.Licensed, ActivationExpiryMinutes: intp(251100)},
		"checkmk-win10-oem-dm.txt": {Name: "Windows(R), Professional edition",
			Description: "Windows(R) Operating System, OEM_DM channel", Channel: "OEM_DM", PartialKey: "D692P", LicenseStatus: licence.Licensed},
		"msdocs-office2010-kmshost-dlv.txt": {Name: "Microsoft Office 2010, KMSHost edition",
			Description: "Microsoft Office 2010 KMS, VOLUME_KMS channel", Channel: "VOLUME_KMS", PartialKey: "XXXXX",
			LicenseStatus: licence.Licensed, RemainingRearms: intp(1)},
		"msdocs-office2010-kmshost-dlv-unlicensed.txt": {Name: "Microsoft Office 2010, KMSHost edition",
			Description: "Microsoft Office 2010 KMS, VOLUME_KMS channel", Channel: "VOLUME_KMS",
			LicenseStatus: licence.Unlicensed, RemainingRearms: intp(1)},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "slmgr", "*.txt"))
	require.NoError(t, err)
	require.Len(t, files, len(cases), "every sample has its expectation")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			want, ok := cases[filepath.Base(f)]
			require.True(t, ok)
			got, err := ParseSlmgr(b)
			require.NoError(t, err)
			assert.Equal(t, &want, got)
			// cscript writes CRLF on Windows.
			got, err = ParseSlmgr([]byte(strings.ReplaceAll(string(b), "\n", "\r\n")))
			require.NoError(t, err)
			assert.Equal(t, &want, got)
		})
	}
}

// TestParseSlmgrEveryStatus covers the statuses and lines no published sample shows, with text
// built from slmgr.vbs's own message formats (L_MsgLicenseStatus*_1, L_MsgLicenseStatusTimeRemaining,
// L_MsgNotificationErrorReason*, L_MsgRemainingWindowsRearmCount).
func TestParseSlmgrEveryStatus(t *testing.T) {
	head := "Software licensing service version: 6.1.7601.17514\r\n\r\nName: Windows(R) 7, Professional edition\r\n" +
		"Description: Windows Operating System - Windows(R) 7, OEM_SLP channel\r\nPartial Product Key: 7QW3D\r\n"
	cases := []struct {
		body string
		want func(*WindowsLicence)
	}{
		{"License Status: Licensed\r\nRemaining Windows rearm count: 3\r\n", func(l *WindowsLicence) {
			l.LicenseStatus, l.RemainingRearms = licence.Licensed, intp(3)
		}},
		{"License Status: Additional grace period (KMS license expired or hardware out of tolerance)\r\nTime remaining: 43200 minute(s) (30 day(s))\r\n", func(l *WindowsLicence) {
			l.LicenseStatus, l.RemainingGraceMinutes, l.RemainingGraceDays = licence.OOTGrace, intp(43200), intp(30)
		}},
		{"License Status: Non-genuine grace period.\r\nTime remaining: 1439 minute(s) (0 day(s))\r\n", func(l *WindowsLicence) {
			l.LicenseStatus, l.RemainingGraceMinutes, l.RemainingGraceDays = licence.NonGenuineGrace, intp(1439), intp(0)
		}},
		{"License Status: Notification\r\nNotification Reason: 0xc004f009 (grace time expired).\r\n", func(l *WindowsLicence) {
			l.LicenseStatus, l.NotificationReason = licence.Notification, "0xC004F009"
		}},
		{"License Status: Extended grace period\r\nTime remaining: 86400 minute(s) (60 day(s))\r\n", func(l *WindowsLicence) {
			l.LicenseStatus, l.RemainingGraceMinutes, l.RemainingGraceDays = licence.ExtendedGrace, intp(86400), intp(60)
		}},
	}
	for _, tc := range cases {
		want := &WindowsLicence{Name: "Windows(R) 7, Professional edition", Description: "Windows Operating System - Windows(R) 7, OEM_SLP channel",
			Channel: "OEM_SLP", PartialKey: "7QW3D"}
		tc.want(want)
		got, err := ParseSlmgr([]byte(head + tc.body))
		require.NoError(t, err, tc.body)
		assert.Equal(t, want, got)
	}
}

func TestParseSlmgrErrors(t *testing.T) {
	ok := "Name: Windows(R) 7, Ultimate edition\nDescription: Windows Operating System - Windows(R) 7, RETAIL channel\nLicense Status: Licensed\n"
	cases := []struct{ in, want string }{
		{"", "slmgr output has no Name, Description, License Status line: is it the output of slmgr /dlv?"},
		{"Error: product not found.\n", "has no Name, Description, License Status line"},
		{strings.Replace(ok, "License Status: Licensed", "License Status: Unknown", 1), `slmgr output line 3: unknown licence status "Unknown"`},
		{strings.Replace(ok, "RETAIL channel", "RETAIL", 1), `slmgr output line 2: no channel in the description "Windows Operating System - Windows(R) 7, RETAIL"`},
		{ok + "Partial Product Key: 7QW3\n", `slmgr output line 4: partial product key "7QW3" is not five letters or digits`},
		{ok + "Partial Product Key: XXXXX-XXXXX-XXXXX-XXXXX-7QW3D\n", "line 4: partial product key"},
		{ok + "Time remaining: 30 days\n", `slmgr output line 4: Time remaining: "30 days" is not "N minute(s) (D day(s))"`},
		{ok + "Time remaining: 99999999999999999999 minute(s) (1 day(s))\n", "the numbers are too large"},
		{ok + "Notification Reason: grace time expired\n", `line 4: notification reason "grace time expired" is not an HRESULT`},
		{ok + "Remaining Windows rearm count: -1\n", `line 4: rearm count "-1" is not a count`},
		{ok + "\n" + ok, `slmgr output line 5: a second licence ("Windows(R) 7, Ultimate edition"); the probe reads one`},
	}
	for _, tc := range cases {
		_, err := ParseSlmgr([]byte(tc.in))
		assert.ErrorContains(t, err, tc.want, "%q", tc.in)
	}
}

func FuzzParseSlmgr(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "slmgr", "*.txt"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Name: x\nDescription: a, B channel\nLicense Status: Notification\nNotification Reason: 0xC004F009.\nTime remaining: 1 minute(s) (0 day(s))\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseSlmgr(b)
		if err == nil && (l.Name == "" || l.Channel == "") {
			t.Fatalf("accepted without a name or channel: %+v", l)
		}
	})
}
