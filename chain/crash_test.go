package chain

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestOpenAfterCrash: a process that appends and exits without Close (a
// crash, SIGKILL) leaves a store that must still open — read-only included —
// with the append in it.
func TestOpenAfterCrash(t *testing.T) {
	if home := os.Getenv("N2N_CHAIN_CRASH_HOME"); home != "" {
		c, err := Open(context.Background(), home, Options{LockTimeout: time.Second})
		if err != nil {
			os.Exit(3)
		}
		if _, err := c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte("before the crash")}); err != nil {
			os.Exit(4)
		}
		os.Exit(0) // no Close
	}
	c, home := newChain(t, nil)
	c.Close()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestOpenAfterCrash$")
	cmd.Env = append(os.Environ(), "N2N_CHAIN_CRASH_HOME="+home)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crashing child: %v\n%s", err, out)
	}
	for _, ro := range []bool{true, false} {
		c, err := Open(context.Background(), home, Options{ReadOnly: ro, LockTimeout: time.Second})
		if err != nil {
			t.Fatalf("open (read-only %v) after a crash: %v", ro, err)
		}
		h, err := c.Head()
		if err != nil || h.Seq != 1 {
			t.Fatalf("head after crash: %v %v", h.Seq, err)
		}
		if _, err := c.Verify(); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}
