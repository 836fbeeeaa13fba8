package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/n2n-dev/n2n/internal/vectors"
)

// The protocol's test vectors (PROTOCOL.md, "Test vectors") are the files in
// testdata/. They and the implementation cannot drift apart: each file must
// be what the implementation makes from the file's inputs, byte for byte,
// and must pass vectors.Check, which decodes every output the file lists
// with the implementation's decoders and compares the result with its
// inputs.

func builtVectors(t *testing.T) []vectors.File {
	t.Helper()
	files, err := vectors.Build()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// conforms is the whole check of one vector file's content.
func conforms(f vectors.File, content []byte) error {
	if !bytes.Equal(content, f.Content) {
		return fmt.Errorf("testdata/%s is not what the implementation makes (run make vectors if the change is meant):\n%s", f.Name, firstDiff(f.Content, content))
	}
	return vectors.Check(f.Name, content)
}

func TestVectorFiles(t *testing.T) {
	files := builtVectors(t)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		content, err := os.ReadFile(filepath.Join("testdata", f.Name))
		if err != nil {
			t.Error(err)
			continue
		}
		if err := conforms(f, content); err != nil {
			t.Error(err)
		}
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(names, e.Name()) {
			t.Errorf("testdata/%s is not a vector that is checked", e.Name())
		}
	}
}

// TestVectorFilesCatchOneByte changes one byte of each vector file in
// memory, on every line (the first and last byte of its name, its value's
// first, middle and last byte; a comment's middle), and expects the check to
// fail. On a field's line the decoding check alone must fail too: it reads
// every field, whatever the file comparison says.
func TestVectorFilesCatchOneByte(t *testing.T) {
	for _, f := range builtVectors(t) {
		if err := vectors.Check(f.Name, f.Content); err != nil {
			t.Fatalf("the vector as built does not check: %v", err)
		}
		start := 0
		for line := range strings.Lines(string(f.Content)) {
			end := start + len(line) - 1 // the newline
			var at []int
			switch {
			case line == "\n":
				at = []int{start}
			case strings.HasPrefix(line, "#"):
				at = []int{start + len(line)/2}
			default:
				colon := start + strings.Index(line, ":")
				at = []int{start, colon - 1, colon, colon + 2, (colon + 2 + end) / 2, end - 1}
			}
			for _, i := range at {
				bad := bytes.Clone(f.Content)
				bad[i] ^= 1
				if conforms(f, bad) == nil {
					t.Errorf("%s: byte %d changed, and the file still conforms", f.Name, i)
				}
				if line != "\n" && !strings.HasPrefix(line, "#") && vectors.Check(f.Name, bad) == nil {
					t.Errorf("%s: byte %d changed (line %q), and the decoding check passes", f.Name, i, line[:min(len(line), 40)])
				}
			}
			start = end + 1
		}
	}
}

// firstDiff shows the first line where got differs from want.
func firstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d\n- %.120s\n+ %.120s", i+1, wl, gl)
		}
	}
	return "(same lines)"
}
