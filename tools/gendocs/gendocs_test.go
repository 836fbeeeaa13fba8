package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/n2n-dev/n2n/cmd"
)

// TestCheckedInDocsAreFresh fails when man/ or completions/ differ from what
// the code generates: run `make docs` and commit the result.
func TestCheckedInDocsAreFresh(t *testing.T) {
	tmp := t.TempDir()
	if err := run(tmp); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"man/n2n.1", "completions/n2n.bash", "completions/_n2n", "completions/n2n.fish"} {
		want, err := os.ReadFile(filepath.Join(tmp, f))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run 'make docs'", f)
		}
	}
}

// TestManPageRenders runs man(1) on the page when man is installed.
func TestManPageRenders(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man is not installed")
	}
	out, err := exec.Command("man", "-l", filepath.Join("..", "..", "man", "n2n.1")).CombinedOutput()
	if err != nil {
		t.Fatalf("man: %v\n%s", err, out)
	}
	for _, want := range []string{"EXIT STATUS", "chain verify", "N2N_HOME", "FUNCTION HANDLERS", "N2N_CALLER", "ENVIRONMENT", "FILES"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}

// TestReadmeStandsAlone: the README opens with the two commands a new user
// runs, says which Go it needs and that the first build is long, points at
// nothing outside the repository, and lists the exit statuses as the code
// has them.
func TestReadmeStandsAlone(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if !strings.HasPrefix(readme, "```\nmake demo\nmake test\n```\n") {
		t.Errorf("the README does not open with exactly `make demo` and `make test`:\n%.80s", readme)
	}
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goVersion == nil || !strings.Contains(readme, "Go "+string(goVersion[1])) {
		t.Errorf("the README does not name go.mod's Go version")
	}
	for _, want := range []string{"libp2p", "several minutes", "make install", "completions", "N2N_CALLER", "--debug"} {
		if !strings.Contains(readme, want) {
			t.Errorf("the README lacks %q", want)
		}
	}
	for _, bad := range regexp.MustCompile(`\.\./|[Ii]ssue #?\d|DESIGN\.md|seeds/`).FindAllString(readme, -1) {
		t.Errorf("the README points outside the repository: %q", bad)
	}
	for _, x := range cmd.ExitCodes() {
		if row := "| " + x[0] + " | " + x[1] + " |"; !strings.Contains(readme, row) {
			t.Errorf("the README's exit statuses lack %q", row)
		}
	}
}

// TestMakeInstall: make install puts the binary, the man page and the three
// completion scripts under PREFIX.
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	dest := t.TempDir()
	out, err := exec.Command("make", "-C", filepath.Join("..", ".."), "install", "DESTDIR="+dest, "PREFIX=/usr/local").CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, f := range []string{
		"bin/n2n", "share/man/man1/n2n.1", "share/bash-completion/completions/n2n",
		"share/zsh/site-functions/_n2n", "share/fish/vendor_completions.d/n2n.fish",
	} {
		if _, err := os.Stat(filepath.Join(dest, "usr/local", f)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
}
