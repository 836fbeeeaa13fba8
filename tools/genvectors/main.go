// Command genvectors writes the protocol's test vectors (PROTOCOL.md) into
// the directory given as its argument, testdata/ for make vectors.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/n2n-dev/n2n/internal/vectors"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genvectors DIR")
		os.Exit(2)
	}
	files, err := vectors.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genvectors:", err)
		os.Exit(1)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(os.Args[1], f.Name), f.Content, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genvectors:", err)
			os.Exit(1)
		}
	}
}
