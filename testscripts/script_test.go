package testscripts

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/cmd"
	"github.com/n2n-dev/n2n/keys"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"n2n": func() {
			leaveTerminal()
			// Test-only knob, set only here: a cheap passphrase KDF.
			keys.SetKDFCostForTests()
			os.Exit(cmd.Main())
		},
		// n2n as a person runs it on a terminal that is its controlling
		// terminal (tty -ctty gives it a pseudo-terminal as one): it
		// keeps it. Anywhere else it refuses to run, as it could reach
		// the developer's terminal.
		"n2n-on-terminal": func() {
			if sid, err := unix.Getsid(0); err != nil || sid != os.Getpid() {
				fmt.Fprintln(os.Stderr, "testscripts: n2n-on-terminal runs only in a session of its own (tty -ctty)")
				os.Exit(99)
			}
			keys.SetKDFCostForTests()
			os.Exit(cmd.Main())
		},
	})
}

// leaveTerminal puts this n2n process in a session of its own, which has no
// controlling terminal: a test run from a developer's terminal can then never
// prompt on it (opening /dev/tty fails, as in CI). A process that is already
// a session leader (serve --detach's child) has none either; one that still
// has a terminal is a harness bug, and exits loudly instead of prompting.
func leaveTerminal() {
	unix.Setsid()
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		tty.Close()
		fmt.Fprintln(os.Stderr, "testscripts: n2n kept a controlling terminal")
		os.Exit(99)
	}
}

func TestScripts(t *testing.T) {
	testscript.Run(t, params("."))
}

// TestNAT runs the scripts of nat/ in a small internet of network
// namespaces (netns_test.go). They need root, ip and iptables, which CI
// has; elsewhere they are skipped, saying so.
func TestNAT(t *testing.T) {
	if !netnsAvailable() {
		t.Skip("skipped: needs root, ip netns and iptables (Debian: iproute2, iptables); CI has them")
	}
	testscript.Run(t, params("nat"))
}

func params(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("N2N_HOME", filepath.Join(e.WorkDir, "home"))
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("NO_COLOR", "1")
			// A daemon started with --detach is not the script's child:
			// stop any that a failed script leaves behind.
			e.Defer(func() { killDaemons(e.WorkDir) })
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "netns" {
				return netnsAvailable(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitcode,
			"waitfile":   cmdWaitfile,
			"repeat":     cmdRepeat,
			"corrupt":    cmdCorrupt,
			"nosecrets":  cmdNoSecrets,
			"setvar":     cmdSetvar,
			"poll":       cmdPoll,
			"genfile":    cmdGenfile,
			"gone":       cmdGone,
			"concurrent": cmdConcurrent,
			"mistype":    cmdMistype,
			"secretof":   cmdSecretOf,
			"topology":   cmdTopology,
			"altergrant": cmdAlterGrant,
			"tty":        cmdTTY,
		},
	}
}

// exitcode N prog args...: run prog and insist on exit status N exactly.
// stdout and stderr are kept for the following stdout/stderr checks.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Logf("stderr: %s", ts.ReadFile("stderr"))
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// waitfile FILE [TIMEOUT]: wait until FILE exists and is not empty.
func cmdWaitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: waitfile FILE [timeout]")
	}
	timeout := 30 * time.Second
	if len(args) == 2 {
		var err error
		if timeout, err = time.ParseDuration(args[1]); err != nil {
			ts.Fatalf("waitfile: %v", err)
		}
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("waitfile: %s did not appear within %v", args[0], timeout)
}

// repeat N prog args...: run prog N times in a row; every run must exit 0.
func cmdRepeat(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: repeat N prog [args...]")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("repeat: %v", err)
	}
	for i := 0; i < n; i++ {
		if err := ts.Exec(args[1], args[2:]...); err != nil {
			ts.Fatalf("repeat: run %d of %d: %v\n%s", i+1, n, err, ts.ReadFile("stderr"))
		}
	}
}

// corrupt HOME SEQ OFFSET: flip one byte of a stored action (signature ‖
// action encoding) in an unencrypted home that no process holds.
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: corrupt HOME SEQ OFFSET")
	}
	seq, _ := strconv.ParseUint(args[1], 10, 64)
	off, _ := strconv.Atoi(args[2])
	c, err := chain.Open(context.Background(), ts.MkAbs(args[0]), chain.Options{LockTimeout: 5 * time.Second})
	ts.Check(err)
	defer c.Close()
	ts.Check(chain.FlipStoredByte(c, seq, off))
}

