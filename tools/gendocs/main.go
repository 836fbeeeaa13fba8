// Command gendocs writes the generated documentation that is checked in:
// the man page and the shell completion scripts. `make man completions`
// runs it; `make check` fails when its output differs from the files.
//
//	go run ./tools/gendocs DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/n2n-dev/n2n/cmd"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	app := cmd.DocApp()
	man := md2man.Render([]byte(cmd.ManPage(app)))
	files := map[string][]byte{filepath.Join(dir, "man", "n2n.1"): man}
	for shell, name := range map[string]string{"bash": "n2n.bash", "zsh": "_n2n", "fish": "n2n.fish"} {
		s, err := cmd.Completion(app, shell)
		if err != nil {
			return err
		}
		files[filepath.Join(dir, "completions", name)] = []byte(s)
	}
	for path, data := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
