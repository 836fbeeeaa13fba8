package testscripts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/cmd"
	"github.com/n2n-dev/n2n/keys"
	"github.com/urfave/cli/v2"
)

// parityCase is one command line of TestSameWithAndWithoutDaemon.
type parityCase struct {
	args  []string // {NAME} is replaced by the phase's value of NAME
	stdin string
	tty   bool     // stdout and stderr are terminals (80 columns)
	env   []string // added to the environment
	set   string   // NAME=REGEXP: NAME takes the first submatch in stdout
	// byDesign are parts of the output that differ between the paths on
	// purpose, replaced before comparing: resolution makes the daemon's live
	// connections the first step of resolution, its warm host knows DHT
	// peers a one-shot host does not, and only a daemon listens.
	byDesign []string
}

// notCompared are the commands that no case runs, and why.
var notCompared = map[string]string{
	"serve":  "it is the daemon; it never goes through one",
	"stop":   "it stops the daemon: without one it says there is none, by definition",
	"status": "it describes the daemon: without one it says there is none, by definition",
}

// parityCases run in this order on two copies of one home: a's without a
// daemon, b's through its daemon. Every command is here or in notCompared.
// (call --to self is not: only a daemon runs this agent's handlers, so
// without one it is refused, exit 5 with a hint to start one.)
var parityCases = []parityCase{
	{args: []string{"id"}},
	{args: []string{"id", "--json"}, byDesign: []string{`"addrs":\[[^]]*\]`}},
	{args: []string{"init", "--no-passphrase"}},
	{args: []string{"version"}},
	{args: []string{"help", "exit-codes"}},
	{args: []string{"completion", "fish"}},
	{args: []string{"chain", "log"}},
	{args: []string{"chain", "log", "--json"}},
	{args: []string{"chain", "export"}, set: `GENESIS=^\{"seq":0,"hash":"(uhCkk\S+?)"`},
	{args: []string{"chain", "show", "{GENESIS}"}},
	{args: []string{"chain", "show", "uhCkkAAAAAAAAAAAAA"}},
	{args: []string{"chain", "verify"}},
	{args: []string{"chain", "bogus"}},
	{args: []string{"commit", "--type", "note", "hello"}},
	{args: []string{"commit", "--type", "note", "\xff\xfe not UTF-8"}},
	{args: []string{"commit", "--type", "note", "-"}, stdin: "from stdin\x00\xff"},
	{args: []string{"commit", "hello"}},
	{args: []string{"chain", "show", "--json", "{GENESIS}"}},
	{args: []string{"grants"}},
	{args: []string{"grants", "--all", "--json"}},
	{args: []string{"grant", "--transferable", "--tag", "t\xffag", "echo"}},
	{args: []string{"grant", "--transferable", "--tag", "a tag", "echo"}, set: `GRANT=^(uhCkk\S+)`},
	{args: []string{"grant", "echo"}},
	{args: []string{"grants", "--show-secrets"}},
	{args: []string{"revoke", "{GRANT}"}},
	{args: []string{"revoke", "{GRANT}"}},
	{args: []string{"grants", "--all"}},
	{args: []string{"claims"}},
	{args: []string{"claim", "add", "-"}, stdin: "{TICKET}"},
	{args: []string{"claim", "add", "n2ncap1nonsense"}},
	{args: []string{"claims", "--json"}},
	{args: []string{"claims", "--pending"}},
	{args: []string{"claim", "accept", "uhCEkAAAAAAAAAAAAA"}},
	{args: []string{"claim", "reject", "uhCEkAAAAAAAAAAAAA"}},
	{args: []string{"peers"}},
	{args: []string{"peers", "add", "{PEER}", "{PADDR}"}},
	{args: []string{"peers", "add", "{PEER}", "/ip4/nonsense"}},
	{args: []string{"peers", "--json"}},
	{args: []string{"resolve", "{PEER}"}, byDesign: []string{`\t(connection|address book)\t`}},
	{args: []string{"ping", "--count", "2", "{PEER}"}, byDesign: []string{`\d+\.\d+ms\t(connection|address book)`}},
	{args: []string{"contacts"}},
	{args: []string{"contacts", "add", "pal", "{PEER}"}},
	{args: []string{"contacts", "add", "pal", "{PEER}"}},
	{args: []string{"contacts", "--json"}},
	{args: []string{"send", "pal", "hello, pal"}},
	{args: []string{"contacts", "rm", "pal"}},
	{args: []string{"contacts", "rm", "pal"}},
	{args: []string{"contacts", "add", "pal", "{PEER}"}, tty: true, env: []string{"NO_COLOR=1"}},
	{args: []string{"contacts"}, tty: true, env: []string{"NO_COLOR=1"}},
	{args: []string{"send", "{PEER}", "hello"}},
	{args: []string{"send", "{PEER}", "\xff"}},
	{args: []string{"send", "--lines", "{PEER}"}, stdin: "one\ntwo\n"},
	{args: []string{"send", "{PEER}", "-", "--json"}, stdin: "\x00\x01"},
	{args: []string{"send", "uhCAkAAAAAAAAAAA", "x"}},
	// Why an agent no one serves was not found: the daemon asked the DHT
	// peers its warm host knows; a one-shot host, with no --bootstrap, had
	// no one to ask. Status and hint are the same.
	{args: []string{"send", "{STRANGER}", "x"}, byDesign: []string{`(cannot reach uhCAk\S+): .*`}},
	{args: []string{"call", "--to", "{STRANGER}", "--dial-timeout", "2s", "echo", "x"}, byDesign: []string{`(cannot reach uhCAk\S+): .*`}},
	{args: []string{"call", "--to", "{PEER}", "echo", "\xffpayload"}},
	{args: []string{"call", "--to", "{PEER}", "--file", "payload.txt", "echo"}},
	{args: []string{"call", "--to", "{PEER}", "--file", "missing.txt", "echo"}},
	{args: []string{"call", "--to", "{PEER}", "echo", "--file", "payload.txt"}},
	{args: []string{"call", "--to", "{PEER}", "fail"}},
	{args: []string{"call", "--to", "{PEER}", "hidden", "x"}},
	{args: []string{"call", "--to", "{PEER}", "--json", "echo", "x"}},
	{args: []string{"grant", "--assigned", "{PEER}", "--deliver", "echo"}},
	{args: []string{"inbox"}},
	{args: []string{"inbox", "--json"}},
	{args: []string{"audit"}},
	{args: []string{"audit", "--json"}},
	{args: []string{"id", "--bogus"}},
	{args: []string{"--debug", "chain", "show", "uhCkkAAAAAAAAAAAAA"}},
	// On terminals, with and without colour: the environment of the
	// command, not the daemon's, decides. (Lists of what the cases made, so
	// that relative times read "just now" on both paths.)
	{args: []string{"grants", "--all"}, tty: true},
	{args: []string{"grants", "--all"}, tty: true, env: []string{"NO_COLOR=1"}},
	{args: []string{"grants", "--all"}, tty: true, env: []string{"TERM=dumb"}},
	{args: []string{"claims"}, tty: true, env: []string{"TERM=xterm-256color"}},
	{args: []string{"peers"}, tty: true, env: []string{"NO_COLOR=1"}},
	{args: []string{"inbox", "--json"}, tty: true},
	{args: []string{"grant", "--unrestricted", "echo"}, set: `GRANT2=^(uhCkk\S+)`},
	{args: []string{"revoke", "{GRANT2}"}, tty: true, env: []string{"NO_COLOR=1"}},
	{args: []string{"call", "--to", "{PEER}", "fail"}, tty: true, env: []string{"TERM=xterm"}},
}

