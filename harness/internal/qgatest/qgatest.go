// Package qgatest runs Debian's QEMU guest agent (qemu-ga) on the host for tests, listening on a
// unix socket instead of a virtio-serial port, with every command that could change the host
// disabled.
package qgatest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// Blocked are the agent commands that would change the host the agent runs on (it acts as the
// user running the tests, often root).
var Blocked = []string{
	"guest-shutdown", "guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid",
	"guest-fsfreeze-freeze", "guest-fsfreeze-freeze-list", "guest-fsfreeze-thaw", "guest-fstrim",
	"guest-set-user-password", "guest-set-vcpus", "guest-set-memory-blocks", "guest-set-time",
	"guest-ssh-add-authorized-keys", "guest-ssh-remove-authorized-keys", "guest-file-write",
}

// Start runs qemu-ga (skipping the test, or failing it in CI, when it is not installed) and
// returns a connection to it and the agent's folder. The agent is stopped when the test ends.
func Start(t *testing.T) (net.Conn, string) {
	t.Helper()
	bin := hosttooltest.Require(t, "qemu-ga")
	dir := t.TempDir()
	sock := filepath.Join(dir, "qga.sock")
	logPath := filepath.Join(dir, "qga.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, "-m", "unix-listen", "-p", sock, "-t", dir, "-f", filepath.Join(dir, "qga.pid"),
		"-b", strings.Join(Blocked, ","))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var conn net.Conn
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if conn, err = net.Dial("unix", sock); err == nil {
			t.Cleanup(func() { conn.Close() })
			return conn, dir
		}
	}
	out, _ := os.ReadFile(logPath)
	t.Fatalf("qemu-ga did not listen on %s: %v\n%s", sock, err, out)
	return nil, ""
}
