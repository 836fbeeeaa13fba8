package testscripts

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestScriptsLeaveTheTerminal runs the passphrase and prompt scripts as
// `make test` runs them from a developer's terminal: in a session whose
// controlling terminal is a pseudo-terminal. The first runs `n2n init` with
// no passphrase source, which asks on the terminal when there is one; the
// second gives n2n pseudo-terminals of its own to prompt on. Nothing may be
// written to the developer's terminal, and the scripts must pass as they do
// without one.
func TestScriptsLeaveTheTerminal(t *testing.T) {
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptm.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestScripts$/^(passphrase|prompt)$", "-test.count=1")
	var out bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = pts, &out, &out
	// A session of its own whose controlling terminal is the pty (its fd 0).
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	// A prompt waits for input: end the whole session's process group.
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 5 * time.Second
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()

	written := make(chan []byte, 1)
	go func() {
		var got []byte
		b := make([]byte, 4096)
		for {
			n, err := ptm.Read(b)
			if n > 0 {
				got = append(got, b[:n]...)
				cancel() // something reached the terminal: stop at once
			}
			if err != nil { // EIO once every holder of the terminal is gone
				written <- got
				return
			}
		}
	}()
	waitErr := c.Wait()
	ptm.Close()
	if got := <-written; len(got) > 0 {
		t.Fatalf("the scripts wrote to the controlling terminal: %q\n%s", got, out.Bytes())
	}
	if waitErr != nil {
		t.Fatalf("passphrase script under a terminal: %v\n%s", waitErr, out.Bytes())
	}
}