// parityRun is what one case did.
type parityRun struct {
	stdout, stderr string
	code           int
}

// TestSameWithAndWithoutDaemon: every command gives the same stdout,
// stderr and exit status run one-shot and through the home's daemon
// (README: same output either way), in pipes and on terminals, with NO_COLOR and TERM=dumb,
// and with arguments that are not UTF-8. The cases run on two copies of
// one home, a's without a daemon and b's through one; what differs only
// because each run makes new hashes, tickets and times is replaced by
// numbered placeholders before comparing.
func TestSameWithAndWithoutDaemon(t *testing.T) {
	n2n, err := exec.LookPath("n2n")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "payload.txt"), []byte("from a file\n"), 0o644)
	p := &parity{t: t, n2n: n2n, dir: dir}
	t.Cleanup(p.stopDaemons)

	// The peer: echo and fail open to anyone, hidden to no one; a ticket.
	p.must("peer", "", "init", "--no-passphrase")
	p.must("peer", "", "grant", "--unrestricted", "echo", "fail")
	ticket := strings.Fields(p.must("peer", "", "grant", "--transferable", "echo"))[1]
	p.must("peer", "", "serve", "--detach", "--listen", "/ip4/127.0.0.1/tcp/0", "--addr-file", "peer.addr",
		"--fn", "echo=cat", "--fn", "fail=echo 'boom \x1b[31m' >&2; exit 3", "--fn", "hidden=cat")
	peer := strings.TrimSpace(p.must("peer", "", "id"))
	paddr, _ := os.ReadFile(filepath.Join(dir, "peer.addr"))

	// The home: a commit, a message and a refused call received; then
	// copied, identity and all.
	p.must("proto", "", "init", "--no-passphrase")
	p.must("proto", "", "commit", "--type", "note", "before")
	p.must("proto", "", "serve", "--detach", "--listen", "/ip4/127.0.0.1/tcp/0", "--addr-file", "proto.addr")
	self := strings.TrimSpace(p.must("proto", "", "id"))
	proto, _ := os.ReadFile(filepath.Join(dir, "proto.addr"))
	p.must("peer", "", "peers", "add", self, strings.Fields(string(proto))[0])
	p.must("peer", "", "send", self, "a message\twith a tab")
	p.exec("peer", "", nil, false, "call", "--to", self, "echo", "x")
	p.must("proto", "", "stop")
	for _, home := range []string{"a", "b"} {
		if out, err := exec.Command("cp", "-a", filepath.Join(dir, "proto"), filepath.Join(dir, home)).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
	}

	stranger, err := keys.Generate() // an agent no one serves
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"PEER": peer, "PADDR": strings.Fields(string(paddr))[0], "TICKET": ticket, "STRANGER": stranger.Public().String()}
	oneShot := p.phase("a", vars)
	p.must("b", "", "serve", "--detach", "--listen", "/ip4/127.0.0.1/tcp/0")
	if r := p.exec("b", "", nil, false, "status"); r.code != 0 {
		t.Fatalf("b's daemon does not answer: %+v", r)
	}
	daemon := p.phase("b", vars)
	if r := p.exec("b", "", nil, false, "status"); r.code != 0 {
		t.Fatalf("b's daemon stopped answering during the cases: %+v", r)
	}

	for i, c := range parityCases {
		a, b := oneShot[i], daemon[i]
		t.Logf("n2n %q (tty %v, %v): status %d, %d bytes out, %d bytes err", c.args, c.tty, c.env, a.code, len(a.stdout), len(a.stderr))
		if a != b {
			t.Errorf("n2n %q (tty %v, %v) differs\n without a daemon: status %d\n  stdout %q\n  stderr %q\n through the daemon: status %d\n  stdout %q\n  stderr %q",
				c.args, c.tty, c.env, a.code, a.stdout, a.stderr, b.code, b.stdout, b.stderr)
		}
	}
	checkEveryCommand(t)
}

