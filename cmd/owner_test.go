package cmd

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/n2n-dev/n2n/keys"
)

// TestHomeOfAnotherUser: root (or anyone) does not write into a home that
// belongs to another user, nor make one inside another user's directory:
// the files it would leave there would shut the owner out. It may still
// read one. Needs root, to give a home to another user (nobody).
func TestHomeOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a home to another user")
	}
	const nobody = 65534
	base := t.TempDir()
	run := func(args ...string) (int, string) {
		var stderr bytes.Buffer
		code := Run(append([]string{"n2n"}, args...), strings.NewReader(""), &bytes.Buffer{}, &stderr)
		return code, stderr.String()
	}
	home := filepath.Join(base, "home")
	if code, out := run("--home", home, "init", "--no-passphrase"); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	chownAll(t, home, nobody)
	user := filepath.Join(base, "user")
	if err := os.Mkdir(user, 0o700); err != nil {
		t.Fatal(err)
	}
	chownAll(t, user, nobody)

	other, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	refused := regexp.MustCompile(`^n2n: error: the home \S+ belongs to (user \S+|uid 65534), not to you \(user root\): n2n will not write into it\nn2n: hint: run n2n as (user \S+|uid 65534), or use --home for a home of your own\n$`)
	for _, args := range [][]string{
		{"commit", "--type", "note", "x"},
		{"grant", "--unrestricted", "echo"},
		{"serve", "--detach"},
		{"peers", "add", other.Public().String(), "/ip4/127.0.0.1/tcp/1"},
	} {
		code, out := run(append([]string{"--home", home}, args...)...)
		if code != exitError || !refused.MatchString(out) {
			t.Errorf("%v: exit %d\n%s", args, code, out)
		}
	}
	if code, out := run("--home", filepath.Join(user, "n2n"), "init", "--no-passphrase"); code != exitError ||
		!strings.Contains(out, "will not make a home inside it") {
		t.Errorf("init inside another user's directory: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(user, "n2n")); !os.IsNotExist(err) {
		t.Errorf("init made %s/n2n anyway: %v", user, err)
	}
	// Reading is no harm.
	if code, out := run("--home", home, "id"); code != 0 {
		t.Errorf("id: exit %d\n%s", code, out)
	}
	// Nothing in the home belongs to root.
	filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err == nil && fi.Sys().(*syscall.Stat_t).Uid != nobody {
			t.Errorf("%s belongs to uid %d", path, fi.Sys().(*syscall.Stat_t).Uid)
		}
		return nil
	})
}

func chownAll(t *testing.T, dir string, uid int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}
