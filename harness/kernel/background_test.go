package kernel

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/hosttool/hosttooltest"
)

// The default cache is the user's ($XDG_CACHE_HOME, else ~/.cache), never the working
// directory's; OEMACT_CACHE still wins.
func TestCacheDirDefault(t *testing.T) {
	t.Setenv(EnvCache, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	d, err := CacheDir()
	require.NoError(t, err)
	assert.Equal(t, "/xdg/oemact", d)

	t.Setenv("XDG_CACHE_HOME", "")
	d, err = CacheDir()
	require.NoError(t, err)
	assert.Equal(t, "/home/u/.cache/oemact", d)

	t.Setenv(EnvCache, "rel/cache")
	d, err = CacheDir()
	require.NoError(t, err)
	wd, _ := os.Getwd()
	assert.Equal(t, filepath.Join(wd, "rel", "cache"), d)

	t.Setenv(EnvCache, "")
	t.Setenv("HOME", "")
	_, err = CacheDir()
	assert.ErrorContains(t, err, "set OEMACT_CACHE")
}

// waitFor polls for a file a child process writes.
func waitFor(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s was not written", path)
	return ""
}

// StartBuild starts the build command in a session of its own with its output in the build log,
// and starts nothing while a build holds the build lock.
func TestStartBuild(t *testing.T) {
	cache := t.TempDir()
	out := filepath.Join(t.TempDir(), "out")
	script := filepath.Join(t.TempDir(), "build.sh")
	// The "build" prints its arguments and records its process and session ids.
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho building \"$@\"\nread -r stat < /proc/$$/stat\necho \"$$ $stat\" > "+out+"\n"), 0o755))

	bg, err := StartBuild(cache, []string{script, "--cache", cache})
	require.NoError(t, err)
	assert.True(t, bg.Started)
	assert.Equal(t, filepath.Join(cache, "kernel", BuildLogName), bg.Log)
	f := strings.Fields(waitFor(t, out))
	require.Greater(t, len(f), 7)
	assert.Equal(t, strconv.Itoa(bg.PID), f[0])
	assert.Equal(t, f[0], f[6], "the build leads a session of its own (/proc/PID/stat field 6)")
	log := waitFor(t, bg.Log)
	assert.Contains(t, log, "building --cache "+cache+"\n")

	// A build holds the lock: nothing is started, and runs on the cloud kernel say so.
	unlock, err := lock(filepath.Join(cache, "kernel", buildLock))
	require.NoError(t, err)
	running, err := BuildRunning(cache)
	require.NoError(t, err)
	assert.True(t, running)
	require.NoError(t, os.Remove(out))
	bg2, err := StartBuild(cache, []string{script})
	require.NoError(t, err)
	assert.False(t, bg2.Started)
	assert.Zero(t, bg2.PID)
	assert.Equal(t, bg.Log, bg2.Log)
	cloud := &Kernel{Source: "cache", Release: "6.1.0-57-cloud-amd64"}
	assert.Equal(t, "booting Debian's cloud kernel 6.1.0-57-cloud-amd64 while the harness's own kernel is built (log: "+bg.Log+
		"); later runs boot that one, about twice as fast", CloudNote(cache, cloud))
	unlock()

	running, err = BuildRunning(cache)
	require.NoError(t, err)
	assert.False(t, running)
	assert.Contains(t, CloudNote(cache, cloud), "'oemact kernel build' (make kernel) compiles the harness's own")
	assert.Empty(t, CloudNote(cache, &Kernel{Source: "cache", Built: true}), "the built kernel needs no note")
	assert.Empty(t, CloudNote(cache, &Kernel{Source: "--kernel"}), "a kernel the user named needs no note")
	_, err = os.Stat(out)
	assert.True(t, os.IsNotExist(err), "no second build was started")
}

func TestBuildRunningNoCache(t *testing.T) {
	running, err := BuildRunning(filepath.Join(t.TempDir(), "nothing"))
	require.NoError(t, err)
	assert.False(t, running)
}

// finishes reports whether f returns within d.
func finishes(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// A build holds its own lock for its minutes: a fetch (the cloud kernel runs boot meanwhile)
// goes on, and a second build waits and then reuses the first one's kernel.
func TestBuildLockLetsFetchesThrough(t *testing.T) {
	deb := fakeDeb(t)
	apt := installFakeApt(t, deb, debSHA(t, deb), false)
	cache := t.TempDir()
	root := filepath.Join(cache, "kernel")
	require.NoError(t, os.MkdirAll(root, 0o755))
	unlock, err := lock(filepath.Join(root, buildLock))
	require.NoError(t, err)
	defer unlock()
	var ferr error
	require.True(t, finishes(time.Minute, func() { _, ferr = Fetch(context.Background(), FetchOptions{CacheDir: cache}) }),
		"a fetch does not wait for a build")
	require.NoError(t, ferr)
	assert.Equal(t, 1, apt.count(t))
	k, err := Locate(cache, "")
	require.NoError(t, err)
	assert.False(t, k.Built, "the cloud kernel boots until the build is done")
}

func TestBuildsOneAtATime(t *testing.T) {
	if missing := BuildToolsMissing(); len(missing) > 0 {
		hosttooltest.Unavailable(t, "kernel build tools missing: "+strings.Join(missing, ", "))
	}
	deb := fakeSourceDeb(t)
	installFakeSourceApt(t, deb, debSHA(t, deb))
	t.Setenv(EnvKernel, "")
	frag := []byte("CONFIG_64BIT=y\n")
	cache := t.TempDir()
	root := filepath.Join(cache, "kernel")
	require.NoError(t, os.MkdirAll(root, 0o755))

	// The fetch lock held (a fetch in progress) does not stop a build.
	unlockFetch, err := lock(filepath.Join(root, fetchLock))
	require.NoError(t, err)
	var first *Kernel
	var berr error
	require.True(t, finishes(2*time.Minute, func() {
		first, berr = Build(context.Background(), BuildOptions{CacheDir: cache, Config: frag, Jobs: 1})
	}), "a build does not wait for a fetch")
	unlockFetch()
	require.NoError(t, berr)

	// The build lock held (another build running): a second build waits for it, then finds the
	// kernel that build made instead of building again.
	installed := copyDir(t, first)
	require.NoError(t, os.RemoveAll(first.Dir))
	unlockBuild, err := lock(filepath.Join(root, buildLock))
	require.NoError(t, err)
	done := make(chan error, 1)
	var log strings.Builder
	go func() {
		_, err := Build(context.Background(), BuildOptions{CacheDir: cache, Config: frag, Jobs: 1, Log: &log})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a second build ran while the first held the lock: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	// What the first build would have installed meanwhile.
	require.NoError(t, os.Rename(installed, first.Dir))
	unlockBuild()
	require.NoError(t, <-done)
	assert.NotContains(t, log.String(), "compiling", "the waiting build reused the kernel")
}

// copyDir copies a built kernel's folder beside it and returns the copy's path.
func copyDir(t *testing.T, k *Kernel) string {
	t.Helper()
	dst, err := os.MkdirTemp(filepath.Dir(k.Dir), ".copy-")
	require.NoError(t, err)
	require.NoError(t, os.CopyFS(dst, os.DirFS(k.Dir)))
	return dst
}