// nosecrets HOME [STRING...]: the home's private key (read with the
// passphrase in $N2N_PASSPHRASE) and each STRING must not appear in plain
// text in any file of the home.
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: nosecrets HOME [STRING...]")
	}
	home := ts.MkAbs(args[0])
	b, err := os.ReadFile(filepath.Join(home, "kdf"))
	ts.Check(err)
	var kdf keys.KDF
	ts.Check(kdf.UnmarshalText(b))
	keys.SetKDFCostForTests()
	key := kdf.Key([]byte(ts.Getenv("N2N_PASSPHRASE")))
	c, err := chain.Open(context.Background(), home, chain.Options{ReadOnly: true, EncryptionKey: key, LockTimeout: 5 * time.Second})
	ts.Check(err)
	seed := c.Identity().Seed()
	c.Close()
	needles := [][]byte{seed, c.Identity().PrivateKey()}
	for _, s := range args[1:] {
		needles = append(needles, []byte(s))
	}
	err = filepath.Walk(home, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, n := range needles {
			if bytes.Contains(data, n) {
				return fmt.Errorf("secret %d found in plain text in %s", i, strings.TrimPrefix(path, home))
			}
		}
		return nil
	})
	ts.Check(err)
}

// setvar NAME REGEXP: set $NAME to the first submatch of REGEXP (or the whole
// match) in the last command's stdout.
func cmdSetvar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setvar NAME REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if m == nil {
		ts.Fatalf("setvar: no match for %q in stdout", args[1])
	}
	ts.Setenv(args[0], m[len(m)-1])
}

func killDaemons(dir string) {
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "n2n.pid" {
			if b, err := os.ReadFile(path); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		return nil
	})
}

// poll TIMEOUT REGEXP prog args...: run prog until its stdout matches
// REGEXP (exit status ignored), at most until TIMEOUT.
func cmdPoll(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: poll TIMEOUT REGEXP prog [args...]")
	}
	timeout, err := time.ParseDuration(args[0])
	ts.Check(err)
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(timeout)
	for {
		ts.Exec(args[2], args[3:]...)
		if re.MatchString(ts.ReadFile("stdout")) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("poll: %q never matched within %v", args[1], timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// genfile NAME SIZE: write SIZE pseudo-random (deterministic) bytes.
func cmdGenfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: genfile NAME SIZE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// gone PID [TIMEOUT]: the process has exited (it may linger as a zombie,
// whose parent — here not n2n — has not reaped it), or does within TIMEOUT.
func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 && len(args) != 2 {
		ts.Fatalf("usage: gone PID [TIMEOUT]")
	}
	var timeout time.Duration
	if len(args) == 2 {
		var err error
		timeout, err = time.ParseDuration(args[1])
		ts.Check(err)
	}
	deadline := time.Now().Add(timeout)
	for {
		running := false
		if b, err := os.ReadFile("/proc/" + args[0] + "/stat"); err == nil {
			// The state follows the parenthesised command name.
			if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
				running = b[i+2] != 'Z' && b[i+2] != 'X'
			}
		}
		if running == neg {
			return
		}
		if !time.Now().Before(deadline) {
			ts.Fatalf("process %s: running %v", args[0], running)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// concurrent N CODES prog args...: start N copies of prog at once and wait
// (at most a minute) for all; each must exit with one of CODES
// (comma-separated). stdout gets one "code count" line per status.
func cmdConcurrent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: concurrent N CODES prog [args...]")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	allowed := map[int]bool{}
	for _, c := range strings.Split(args[1], ",") {
		code, err := strconv.Atoi(c)
		ts.Check(err)
		allowed[code] = true
	}
	path, err := exec.LookPath(args[2])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmd := exec.CommandContext(ctx, path, args[3:]...)
		cmd.Dir = ts.Getenv("WORK")
		cmd.Env = os.Environ()
		for _, k := range []string{"N2N_HOME", "HOME", "NO_COLOR", "PATH"} {
			cmd.Env = append(cmd.Env, k+"="+ts.Getenv(k))
		}
		ts.Check(cmd.Start())
		cmds[i] = cmd
	}
	counts := map[int]int{}
	for _, cmd := range cmds {
		err := cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			ts.Fatalf("concurrent: %v", err)
		}
		if !allowed[code] {
			ts.Fatalf("concurrent: a run exited %d, want one of %s", code, args[1])
		}
		counts[code]++
	}
	var b strings.Builder
	for code, c := range counts {
		fmt.Fprintf(&b, "%d %d\n", code, c)
	}
	ts.Stdout().Write([]byte(b.String()))
}

// mistype VAR: set VAR_BAD to $VAR with one character in its middle changed.
func cmdMistype(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: mistype VAR")
	}
	b := []byte(ts.Getenv(args[0]))
	if len(b) < 20 {
		ts.Fatalf("mistype: $%s is too short", args[0])
	}
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	ts.Setenv(args[0]+"_BAD", string(b))
}

// secretof VAR TICKET: set VAR_B64URL, VAR_B64 (regexp-quoted) and VAR_HEX to the forms of
// the secret inside the ticket text TICKET.
func cmdSecretOf(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: secretof VAR TICKET")
	}
	t, err := caps.ParseTicket(args[1])
	ts.Check(err)
	ts.Setenv(args[0]+"_B64URL", base64.RawURLEncoding.EncodeToString(t.Secret))
	ts.Setenv(args[0]+"_B64", regexp.QuoteMeta(base64.StdEncoding.EncodeToString(t.Secret)))
	ts.Setenv(args[0]+"_HEX", hex.EncodeToString(t.Secret))
}
