package cmd

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/urfave/cli/v2"
)

// n2nRun runs one command line in process, in a pipe, and returns its
// stdout, stderr and exit status.
func n2nRun(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(append([]string{"n2n", "--no-daemon"}, args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// n2nOnTTY runs one command line in process with its stdout on a
// pseudo-terminal, and returns what reached the terminal (its line
// discipline's CR LF made LF again).
func n2nOnTTY(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptm.Close()
	got := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		b.ReadFrom(ptm) // until EIO, once pts is closed
		got <- b.Bytes()
	}()
	var errb bytes.Buffer
	code := Run(append([]string{"n2n", "--no-daemon", "--color", "never"}, args...), strings.NewReader(""), pts, &errb)
	pts.Close()
	out := <-got
	if errb.Len() > 0 {
		t.Logf("stderr: %s", errb.String())
	}
	return strings.ReplaceAll(string(out), "\r\n", "\n"), code
}

// agentSlot is a place in the command tree that takes an AGENT: an
// argument of its ArgsUsage, or a flag whose value is one.
type agentSlot struct{ command, where string }

// agentSlots finds every AGENT the command tree takes.
func agentSlots(parent string, cmds []*cli.Command) []agentSlot {
	var out []agentSlot
	for _, c := range cmds {
		path := strings.TrimSpace(parent + " " + c.Name)
		if regexp.MustCompile(`\bAGENT\b`).MatchString(c.ArgsUsage) {
			out = append(out, agentSlot{path, "argument"})
		}
		for _, f := range c.Flags {
			if u, ok := f.(cli.DocGenerationFlag); ok && strings.Contains(u.GetUsage(), "`AGENT`") {
				out = append(out, agentSlot{path, "--" + f.Names()[0]})
			}
		}
		out = append(out, agentSlots(path, c.Subcommands)...)
	}
	return out
}

// TestContactNamesWhereverAnAgentIs: every command that takes an AGENT
// takes a contact's name for it (the table must cover the whole command
// tree), resolves it to that agent, and says exit 4 with a hint for a name
// that is no contact.
func TestContactNamesWhereverAnAgentIs(t *testing.T) {
	dir := t.TempDir()
	home, other := filepath.Join(dir, "me"), filepath.Join(dir, "bob")
	for _, h := range []string{home, other} {
		if _, errOut, code := n2nRun(t, "", "--home", h, "init", "--no-passphrase"); code != 0 {
			t.Fatal(errOut)
		}
	}
	bobID, _, _ := n2nRun(t, "", "--home", other, "id")
	bobID = strings.TrimSpace(bobID)
	who := short(bobID)
	// bob's address refuses connections, so each command fails fast at the
	// network, naming the agent it resolved.
	for _, args := range [][]string{{"contacts", "add", "bob", bobID}, {"peers", "add", "bob", "/ip4/127.0.0.1/tcp/1"}} {
		if _, errOut, code := n2nRun(t, "", append([]string{"--home", home}, args...)...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	cases := map[agentSlot]struct {
		args   []string // NAME stands for the name
		code   int
		check  []string // then this command's stdout must name bob
		stderr string   // or stderr must say this
	}{
		{"send", "argument"}:         {args: []string{"send", "NAME", "hi"}, code: 5, stderr: "cannot reach " + who},
		{"ping", "argument"}:         {args: []string{"ping", "-c", "1", "NAME"}, code: 5, stderr: "cannot reach " + who},
		{"resolve", "argument"}:      {args: []string{"resolve", "NAME"}, code: 5, stderr: "cannot reach " + who},
		{"call", "--to"}:             {args: []string{"call", "--to", "NAME", "echo", "x"}, code: 5, stderr: "cannot reach " + who},
		{"peers add", "argument"}:    {args: []string{"peers", "add", "NAME", "/ip4/127.0.0.1/tcp/2"}, check: []string{"peers"}},
		{"grant", "--assigned"}:      {args: []string{"grant", "--assigned", "NAME", "echo"}, check: []string{"grants"}},
		{"contacts add", "argument"}: {args: []string{"contacts", "add", "robert", "NAME"}, code: 3, stderr: bobID + " is already a contact, named bob"},
	}
	for _, slot := range agentSlots("", DocApp().Commands) {
		c, ok := cases[slot]
		if !ok {
			t.Errorf("%s takes an AGENT (%s): add it to this test", slot.command, slot.where)
			continue
		}
		delete(cases, slot)
		withName := func(name string) []string {
			args := []string{"--home", home}
			for _, a := range c.args {
				args = append(args, strings.ReplaceAll(a, "NAME", name))
			}
			return args
		}
		_, errOut, code := n2nRun(t, "", withName("bob")...)
		if code != c.code || !strings.Contains(errOut, c.stderr) {
			t.Errorf("%s with a contact's name: exit %d, %q; want exit %d, %q", slot.command, code, errOut, c.code, c.stderr)
		}
		if c.check != nil {
			out, _, _ := n2nRun(t, "", append([]string{"--home", home}, c.check...)...)
			if !strings.Contains(out, bobID) {
				t.Errorf("%s with a contact's name: %v does not show bob:\n%s", slot.command, c.check, out)
			}
		}
		_, errOut, code = n2nRun(t, "", withName("nobody")...)
		if code != exitNotFound || !strings.Contains(errOut, "n2n: error: nobody is not a contact") || !strings.Contains(errOut, "'n2n contacts'") {
			t.Errorf("%s with a name that is no contact: exit %d, %q", slot.command, code, errOut)
		}
		_, errOut, code = n2nRun(t, "", withName("Bob")...)
		if code != exitUsage {
			t.Errorf("%s with a name that cannot be one: exit %d, %q", slot.command, code, errOut)
		}
	}
	for slot := range cases {
		t.Errorf("%s no longer takes an AGENT (%s): take it out of this test", slot.command, slot.where)
	}
}

// TestContactsList: contacts lists like the other lists, in a pipe, as JSON
// and on a terminal; a name is unique, and removing an unknown one is exit 4.
func TestContactsList(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "me")
	ids := map[string]string{}
	for _, name := range []string{"me", "bob", "carol", "dave"} {
		h := filepath.Join(dir, name)
		out, errOut, code := n2nRun(t, "", "--home", h, "init", "--no-passphrase")
		if code != 0 {
			t.Fatal(errOut)
		}
		ids[name] = strings.Fields(out)[0]
	}
	if out, _, code := n2nRun(t, "", "--home", home, "contacts"); code != 0 || out != "" {
		t.Errorf("no contacts: exit %d, %q", code, out)
	}
	for _, name := range []string{"carol", "bob"} {
		if _, errOut, code := n2nRun(t, "", "--home", home, "contacts", "add", name, ids[name]); code != 0 {
			t.Fatal(errOut)
		}
	}
	// A contact card names its agent.
	card, _, _ := n2nRun(t, "", "--home", filepath.Join(dir, "dave"), "id", "--card")
	if _, errOut, code := n2nRun(t, "", "--home", home, "contacts", "add", "dave", strings.TrimSpace(card)); code != 0 {
		t.Fatalf("contacts add with a card: %s", errOut)
	}
	_, errOut, code := n2nRun(t, "", "--home", home, "contacts", "add", "bob", ids["carol"])
	if code != exitUsage || !strings.Contains(errOut, "name taken: bob names "+ids["bob"]) {
		t.Errorf("a name that is not unique: exit %d, %q", code, errOut)
	}
	out, _, _ := n2nRun(t, "", "--home", home, "contacts")
	if !regexp.MustCompile(`^bob\t` + ids["bob"] + `\t\d{4}-\d\d-\d\dT[0-9:.]+Z\ncarol\t` + ids["carol"] + `\t[^\t\n]+Z\ndave\t` + ids["dave"] + `\t[^\t\n]+Z\n$`).MatchString(out) {
		t.Errorf("contacts in a pipe:\n%s", out)
	}
	out, _, _ = n2nRun(t, "", "--home", home, "--json", "contacts")
	var first map[string]string
	if err := json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &first); err != nil || first["name"] != "bob" || first["agent_id"] != ids["bob"] || first["added"] == "" {
		t.Errorf("contacts --json: %q, %v", out, err)
	}
	tty, _ := n2nOnTTY(t, "--home", home, "contacts")
	if !regexp.MustCompile(`NAME +AGENT +ADDED\s*\n\s*bob +` + ids["bob"] + ` +just now`).MatchString(tty) {
		t.Errorf("contacts on a terminal:\n%s", tty)
	}
	if _, errOut, code := n2nRun(t, "", "--home", home, "contacts", "rm", "bob"); code != 0 {
		t.Fatal(errOut)
	}
	if _, _, code := n2nRun(t, "", "--home", home, "contacts", "rm", "bob"); code != exitNotFound {
		t.Errorf("removing a contact twice: exit %d", code)
	}
	if _, _, code := n2nRun(t, "", "--home", home, "send", "bob", "hi"); code != exitNotFound {
		t.Errorf("a removed contact's name: exit %d", code)
	}
}
