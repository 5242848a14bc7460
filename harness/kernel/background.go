package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/oemact/oemact/harness/internal/filelock"
)

// BuildLogName is the log of a build started in the background, in the cache's kernel folder.
const BuildLogName = "build.log"

// Background is a build StartBuild started, or found running.
type Background struct {
	Started bool   // false: a build was already running, none was started
	Log     string // where the build writes its progress
	PID     int    // the process started (0 when none was)
}

// StartBuild starts command (an `oemact kernel build` of cacheDir, "" meaning CacheDir()) as a
// process of its own session, so that it outlives the caller and a Ctrl-C of the caller's
// terminal, with its output in the cache's build log, and returns at once. Until the build is in
// the cache, runs boot Debian's cloud kernel (Cached): a fresh machine reaches its first verdict
// without waiting minutes for the compiler. When a build is already running (its lock is held),
// it starts nothing. Two builds never run at once: Build holds the cache's build lock, so a
// second one started in a race waits for the first and then finds its kernel built.
func StartBuild(cacheDir string, command []string) (Background, error) {
	var err error
	if cacheDir, err = cacheDirOr(cacheDir); err != nil {
		return Background{}, err
	}
	if len(command) == 0 {
		return Background{}, errors.New("kernel: no build command")
	}
	root := filepath.Join(cacheDir, "kernel")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Background{}, fmt.Errorf("kernel cache: %w", err)
	}
	bg := Background{Log: filepath.Join(root, BuildLogName)}
	running, err := BuildRunning(cacheDir)
	if err != nil || running {
		return bg, err
	}
	log, err := os.OpenFile(bg.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return Background{}, fmt.Errorf("kernel build log: %w", err)
	}
	defer log.Close()
	fmt.Fprintf(log, "%s: starting %q\n", time.Now().UTC().Format(time.RFC3339), command)
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Background{}, fmt.Errorf("starting the kernel build: %w", err)
	}
	bg.Started, bg.PID = true, cmd.Process.Pid
	// Reap it when it ends if this process lives that long; otherwise init does.
	go cmd.Wait() // its outcome is in the log
	return bg, nil
}

// BuildRunning reports whether a build of cacheDir's kernel ("" meaning CacheDir()) holds the
// cache's build lock now.
func BuildRunning(cacheDir string) (bool, error) {
	var err error
	if cacheDir, err = cacheDirOr(cacheDir); err != nil {
		return false, err
	}
	held, err := filelock.Held(filepath.Join(cacheDir, "kernel", buildLock))
	if err != nil {
		return false, fmt.Errorf("kernel build lock: %w", err)
	}
	return held, nil
}

// CloudNote says, for a kernel the cache gave (not one the user named), what booting it means
// when it is Debian's cloud kernel rather than the harness's own: "" for a built kernel.
func CloudNote(cacheDir string, k *Kernel) string {
	if k == nil || k.Built || k.Source != "cache" {
		return ""
	}
	if running, _ := BuildRunning(cacheDir); running {
		root, _ := cacheDirOr(cacheDir)
		return fmt.Sprintf("booting Debian's cloud kernel %s while the harness's own kernel is built (log: %s); later runs boot that one, about twice as fast",
			k.Release, filepath.Join(root, "kernel", BuildLogName))
	}
	return fmt.Sprintf("booting Debian's cloud kernel %s; 'oemact kernel build' (make kernel) compiles the harness's own, which boots about twice as fast", k.Release)
}
