package cmd

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestJSONFieldsAreDocumented runs the commands that need no network with
// --json and checks that each object has exactly the fields the manual
// lists for it (jsonFields), so the documentation cannot drift from the
// output. The networked commands' fields are checked by the testscripts.
func TestJSONFieldsAreDocumented(t *testing.T) {
	dir := t.TempDir()
	alice, bob := filepath.Join(dir, "alice"), filepath.Join(dir, "bob")
	run := func(home, stdin string, args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		Run(append([]string{"n2n", "--home", home, "--json"}, args...), strings.NewReader(stdin), &stdout, &stderr)
		return stdout.String(), stderr.String()
	}
	documented := map[string][]string{}
	for _, j := range jsonFields {
		for _, c := range strings.Split(j.command, ", ") {
			documented[c] = j.fields
		}
	}
	check := func(command, output string) {
		t.Helper()
		fields, ok := documented[command]
		if !ok {
			t.Fatalf("%s: not in jsonFields", command)
		}
		lines := strings.Split(strings.TrimSpace(output), "\n")
		if output == "" {
			t.Fatalf("%s: no output", command)
		}
		for _, line := range lines {
			var obj map[string]any
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("%s: %v: %q", command, err, line)
			}
			for k := range obj {
				if !slices.Contains(fields, k) && !slices.Contains(fields, k+"?") {
					t.Errorf("%s: field %q is not documented", command, k)
				}
			}
			for _, f := range fields {
				if _, ok := obj[f]; !ok && !strings.HasSuffix(f, "?") {
					t.Errorf("%s: documented field %q is missing in %s", command, f, line)
				}
			}
		}
	}

	out, _ := run(alice, "", "init", "--no-passphrase")
	check("init", out)
	run(bob, "", "init", "--no-passphrase")
	out, _ = run(alice, "", "id")
	check("id", out)
	out, _ = run(alice, "", "commit", "--type", "note", "hello")
	check("commit", out)
	hash := regexp.MustCompile(`"hash":"(uhCkk[^"]+)"`).FindStringSubmatch(out)[1]
	out, _ = run(alice, "", "chain", "log")
	check("chain log", out)
	out, _ = run(alice, "", "chain", "export")
	check("chain export", out)
	out, _ = run(alice, "", "chain", "show", hash)
	check("chain show", out)
	out, _ = run(alice, "", "chain", "verify")
	check("chain verify", out)
	out, _ = run(alice, "", "grant", "--transferable", "--tag", "t", "echo")
	check("grant", out)
	ticket := regexp.MustCompile(`"ticket":"(n2ncap1[^"]+)"`).FindStringSubmatch(out)[1]
	out, _ = run(alice, "", "grants")
	check("grants", out)
	out, _ = run(bob, ticket, "claim", "add", "-")
	check("claim add", out)
	out, _ = run(bob, "", "claims")
	check("claims", out)
	run(bob, "", "peers", "add", strings.TrimSpace(regexp.MustCompile(`"grantor":"([^"]+)"`).FindStringSubmatch(out)[1]), "/ip4/127.0.0.1/tcp/1")
	out, _ = run(bob, "", "peers")
	check("peers", out)
	run(bob, "", "contacts", "add", "alice", strings.TrimSpace(regexp.MustCompile(`"agent_id":"([^"]+)"`).FindStringSubmatch(out)[1]))
	out, _ = run(bob, "", "contacts")
	check("contacts", out)
	out, _ = run(bob, "", "version")
	check("version", out)
	out, _ = run(bob, "", "help", "exit-codes")
	check("help exit-codes", out)
	_, errOut := run(bob, "", "revoke", "nonsense")
	check("errors (stderr)", errOut)
	_, errOut = run(bob, "", "--debug", "revoke", "nonsense")
	check("errors (stderr)", errOut)
}

// TestManPage: the man page documents every command with its arguments,
// the handler contract, the environment, the files and the exit statuses.
func TestManPage(t *testing.T) {
	man := ManPage(DocApp())
	for _, want := range []string{
		"# FUNCTION HANDLERS", "# OUTPUT", "# ENVIRONMENT", "# FILES", "# EXIT STATUS",
		"## n2n chain show", "**n2n chain show** *HASH*", "**n2n call** \\[*options*\\] *FUNCTION* \\[*PAYLOAD*\\|-\\]",
		"**N2N\\_CALLER**", "**N2N\\_FUNCTION**", "**N2N\\_ACCESS**", "**N2N\\_GRANT**", "**N2N\\_TAG**", "**N2N\\_HOME**",
		"\\<home\\>/functions/NAME", "process group", "**N2N\\_DEBUG**", "**130**",
	} {
		if !strings.Contains(man, want) {
			t.Errorf("the man page lacks %q", want)
		}
	}
	if strings.Contains(man, "`") {
		t.Error("the man page has a raw backquote")
	}
	// serve's help ends with the handler contract, the limits and the
	// consent policy; the man page has each once, as a section.
	for _, once := range []string{handlerContract[0], limitsText(), consentContract()[0]} {
		once = mdEscape(once[:40])
		if n := strings.Count(man, once); n != 1 {
			t.Errorf("the man page has %q %d times, want once", once, n)
		}
	}
}
