package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/n2n-dev/n2n"

// allowed lists, for each package of the program, the project packages it may
// import directly (DESIGN §2). Anything not listed may not be imported.
var allowed = map[string][]string{
	"":              {"cmd", "output"},
	"cmd":           {"keys", "chain", "caps", "noiseproto", "peers", "rpc", "daemon", "localsock", "output"},
	"keys":          {},
	"chain":         {"keys", "internal/detcbor"},
	"caps":          {"chain", "keys", "internal/detcbor"},
	"noiseproto":    {"keys"},
	"peers":         {"keys", "internal/detcbor"},
	"rpc":           {"noiseproto", "peers", "keys", "internal/detcbor"},
	"daemon":        {"rpc", "caps", "chain", "peers", "localsock", "keys", "internal/detcbor"},
	"localsock":     {"keys", "internal/detcbor"},
	"output":        {},
	"testscripts":   {"cmd", "chain", "keys"},
	"tools/gendocs": {"cmd"},
	// Helpers of the packages above, importing none of them.
	"internal/detcbor": {},
}

// onlyIn says which project package alone may import a third-party prefix
// (STYLE.md "Layout and boundaries").
var onlyIn = map[string][]string{
	"github.com/urfave/cli":       {"cmd", "tools/gendocs"},
	"github.com/charmbracelet/":   {"output"},
	"golang.org/x/term":           {"output"},
	"github.com/libp2p/":          {"peers"},
	"github.com/multiformats/":    {"peers"},
	"github.com/dgraph-io/badger": {"chain"},
	"github.com/flynn/noise":      {"noiseproto"},
	"github.com/fxamacker/cbor":   {"internal/detcbor"},
}

type goPackage struct {
	ImportPath  string
	Dir         string
	Imports     []string
	TestImports []string
	GoFiles     []string
}

func listPackages(t *testing.T) []goPackage {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func rel(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
}

func TestImportDirections(t *testing.T) {
	for _, p := range listPackages(t) {
		name := rel(p.ImportPath)
		ok, known := allowed[name]
		if !known {
			t.Errorf("package %q is not in the layout table (DESIGN §2); add it to allowed", name)
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				dep := rel(imp)
				if !contains(ok, dep) {
					t.Errorf("%s imports %s: not allowed by DESIGN §2", or(name, "main"), dep)
				}
				continue
			}
			for prefix, owners := range onlyIn {
				if strings.HasPrefix(imp, prefix) && !contains(owners, name) {
					t.Errorf("%s imports %s: only %v may", or(name, "main"), imp, owners)
				}
			}
		}
	}
}

// TestPackageDocs: every package has a doc.go with the package comment.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if p.ImportPath == module {
			continue // main.go carries the command's doc comment
		}
		if strings.HasPrefix(rel(p.ImportPath), "tools/") {
			continue // a program: its doc comment is in main.go
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, "doc.go"), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%s: %v", rel(p.ImportPath), err)
			continue
		}
		if f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name+" ") {
			t.Errorf("%s/doc.go: no \"Package %s …\" comment", rel(p.ImportPath), f.Name.Name)
		}
	}
}

// TestNoPrintingBelowCmd: nothing below cmd/ prints or exits.
func TestNoPrintingBelowCmd(t *testing.T) {
	for _, p := range listPackages(t) {
		name := rel(p.ImportPath)
		if name == "" || name == "cmd" || name == "output" || strings.HasPrefix(name, "tools/") || name == "testscripts" {
			continue
		}
		for _, f := range p.GoFiles {
			src, err := os.ReadFile(filepath.Join(p.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"os.Exit(", "fmt.Print", "os.Stdout", "os.Stderr", "log.Print", "log.Fatal"} {
				if strings.Contains(string(src), bad) {
					t.Errorf("%s/%s uses %s: only cmd/ and output/ print or exit", name, f, bad)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func or(a, b string) string {
	if a == "" {
		return b
	}
	return a
}
