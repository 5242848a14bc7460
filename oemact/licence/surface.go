package licence

import "strings"

// Surface is one way Windows tells the user, in Notification, that it is not activated
// (DESIGN.md's list).
type Surface string

const (
	SurfaceLogonDialog  Surface = "logon-dialog"  // a dialog at every logon
	SurfaceTrayNotice   Surface = "tray-notice"   // a notice above the notification area
	SurfaceBlackDesktop Surface = "black-desktop" // a black desktop with a persistent notice
	SurfaceAppReminder  Surface = "app-reminder"  // reminders when certain applications open
)

var surfaceWords = map[Surface]string{
	SurfaceLogonDialog:  "a dialog at logon asks to activate Windows now",
	SurfaceTrayNotice:   "a notice above the notification area says this copy of Windows is not genuine",
	SurfaceBlackDesktop: "the desktop turns black with a persistent notice in the corner",
	SurfaceAppReminder:  "a reminder to activate appears",
}

// Describe says what the user sees.
func (s Surface) Describe() string {
	if w, ok := surfaceWords[s]; ok {
		return capital(w)
	}
	return string(s)
}

// SurfacesFor returns the surfaces active in a status: all four in Notification, none otherwise
// (grace reminders are events, not standing surfaces).
func SurfacesFor(s Status) []Surface {
	if s != Notification {
		return []Surface{}
	}
	return []Surface{SurfaceLogonDialog, SurfaceTrayNotice, SurfaceBlackDesktop, SurfaceAppReminder}
}

func surfaceSummary() string {
	return strings.Join([]string{"black desktop", "notice above the notification area", "dialog at every logon", "reminders when certain applications open"}, ", ")
}
