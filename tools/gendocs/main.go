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
	"strings"

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
	md, err := app.ToMarkdown()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("% n2n 1\n\n")
	b.WriteString(md)
	b.WriteString("\n# ENVIRONMENT\n\n")
	for _, v := range [][2]string{
		{"N2N_HOME", "the agent home (default $XDG_DATA_HOME/n2n)"},
		{"N2N_PASSPHRASE", "the passphrase of an encrypted home, for scripts"},
		{"N2N_BOOTSTRAP", "DHT bootstrap peers, comma-separated multiaddrs"},
		{"NO_COLOR", "no colour on a terminal"},
	} {
		fmt.Fprintf(&b, "**%s**\n: %s\n\n", v[0], v[1])
	}
	b.WriteString("# EXIT STATUS\n\n")
	for _, x := range cmd.ExitCodes() {
		fmt.Fprintf(&b, "**%s**\n: %s\n\n", x[0], x[1])
	}
	b.WriteString("# SEE ALSO\n\nn2n help exit-codes, n2n completion bash|zsh|fish\n")
	man := md2man.Render([]byte(b.String()))
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
