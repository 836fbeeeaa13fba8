package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/rpc"
)

// TestHandlerLeavesChild: a handler that exits 0 but leaves a background
// child holding its stdout and stderr (in its process group, or in a
// session of its own) replies with what it wrote before it exited, with its
// own status; a failing one with its stderr and status. A child left in the
// group is gone once the call returns.
func TestHandlerLeavesChild(t *testing.T) {
	dir := t.TempDir()
	pidFile := func(name string) string { return filepath.Join(dir, name+".pid") }
	fns := map[string]string{
		"ingroup": "echo reply; sleep 30 & echo $! > " + pidFile("ingroup") + "; echo done",
		"escaped": "echo reply; setsid sleep 30 & echo $! > " + pidFile("escaped") + "; echo done",
		"failing": "echo partial; echo 'it broke' >&2; setsid sleep 30 & echo $! > " + pidFile("failing") + "; exit 4",
	}
	f := NewFunctions(t.TempDir(), fns, 4, os.Environ())
	for name := range fns {
		t.Cleanup(func() {
			if pid, err := readPid(pidFile(name)); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range []string{"ingroup", "escaped"} {
		r := f.Run(ctx, &Invocation{Function: name})
		if r.Status != rpc.StatusOK || string(r.Payload) != "reply\ndone\n" {
			t.Fatalf("%s: %+v (%q)", name, r, r.Payload)
		}
	}
	r := f.Run(ctx, &Invocation{Function: "failing"})
	if r.Status != rpc.StatusHandlerError || r.Error != "it broke" {
		t.Fatalf("failing: %+v", r)
	}
	pid, err := readPid(pidFile("ingroup"))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil && !zombie(pid) {
		t.Fatalf("the child left in the group (pid %d) outlived the call", pid)
	}
}

// TestHandlerTimeoutWithEscapedChild: at the deadline a handler whose child
// left its group and holds its pipes is answered timeout, and the next call
// runs in the slot it had.
func TestHandlerTimeoutWithEscapedChild(t *testing.T) {
	dir := t.TempDir()
	pid := filepath.Join(dir, "child.pid")
	f := NewFunctions(dir, map[string]string{
		"stuck": "setsid sleep 30 & echo $! > " + pid + "; sleep 30",
		"echo":  "cat",
	}, 1, os.Environ())
	t.Cleanup(func() {
		if p, err := readPid(pid); err == nil {
			syscall.Kill(p, syscall.SIGKILL)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if r := f.Run(ctx, &Invocation{Function: "stuck"}); r.Status != rpc.StatusTimeout {
		t.Fatalf("stuck: %+v", r)
	}
	if r := f.Run(context.Background(), &Invocation{Function: "echo", Payload: []byte("x")}); r.Status != rpc.StatusOK || string(r.Payload) != "x" {
		t.Fatalf("the call after: %+v", r)
	}
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// zombie reports whether pid has exited but is not reaped yet.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}
