package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

const module = "github.com/n2n-dev/n2n"

// allowed lists, for each package of the program, the project packages it may
// import directly (the README's Layout table). Anything not listed may not be imported.
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
	// The protocol's test vectors: made and checked with the packages that
	// implement each part of the protocol.
	"internal/vectors": {"keys", "noiseproto", "rpc", "caps", "peers", "internal/detcbor"},
	"tools/genvectors": {"internal/vectors"},
	// A client of the wire protocol for tests, written from the protocol
	// (its own Noise handshake): used only by tests.
	"internal/wiretest": {"keys", "peers", "internal/detcbor"},
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
	"github.com/flynn/noise":      {"noiseproto", "internal/wiretest"},
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
			t.Errorf("package %q is not in the layout table (README's Layout); add it to allowed", name)
			continue
		}
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module) {
				dep := rel(imp)
				if !contains(ok, dep) {
					t.Errorf("%s imports %s: not allowed by the layout (README)", or(name, "main"), dep)
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

// split lists the packages whose files are held to the size and arrow rules
// below (issue 9: one package, one job; files a reader can hold).
var split = []string{"rpc", "daemon", "peers", "localsock"}

// maxFileLines bounds every file, tests included, of the packages in split.
const maxFileLines = 400

// TestFileSizes: no file of a package in split is over maxFileLines lines.
func TestFileSizes(t *testing.T) {
	for _, dir := range split {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			n := bytes.Count(src, []byte("\n"))
			switch {
			case n > maxFileLines:
				t.Errorf("%s: %d lines, over %d: split it by concern", f, n, maxFileLines)
			}
		}
	}
}

// TestLocalsockWithoutLibp2p: the local socket protocol builds without
// libp2p, so a small front binary for local commands can use it.
func TestLocalsockWithoutLibp2p(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./localsock").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/libp2p/") || strings.HasPrefix(dep, "github.com/multiformats/") {
			t.Errorf("localsock depends on %s", dep)
		}
	}
}

// TestNoUpwardFileArrows: inside each package of split, draw an arrow from
// file A to file B when A (not a test) uses an unexported name (func, type,
// var, const, method or field) declared in B. The arrows must not make a
// cycle: files read in one direction, from what uses to what is used.
func TestNoUpwardFileArrows(t *testing.T) {
	var patterns []string
	for _, dir := range split {
		patterns = append(patterns, "./"+dir)
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Fatalf("%s: %v", p.PkgPath, e)
		}
		arrows := map[string]map[string][]string{} // from → to → names used
		for id, obj := range p.TypesInfo.Uses {
			if obj.Pkg() != p.Types || obj.Exported() || obj.Parent() != nil && obj.Parent() != p.Types.Scope() {
				continue // another package's, exported, or local to a function
			}
			from, to := p.Fset.Position(id.Pos()).Filename, p.Fset.Position(obj.Pos()).Filename
			if from == to {
				continue
			}
			from, to = filepath.Base(from), filepath.Base(to)
			if arrows[from] == nil {
				arrows[from] = map[string][]string{}
			}
			if !contains(arrows[from][to], obj.Name()) {
				arrows[from][to] = append(arrows[from][to], obj.Name())
			}
		}
		if cycle := findCycle(arrows); cycle != nil {
			var steps []string
			for i := 0; i+1 < len(cycle); i++ {
				names := arrows[cycle[i]][cycle[i+1]]
				sort.Strings(names)
				steps = append(steps, fmt.Sprintf("%s uses %s of %s", cycle[i], strings.Join(names, ", "), cycle[i+1]))
			}
			t.Errorf("%s: files use each other's unexported names in a cycle:\n\t%s", rel(p.PkgPath), strings.Join(steps, "\n\t"))
		}
	}
}

// findCycle returns a cycle of the graph as a path whose last node is its
// first, or nil when the graph is acyclic. Nodes are visited in name order,
// so the cycle reported is the same on every run.
func findCycle(arrows map[string]map[string][]string) []string {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = open
		stack = append(stack, n)
		for _, m := range sortedKeys(arrows[n]) {
			switch state[m] {
			case open:
				i := slices.Index(stack, m)
				return append(slices.Clone(stack[i:]), m)
			case unseen:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for _, n := range sortedKeys(arrows) {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestStandsAlone: no file of the repository points at a path outside it
// or at a document a user of the repository does not have. (The patterns
// are built so that this file does not match them.)
func TestStandsAlone(t *testing.T) {
	out, err := exec.Command("git", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	bad := regexp.MustCompile(`\.\./` + `shared|DESIGN` + `(\.md| §)|/work` + `/|seeds` + `/`)
	for _, f := range strings.Fields(string(out)) {
		if f == "layout_test.go" || f == "tools/gendocs/gendocs_test.go" || strings.HasPrefix(f, "testdata/") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil || bytes.IndexByte(src, 0) >= 0 {
			continue // gone from the working tree, or binary
		}
		for i, line := range strings.Split(string(src), "\n") {
			if m := bad.FindString(line); m != "" {
				t.Errorf("%s:%d: %q points outside the repository", f, i+1, m)
			}
		}
	}
}
