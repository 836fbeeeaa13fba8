package testscripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// inMountNS marks the test process that TestMountScripts starts in a
// private mount namespace.
const inMountNS = "N2N_TEST_IN_MOUNTNS"

// TestMountScripts runs the scripts in mountns/, which need mounts of their
// own (a small tmpfs to fill, a read-only bind mount). It needs root: the
// test binary runs itself again in a private mount namespace (Go makes its
// mounts private there), so nothing it mounts is seen outside, and the
// mounts go with the namespace when that process exits (not before: the
// scripts' background daemons still use them while they stop); its
// temporary directory, where the scripts work, is removed after. Without
// root the scripts are skipped.
func TestMountScripts(t *testing.T) {
	if os.Getenv(inMountNS) == "" {
		if os.Geteuid() != 0 {
			t.Skip("the mountns scripts need root, for a private mount namespace (tmpfs, read-only bind mounts); CI runs as root")
		}
		args := []string{"-test.run=^TestMountScripts$", "-test.count=1"}
		if testing.Verbose() {
			args = append(args, "-test.v")
		}
		if d, ok := t.Deadline(); ok {
			args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), inMountNS+"=1", "TMPDIR="+t.TempDir())
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the mountns scripts, in a private mount namespace: %v\n%s", err, out)
		}
		t.Logf("%s", out)
		return
	}
	p := params("mountns")
	p.Cmds["tmpfs"] = cmdTmpfs
	p.Cmds["fill"] = cmdFill
	p.Cmds["robind"] = cmdROBind
	testscript.Run(t, p)
}

// tmpfs DIR SIZE: mount a tmpfs of SIZE (as mount's size= option) on DIR.
func cmdTmpfs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tmpfs DIR SIZE")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o700))
	ts.Check(unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+args[1]+",mode=0700"))
}

// fill DIR FREE: write DIR/ballast until the filesystem of DIR has at most
// FREE bytes (a number, or with the suffix M for MiB) left for this user.
func cmdFill(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: fill DIR FREE")
	}
	dir := ts.MkAbs(args[0])
	keep, err := parseSize(args[1])
	ts.Check(err)
	f, err := os.OpenFile(filepath.Join(dir, "ballast"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	ts.Check(err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		var st unix.Statfs_t
		ts.Check(unix.Statfs(dir, &st))
		free := st.Bavail * uint64(st.Bsize)
		if free <= keep {
			return
		}
		n := min(uint64(len(chunk)), free-keep)
		if _, err := f.Write(chunk[:n]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			ts.Fatalf("fill: %v", err)
		}
	}
}

func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	if n := len(s); n > 0 && s[n-1] == 'M' {
		s, mult = s[:n-1], 1<<20
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v * mult, err
}

// robind DIR: bind-mount DIR read-only onto itself (root cannot write
// through it either).
func cmdROBind(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: robind DIR")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(unix.Mount(dir, dir, "", unix.MS_BIND, ""))
	ts.Check(unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""))
}