// parity runs n2n commands in homes under dir.
type parity struct {
	t        *testing.T
	n2n, dir string
}

// phase runs every case in home and returns what each did, normalised.
func (p *parity) phase(home string, given map[string]string) []parityRun {
	vars := map[string]string{}
	for k, v := range given {
		vars[k] = v
	}
	var runs []parityRun
	for _, c := range parityCases {
		args := make([]string, len(c.args))
		for i, a := range c.args {
			args[i] = expand(a, vars)
		}
		r := p.exec(home, expand(c.stdin, vars), c.env, c.tty, args...)
		if c.set != "" {
			name, expr, _ := strings.Cut(c.set, "=")
			m := regexp.MustCompile("(?m)" + expr).FindStringSubmatch(r.stdout)
			if m == nil {
				p.t.Fatalf("%s: n2n %q: no %s in %+v", home, args, expr, r)
			}
			vars[name] = m[1]
		}
		runs = append(runs, normalise(r, filepath.Join(p.dir, home), c.byDesign))
	}
	return runs
}

func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// env is the environment of the commands: the test's, without what would
// change n2n's behaviour.
func (p *parity) env(home string, more []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "N2N_") && k != "NO_COLOR" && k != "TERM" && k != "XDG_DATA_HOME" && k != "HOME" {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+p.dir, "N2N_HOME="+filepath.Join(p.dir, home))
	return append(env, more...)
}

