package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
	for _, want := range []string{"EXIT STATUS", "chain verify", "N2N_HOME"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}
