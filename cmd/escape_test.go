package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// hostile is text a peer chooses to break a row or act on a terminal:
// a forged audit row after a newline, tabs, an OSC title, a screen clear, a
// carriage return, a bidi override.
const hostile = "echo\nok\tuhCAkforged\tauthor\x1b]0;pwned\x07\x1b[2J\rover\u202egnp.exe"

// startDaemon runs the daemon of home in this process, on 127.0.0.1, with
// functions fns; stop stops it and lets go of the home.
func startDaemon(t *testing.T, home string, fns map[string]string) (d *daemon.Daemon, stop func()) {
	t.Helper()
	c, err := chain.Open(context.Background(), home, chain.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	node, err := peers.NewServer(context.Background(), peers.Options{Identity: c.Identity(), Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	d = daemon.New(c, node, daemon.NewFunctions(home, fns, 4, os.Environ()))
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx)
	return d, func() {
		cancel()
		node.Close()
		d.Wait()
		c.Close()
	}
}

// TestPeerTextIsEscaped: function names, messages, claim tags, handler
// error text and replies that another agent chose reach neither a terminal
// nor a tab-separated row raw: each record is one line with its columns,
// nothing on a terminal is a control character, and --json keeps the text
// exactly.
func TestPeerTextIsEscaped(t *testing.T) {
	dir := t.TempDir()
	home, caller := filepath.Join(dir, "me"), filepath.Join(dir, "stranger")
	for _, h := range []string{home, caller} {
		if _, errOut, code := n2nRun(t, "", "--home", h, "init", "--no-passphrase"); code != 0 {
			t.Fatal(errOut)
		}
	}
	d, stop := startDaemon(t, home, map[string]string{
		"fail":  `printf 'opening\n\033]0;pwned\007\033[2J\tx\rforged\n' >&2; exit 1`,
		"reply": `printf 'line one\n\033[2J\tcleared\r\n'`,
	})
	defer stop()
	if _, err := caps.CreateGrant(d.Chain, caps.Grant{Access: caps.Unrestricted, Functions: []string{"fail", "reply", "echo"}}); err != nil {
		t.Fatal(err)
	}
	// What an older daemon recorded before names were checked.
	old := &daemon.AuditRecord{Time: time.Now().UnixMicro(), Caller: d.ID().Public(), Function: hostile, Outcome: rpc.StatusNotFound}
	if err := (daemon.Audit{Store: d.Chain.Side(daemon.AuditSide)}).Add(old); err != nil {
		t.Fatal(err)
	}

	// A stranger calls with names no function can have, sends a message and
	// delivers six claims with a tag that has no control character but
	// still acts on a terminal: five go on the chain, one waits.
	sid, _ := keys.Generate()
	cnode, err := peers.NewClient(context.Background(), peers.Options{Identity: sid, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cnode.Close()
	book := &peers.AddrBook{Store: &peers.MemStore{}}
	if _, err := book.AddText(d.ID().Public(), d.Node.Addrs()[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	ep := &rpc.Endpoint{ID: sid, Node: cnode, Book: book}
	defer ep.Close()
	cl := ep.Client(5*time.Second, 5*time.Second)
	do := func(req *rpc.Request) rpc.Response {
		resp, _, err := cl.Do(context.Background(), d.ID().Public(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, fn := range []string{hostile, strings.Repeat("a", 1<<20)} {
		if r := do(&rpc.Request{Kind: rpc.KindCall, Function: fn}); r.Status != rpc.StatusBadRequest {
			t.Fatalf("call: %+v", r)
		}
	}
	if r := do(&rpc.Request{Kind: rpc.KindSend, Payload: []byte(hostile)}); r.Status != rpc.StatusOK {
		t.Fatalf("send: %+v", r)
	}
	tag := "memo\u202e\u2028 \\ end"
	for range 6 {
		secret, _ := caps.NewSecret()
		ticket := caps.EncodeTicket(caps.Ticket{Grantor: sid.Public(), Secret: secret, Functions: []string{"f"}, Access: caps.Assigned, Tag: tag})
		if r := do(&rpc.Request{Kind: rpc.KindCall, Function: caps.ReceiveClaim, Payload: []byte(ticket)}); r.Status != rpc.StatusOK {
			t.Fatalf("deliver: %+v", r)
		}
	}

	// Another agent's handler error text and reply, at the caller.
	if _, errOut, code := n2nRun(t, "", "--home", caller, "peers", "add", d.ID().Public().String(), d.Node.Addrs()[0]); code != 0 {
		t.Fatal(errOut)
	}
	_, errOut, code := n2nRun(t, "", "--home", caller, "call", "--to", d.ID().Public().String(), "fail", "x")
	if code != exitRemote || strings.ContainsAny(errOut, "\x1b\x07\r") || !strings.Contains(errOut, `replied: handler failed: \x1b]0;pwned\x07\x1b[2J\tx\rforged`) {
		t.Errorf("a handler's error text at the caller: exit %d, %q", code, errOut)
	}
	_, errOut, _ = n2nRun(t, "", "--home", caller, "--debug", "call", "--to", d.ID().Public().String(), "fail", "x")
	if strings.ContainsAny(errOut, "\x1b\x07\r") || !strings.Contains(errOut, "n2n: debug: ") {
		t.Errorf("a handler's error text at the caller, with --debug: %q", errOut)
	}
	out, _, _ := n2nRun(t, "", "--home", caller, "call", "--to", d.ID().Public().String(), "reply", "x")
	if out != "line one\n\x1b[2J\tcleared\r\n" {
		t.Errorf("a reply in a pipe is not as sent: %q", out)
	}
	tty, _ := n2nOnTTY(t, "--home", caller, "call", "--to", d.ID().Public().String(), "reply", "x")
	if tty != "line one\n\\x1b[2J\tcleared\\r\n" {
		t.Errorf("a reply on a terminal: %q", tty)
	}
	stop()

	for _, c := range []struct {
		args    []string
		records int
		columns int
	}{
		{[]string{"audit"}, 13, 7}, // the old record, 2 bad names, 6 claims, fail twice, reply twice
		{[]string{"inbox"}, 1, 3},
		{[]string{"claims"}, 5, 6},
		{[]string{"claims", "--pending"}, 1, 6},
	} {
		args := append([]string{"--home", home}, c.args...)
		out, errOut, code := n2nRun(t, "", args...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || len(lines) != c.records {
			t.Errorf("%v in a pipe: exit %d, %d lines for %d records:\n%s%s", c.args, code, len(lines), c.records, out, errOut)
		}
		for _, l := range lines {
			if n := len(strings.Split(l, "\t")); n != c.columns || strings.ContainsAny(l, "\x1b\x07\r\u202e\u2028") {
				t.Errorf("%v in a pipe: %d columns (want %d) or a raw control character: %q", c.args, n, c.columns, l)
			}
		}
		tty, _ := n2nOnTTY(t, args...)
		if strings.ContainsAny(tty, "\x1b\x07\r\u202e\u2028") || !strings.Contains(tty, `\u202e`) && c.args[0] != "audit" {
			t.Errorf("%v on a terminal: %q", c.args, tty)
		}
	}
	out, _, _ = n2nRun(t, "", "--home", home, "audit")
	if !strings.Contains(out, "\t(invalid name of 1048576 bytes)\t") || !strings.Contains(out, "\t"+`echo\nok\tuhCAkforged\tauthor\x1b]0;pwned\x07\x1b[2J\rover\u202egnp.exe`+"\t") {
		t.Errorf("audit in a pipe:\n%s", out)
	}
	// JSON keeps each text exactly.
	out, _, _ = n2nRun(t, "", "--home", home, "--json", "inbox")
	var m map[string]string
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["message"] != hostile {
		t.Errorf("inbox --json: %q, %v", out, err)
	}
	out, _, _ = n2nRun(t, "", "--home", home, "--json", "claims", "--pending")
	var p map[string]any
	if err := json.Unmarshal([]byte(out), &p); err != nil || p["tag"] != tag {
		t.Errorf("claims --pending --json: %q, %v", out, err)
	}
}
