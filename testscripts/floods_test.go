package testscripts

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/internal/wiretest"
	"github.com/n2n-dev/n2n/keys"
)

// serveWith starts `n2n serve` on a new home in dir with these options
// and waits for its address.
func serveWith(t *testing.T, dir string, options ...string) *served {
	t.Helper()
	d := &served{home: filepath.Join(dir, "daemon")}
	id := mustN2N(t, dir, d.home, "init", "--no-passphrase")
	var err error
	if d.agent, err = keys.ParseAgent(id); err != nil {
		t.Fatal(err)
	}
	addrFile := filepath.Join(dir, "daemon.addr")
	args := append([]string{"--home", d.home, "serve", "--listen", "/ip4/127.0.0.1/tcp/0", "--addr-file", addrFile}, options...)
	d.cmd = exec.Command("n2n", args...)
	d.cmd.Env = append(os.Environ(), "HOME="+dir, "NO_COLOR=1", "N2N_HOME=")
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	})
	for i := 0; ; i++ {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			d.addr = strings.Fields(string(b))[0]
			return d
		}
		if i == 600 {
			t.Fatal("the daemon wrote no address")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// flooder is an attacking agent with one session open to the daemon, on
// which it sends request after request.
type flooder struct {
	a *wiretest.Agent
	c *wiretest.Conn
	n uint64
}

func flooders(t *testing.T, d *served, n int) []*flooder {
	t.Helper()
	var out []*flooder
	for _, a := range agents(t, n, d) {
		c, err := dial(a, d)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Reset() })
		out = append(out, &flooder{a: a, c: c})
	}
	return out
}

func (f *flooder) do(t *testing.T, req wiretest.Request) wiretest.Response {
	t.Helper()
	f.n++
	req.ID = f.n
	resp, err := f.c.Do(&req)
	if err != nil {
		t.Fatalf("request %d: %v", f.n, err)
	}
	return resp
}

// each runs fn for every flooder at once and waits.
func each(fs []*flooder, fn func(i int, f *flooder)) {
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Add(1)
		go func() { defer wg.Done(); fn(i, f) }()
	}
	wg.Wait()
}

// lines is the lines of out, none for no output.
func lines(out string) []string {
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// TestAdversaryFillsNoDisk floods a real `n2n serve` from one stranger and
// from 20, with the hand-made client (internal/wiretest): messages, calls
// with names no function has (1 MiB among them), and claims. The inbox, the
// audit log and the chain stay within their bounds, each write over them is
// refused with the documented status, and nothing stored before is lost.
func TestAdversaryFillsNoDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("floods a daemon")
	}
	dir := t.TempDir()
	d := serveWith(t, dir, "--inbox-max-size", "40KiB", "--inbox-sender-max-messages", "10", "--audit-max-size", "16KiB")
	one := flooders(t, d, 1)
	many := flooders(t, d, 20)
	all := append(append([]*flooder{}, one...), many...)
	var mu sync.Mutex
	acked := map[string]bool{}
	refused := map[string]int{}
	send := func(i int, f *flooder, round int) {
		body := fmt.Sprintf("%02d-%03d-%s", i, round, strings.Repeat("x", 1000))
		r := f.do(t, wiretest.Request{Kind: "send", Payload: []byte(body)})
		mu.Lock()
		defer mu.Unlock()
		if r.Status == "ok" {
			acked[body] = true
		} else {
			refused[r.Status+": "+r.Error]++
		}
	}

	// Messages: one stranger 30 (10 fit), then 20 strangers 5 each (the
	// 40 KiB hold 40 in all).
	for round := range 30 {
		send(99, one[0], round)
	}
	each(many, func(i int, f *flooder) {
		for round := range 5 {
			send(i, f, round)
		}
	})
	if len(acked) != 40 || refused["over_quota: inbox is full (for you)"] != 130-40 || len(refused) != 1 {
		t.Errorf("130 messages: %d stored, refused %v; want 40 stored, the rest over_quota", len(acked), refused)
	}
	t.Logf("messages: %d stored, refused %v", len(acked), refused)
	var inbox []struct{ Message string }
	for _, l := range lines(mustN2N(t, dir, d.home, "--json", "inbox")) {
		var m struct{ Message string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		inbox = append(inbox, m)
		if !acked[m.Message] {
			t.Errorf("the inbox holds a message that was refused: %.20q", m.Message)
		}
		delete(acked, m.Message)
	}
	if len(acked) > 0 || len(inbox) != 40 {
		t.Errorf("the inbox holds %d messages; %d acknowledged ones are missing", len(inbox), len(acked))
	}

	// Calls with names no function can have: bad_request, recorded by
	// length; the log keeps its 16 KiB, the newest records last.
	names := []string{"echo\nok\tforged\tauthor", "\x1b]0;pwned\x07\x1b[2J", strings.Repeat("a", 1<<20)}
	each(all, func(i int, f *flooder) {
		for k := range 20 {
			if r := f.do(t, wiretest.Request{Kind: "call", Function: names[k%len(names)]}); r.Status != "bad_request" {
				t.Errorf("a call of a bad name: %s %q", r.Status, r.Error)
			}
		}
	})
	one[0].do(t, wiretest.Request{Kind: "call", Function: "last"})
	var newest string
	var records int
	for _, l := range lines(mustN2N(t, dir, d.home, "audit")) {
		if f := strings.Split(l, "\t"); len(f) != 7 {
			t.Errorf("an audit row of %d fields: %q", len(f), l)
		} else {
			newest = f[2]
		}
		records++
	}
	t.Logf("audit: %d records listed after 421 calls", records)
	// A record is at least 60 bytes: 16 KiB hold fewer than 280.
	if records >= 280 || records < 50 || newest != "last" {
		t.Errorf("after 421 calls the audit log lists %d records, the last %q: want within 16 KiB, the newest kept", records, newest)
	}

	// Claims: strangers put 5 each and 20 in all on the chain in an hour;
	// then they wait, 10 per grantor and 100 in all; then over_quota.
	chainLen := func() int { return len(lines(mustN2N(t, dir, d.home, "chain", "log"))) }
	before := chainLen()
	outcomes := map[string]int{}
	deliver := func(f *flooder) {
		secret, err := caps.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		ticket := caps.EncodeTicket(caps.Ticket{Grantor: f.a.ID.Public(), Secret: secret, Functions: []string{"echo"}, Access: caps.Assigned, Tag: "flood"})
		r := f.do(t, wiretest.Request{Kind: "call", Function: caps.ReceiveClaim, Payload: []byte(ticket)})
		o := r.Status
		switch {
		case r.Status == "ok" && string(r.Payload) == "pending\n":
			o = "pending"
		case r.Status == "ok":
			o = "chain"
		}
		mu.Lock()
		outcomes[o]++
		mu.Unlock()
	}
	for range 20 {
		deliver(one[0])
	}
	each(many, func(i int, f *flooder) {
		for range 8 {
			deliver(f)
		}
	})
	if got := chainLen() - before; got != 20 {
		t.Errorf("strangers added %d actions to the chain, want 20", got)
	}
	pending := len(lines(mustN2N(t, dir, d.home, "claims", "--pending")))
	t.Logf("claims: %v, %d pending listed", outcomes, pending)
	if outcomes["chain"] != 20 || outcomes["pending"] != pending || pending != 100 || outcomes["over_quota"] != 180-120 {
		t.Errorf("180 claims: %v, %d listed pending; want 20 on the chain, 100 pending, 60 over_quota", outcomes, pending)
	}
}
