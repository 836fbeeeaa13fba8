package cmd

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// homeUnderTest is set in the child that TestUnreadableHome runs as another
// user: the home it must fail to read.
const homeUnderTest = "N2N_TEST_UNREADABLE_HOME"

// TestUnreadableHome: a home this user may not read is "permission denied"
// (exit 1) with a hint about ownership, not "no identity … run n2n init"
// (which would then fail too). As root, the command runs as user nobody,
// since root reads every home; otherwise the home is made unreadable.
func TestUnreadableHome(t *testing.T) {
	if home := os.Getenv(homeUnderTest); home != "" { // the child, as nobody
		var stdout, stderr bytes.Buffer
		code := Run([]string{"n2n", "--home", home, "id"}, strings.NewReader(""), &stdout, &stderr)
		os.Stderr.Write(stderr.Bytes())
		os.Exit(code)
	}
	home := filepath.Join(t.TempDir(), "home")
	var out bytes.Buffer
	if code := Run([]string{"n2n", "--home", home, "init", "--no-passphrase"}, strings.NewReader(""), &out, &out); code != 0 {
		t.Fatalf("init: exit %d: %s", code, out.String())
	}
	var code int
	var stderr bytes.Buffer
	if os.Geteuid() != 0 {
		if err := os.Chmod(home, 0); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(home, 0o700)
		code = Run([]string{"n2n", "--home", home, "id"}, strings.NewReader(""), io.Discard, &stderr)
	} else {
		code = runAsNobody(t, home, &stderr)
	}
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	want := regexp.MustCompile(`^n2n: error: cannot read the home \S+: permission denied\nn2n: hint: it belongs to another user .*\n$`)
	if !want.Match(stderr.Bytes()) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// runAsNobody runs this test's child as user nobody (65534) on home, with a
// copy of the test binary that nobody may run, and returns its exit status.
func runAsNobody(t *testing.T, home string, stderr *bytes.Buffer) int {
	dir, err := os.MkdirTemp("", "n2n-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	exe := filepath.Join(dir, "cmd.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(exe, 0o755) // Run set a umask of 077
	c := exec.Command(exe, "-test.run=^TestUnreadableHome$")
	c.Dir = dir
	c.Env = append(os.Environ(), homeUnderTest+"="+home)
	c.Stderr = stderr
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	err = c.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running as nobody: %v", err)
	}
	return c.ProcessState.ExitCode()
}