// exec runs n2n in home, on terminals if tty.
func (p *parity) exec(home, stdin string, env []string, tty bool, args ...string) parityRun {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, p.n2n, args...)
	c.Dir = p.dir
	c.Env = p.env(home, env)
	c.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	var screens []*ttyScreen
	if tty {
		for range 2 { // stdout's, stderr's
			s, err := newScreen(80, nil)
			if err != nil {
				p.t.Fatal(err)
			}
			screens = append(screens, s)
		}
		c.Stdout, c.Stderr = screens[0].pts, screens[1].pts
	}
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	for _, s := range screens {
		s.start()
	}
	err := c.Wait()
	for _, s := range screens {
		s.finish()
	}
	if tty {
		stdout.Write(screens[0].bytes())
		stderr.Write(screens[1].bytes())
	}
	r := parityRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		p.t.Fatalf("n2n %q: %v", args, err)
	}
	return r
}

// must runs n2n in home in pipes and insists on exit status 0.
func (p *parity) must(home, stdin string, args ...string) string {
	p.t.Helper()
	r := p.exec(home, stdin, []string{"NO_COLOR=1"}, false, args...)
	if r.code != 0 {
		p.t.Fatalf("n2n --home %s %q: status %d\n%s", home, args, r.code, r.stderr)
	}
	return r.stdout
}

// stopDaemons stops every daemon the test started, and waits until each is
// gone (a detached daemon is not the test's child): the homes are removed
// next, and a daemon still closing its store when its files go would retry
// its flush forever. One that has not stopped within 10 s is killed.
func (p *parity) stopDaemons() {
	for _, home := range []string{"peer", "proto", "b"} {
		if b, err := os.ReadFile(filepath.Join(p.dir, home, "n2n.pid")); err == nil {
			var pid int
			if _, err := fmt.Sscan(string(b), &pid); err == nil && pid > 0 && syscall.Kill(pid, syscall.SIGTERM) == nil {
				for end := time.Now().Add(10 * time.Second); running(pid); time.Sleep(20 * time.Millisecond) {
					if time.Now().After(end) {
						p.t.Errorf("the daemon of %s did not stop within 10 s of SIGTERM; killed", home)
						syscall.Kill(pid, syscall.SIGKILL)
						break
					}
				}
			}
		}
	}
}

// running reports whether process pid exists and has not exited (an exited
// daemon is a zombie until init reaps it).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z")
}

// What differs from run to run whatever the path: hashes and tickets made
// now, times, the home's directory.
var (
	hashText   = regexp.MustCompile(`uhC[kE]k[A-Za-z0-9_-]{8,}`) // whole, or cut on a terminal
	ticketText = regexp.MustCompile(`n2ncap1[A-Za-z0-9_-]{20,}`)
	timeText   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z`)
	rttText    = regexp.MustCompile(`"rtt_ms":[0-9.]+`)
)

// normalise replaces in r what differs by run, not by path: each distinct
// hash and ticket by a numbered placeholder in the order they appear (the
// same structure gives the same text), times by TIME, the home by HOME, and
// the parts differing by design by BY-DESIGN.
func normalise(r parityRun, home string, byDesign []string) parityRun {
	seen := map[string]string{}
	number := func(kind string) func(string) string {
		return func(s string) string {
			if n, ok := seen[s]; ok {
				return n
			}
			seen[s] = fmt.Sprintf("%s#%d", kind, len(seen)+1)
			return seen[s]
		}
	}
	fix := func(s string) string {
		s = strings.ReplaceAll(s, home, "HOME")
		s = hashText.ReplaceAllStringFunc(s, number("HASH"))
		s = ticketText.ReplaceAllStringFunc(s, number("TICKET"))
		s = timeText.ReplaceAllString(s, "TIME")
		s = rttText.ReplaceAllString(s, `"rtt_ms":RTT`)
		for _, expr := range byDesign {
			s = regexp.MustCompile("(?m)"+expr).ReplaceAllString(s, "BY-DESIGN")
		}
		return s
	}
	return parityRun{stdout: fix(r.stdout), stderr: fix(r.stderr), code: r.code}
}

// checkEveryCommand fails for a command of the tree that no case runs and
// notCompared does not name: a new command must join the comparison.
func checkEveryCommand(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range parityCases {
		var words []string
		for _, a := range c.args {
			if !strings.HasPrefix(a, "-") {
				words = append(words, a)
			}
		}
		for i := range words {
			covered[strings.Join(words[:i+1], " ")] = true
		}
	}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if _, skip := notCompared[name]; !skip && !covered[name] {
				t.Errorf("command %q: no case of TestSameWithAndWithoutDaemon runs it; add one (or say in notCompared why not)", name)
			}
			walk(name, c.Subcommands)
		}
	}
	walk("", cmd.DocApp().Commands)

}
