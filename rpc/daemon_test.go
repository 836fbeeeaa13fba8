package rpc

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// newDaemon starts a real daemon: Badger home in a temp dir, libp2p server
// on 127.0.0.1.
func newDaemon(t *testing.T, fns map[string]string) *Daemon {
	t.Helper()
	home := t.TempDir()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Init(context.Background(), home, id, chain.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	node, err := peers.NewServer(context.Background(), peers.Options{Identity: id, Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Chain: c, Node: node, Functions: NewFunctions(home, fns, 4, os.Environ())}
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx)
	t.Cleanup(func() {
		cancel()
		node.Close()
		d.Wait()
		c.Close()
	})
	return d
}

func newClient(t *testing.T, to *Daemon) *Client {
	t.Helper()
	id, _ := keys.Generate()
	node, err := peers.NewClient(context.Background(), peers.Options{Identity: id, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	book := &peers.AddrBook{Store: &peers.MemStore{}}
	if _, err := book.AddText(to.ID().Public(), to.Node.Addrs()[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	return &Client{Node: node, Book: book, ID: id, DialTimeout: 5 * time.Second, Timeout: 5 * time.Second}
}

// TestRandomBytesDoNotWedgeServe writes garbage to raw /n2n/1.0.0 streams;
// the daemon must keep answering real requests.
func TestRandomBytesDoNotWedgeServe(t *testing.T) {
	d := newDaemon(t, map[string]string{"echo": "cat"})
	c := newClient(t, d)
	to := d.ID().Public()
	ctx := context.Background()
	if _, err := c.Node.Connect(ctx, to, c.Book); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		st, err := c.Node.Open(ctx, to)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		n := rng.IntN(300)
		if i%10 == 0 {
			n = rng.IntN(70000)
		}
		junk := make([]byte, n)
		for j := range junk {
			junk[j] = byte(rng.Uint32())
		}
		if i%3 == 0 && n > 2 { // a plausible length prefix
			junk[0], junk[1] = 0, 128
		}
		st.SetDeadline(time.Now().Add(2 * time.Second))
		st.Write(junk)
		if i%2 == 0 {
			st.CloseWrite()
		}
		st.Close()
	}
	resp, _, err := c.Do(ctx, to, &Request{Kind: KindCall, Function: "echo", Payload: []byte("still here")})
	if err != nil {
		t.Fatal(err)
	}
	// Not the author: the daemon refuses the call, but it answers.
	if resp.Status != StatusUnauthorized {
		t.Fatalf("status %s", resp.Status)
	}
	resp, _, err = c.Do(ctx, to, &Request{Kind: KindPing})
	if err != nil || resp.Status != StatusOK {
		t.Fatalf("ping after garbage: %v %v", resp, err)
	}
}

func TestFunctionsBusyAndTimeout(t *testing.T) {
	d := newDaemon(t, map[string]string{"slow": "sleep 5", "fail": "echo boom >&2; exit 3"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := d.Functions.Run(ctx, &Invocation{Function: "slow"})
	if r.Status != StatusTimeout {
		t.Fatalf("slow: %+v", r)
	}
	r = d.Functions.Run(context.Background(), &Invocation{Function: "fail"})
	if r.Status != StatusHandlerError || r.Error != "boom" {
		t.Fatalf("fail: %+v", r)
	}
	r = d.Functions.Run(context.Background(), &Invocation{Function: "nope"})
	if r.Status != StatusNotFound {
		t.Fatalf("nope: %+v", r)
	}
	// Four slots: a fifth concurrent call is busy.
	results := make(chan Status, 5)
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	for i := 0; i < 5; i++ {
		go func() { results <- d.Functions.Run(sctx, &Invocation{Function: "slow"}).Status }()
	}
	busy := 0
	for i := 0; i < 5; i++ {
		if <-results == StatusBusy {
			busy++
		}
	}
	if busy != 1 {
		t.Fatalf("busy = %d, want 1", busy)
	}
}

// TestStaticKeyMadeOnce: the daemon and the client each make their Noise
// static key once and reuse it; a client from Daemon.Client shares the
// daemon's; after ZeroKeys the next request makes a new one and works.
func TestStaticKeyMadeOnce(t *testing.T) {
	d := newDaemon(t, nil)
	c := newClient(t, d)
	to := d.ID().Public()
	ctx := context.Background()
	ping := func() {
		t.Helper()
		resp, _, err := c.Do(ctx, to, &Request{Kind: KindPing, Payload: []byte("x")})
		if err != nil || resp.Status != StatusOK {
			t.Fatalf("ping: %+v %v", resp, err)
		}
	}
	ping()
	stC, stD := c.static.st, d.static.st
	if stC == nil || stD == nil || stC.Agent() != c.ID.Public() || stD.Agent() != to {
		t.Fatal("no static key kept after a request")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); ping() }()
	}
	wg.Wait()
	if c.static.st != stC || d.static.st != stD {
		t.Fatal("static key made again")
	}
	if dc := d.Client(time.Second, time.Second); dc.staticKey() != &d.static {
		t.Fatal("Daemon.Client does not share the daemon's static key")
	}
	c.ZeroKeys()
	d.ZeroKeys()
	if c.static.st != nil || d.static.st != nil {
		t.Fatal("ZeroKeys kept the keys")
	}
	ping()
	if c.static.st == nil || c.static.st == stC || d.static.st == nil || d.static.st == stD {
		t.Fatal("no new static key after ZeroKeys")
	}
}

// TestSessionKept: a client's second request to an agent rides on the
// session of the first; when that session has ended, the next request
// dials a new one and nothing is lost.
func TestSessionKept(t *testing.T) {
	d := newDaemon(t, nil)
	c := newClient(t, d)
	to := d.ID().Public()
	ping := func() peers.Source {
		t.Helper()
		resp, src, err := c.Do(context.Background(), to, &Request{Kind: KindPing})
		if err != nil || resp.Status != StatusOK {
			t.Fatalf("ping: %+v %v", resp, err)
		}
		return src
	}
	kept := func() *conn {
		c.conns.mu.Lock()
		defer c.conns.mu.Unlock()
		return c.conns.conns[to]
	}
	ping()
	first := kept()
	if first == nil {
		t.Fatal("no session kept")
	}
	if src := ping(); src != peers.SourceConnected || kept() != first {
		t.Fatalf("second request: source %v, same session %v", src, kept() == first)
	}
	first.end(errors.New("ended under the client"))
	ping()
	if k := kept(); k == nil || k == first {
		t.Fatal("no new session after the kept one ended")
	}
	c.Close()
	if _, _, err := c.Do(context.Background(), to, &Request{Kind: KindPing}); err == nil {
		t.Fatal("request after Close")
	}
}

func TestPlainCommand(t *testing.T) {
	for _, c := range []struct {
		cmd   string
		plain bool
	}{
		{"cat", true},
		{"sleep 0.5", true},
		{"/bin/echo -n a,b", true},
		{"echo boom >&2; exit 3", false},
		{"echo $HOME", false},
		{"echo 'quoted'", false},
		{"A=1 cat", false},
		{"no-such-program-here", false},
		{"", false},
	} {
		argv, plain := plainCommand(c.cmd)
		if plain != c.plain {
			t.Errorf("plainCommand(%q) = %v, %v", c.cmd, argv, plain)
		}
	}
	d := newDaemon(t, map[string]string{"echo": "cat", "words": "/bin/echo -n a b"})
	for fn, want := range map[string]string{"echo": "payload", "words": "a b"} {
		r := d.Functions.Run(context.Background(), &Invocation{Function: fn, Payload: []byte("payload")})
		if r.Status != StatusOK || string(r.Payload) != want {
			t.Errorf("%s: %+v", fn, r)
		}
	}
}

// TestAuditAfterReply: the audit record of a call is written after its
// reply, yet the daemon's audit log lists it as soon as the call returns.
func TestAuditAfterReply(t *testing.T) {
	d := newDaemon(t, map[string]string{"echo": "cat"})
	self := d.ID().Public()
	for i := range 20 {
		resp := d.Dispatch(context.Background(), &Incoming{Caller: self, Request: Request{
			ID: uint64(i + 1), Kind: KindCall, Function: "echo", Payload: []byte("x"),
			Deadline: time.Now().Add(10 * time.Second).UnixMicro()}})
		if resp.Status != StatusOK {
			t.Fatalf("call: %+v", resp)
		}
		n := 0
		if err := d.Audit().List(func(*AuditRecord) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != i+1 {
			t.Fatalf("after call %d the audit log lists %d records", i+1, n)
		}
	}
}
