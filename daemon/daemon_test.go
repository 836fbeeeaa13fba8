package daemon

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// newDaemon starts a real daemon: Badger home in a temp dir, libp2p server
// on 127.0.0.1.
func newDaemon(t *testing.T, fns map[string]string) *Daemon {
	t.Helper()
	d, _ := startDaemon(t, initHome(t), fns, nil)
	return d
}

// newDaemonWith is newDaemon with these limits.
func newDaemonWith(t *testing.T, fns map[string]string, limits Limits) *Daemon {
	t.Helper()
	d, _ := startDaemon(t, initHome(t), fns, func(d *Daemon) { d.Limits = limits })
	return d
}

// initHome makes a home with a new identity in a temp dir.
func initHome(t *testing.T) string {
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
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return home
}

// startDaemon starts a real daemon on home, configured by configure (if
// any) before it starts. stop stops it and closes the home; it runs at the
// end of the test if not before.
func startDaemon(t *testing.T, home string, fns map[string]string, configure func(*Daemon)) (d *Daemon, stop func()) {
	t.Helper()
	c, err := chain.Open(context.Background(), home, chain.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	node, err := peers.NewServer(context.Background(), peers.Options{Identity: c.Identity(), Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	d = New(c, node, NewFunctions(home, fns, 4, os.Environ()))
	if configure != nil {
		configure(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			node.Close()
			d.Wait()
			c.Close()
		})
	}
	t.Cleanup(stop)
	return d, stop
}

// newClient makes an endpoint on a real libp2p client node whose address
// book knows the daemon `to`.
func newClient(t *testing.T, to *Daemon) *rpc.Endpoint {
	t.Helper()
	id, _ := keys.Generate()
	node, err := peers.NewClient(context.Background(), peers.Options{Identity: id, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	book := &peers.AddrBook{Store: &peers.MemStore{}}
	if _, err := book.AddText(to.ID().Public(), to.Node.Addrs()[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	e := &rpc.Endpoint{ID: id, Node: node, Book: book}
	t.Cleanup(func() {
		e.Close()
		node.Close()
	})
	return e
}

// TestRandomBytesDoNotWedgeServe writes garbage to raw /n2n/1.0.0 streams;
// the daemon must keep answering real requests.
func TestRandomBytesDoNotWedgeServe(t *testing.T) {
	d := newDaemon(t, map[string]string{"echo": "cat"})
	e := newClient(t, d)
	to := d.ID().Public()
	ctx := context.Background()
	if _, err := e.Node.Connect(ctx, to, e.Book); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		st, err := e.Node.Open(ctx, to)
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
	// Another agent: this one has spent its handshakes (Limits) on garbage.
	c := newClient(t, d).Client(5*time.Second, 5*time.Second)
	resp, _, err := c.Do(ctx, to, &rpc.Request{Kind: rpc.KindCall, Function: "echo", Payload: []byte("still here")})
	if err != nil {
		t.Fatal(err)
	}
	// Not the author: the daemon refuses the call, but it answers.
	if resp.Status != rpc.StatusUnauthorized {
		t.Fatalf("status %s", resp.Status)
	}
	resp, _, err = c.Do(ctx, to, &rpc.Request{Kind: rpc.KindPing})
	if err != nil || resp.Status != rpc.StatusOK {
		t.Fatalf("ping after garbage: %v %v", resp, err)
	}
}

func TestFunctionsBusyAndTimeout(t *testing.T) {
	d := newDaemon(t, map[string]string{"slow": "sleep 5", "fail": "echo boom >&2; exit 3"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := d.Functions.Run(ctx, &Invocation{Function: "slow"})
	if r.Status != rpc.StatusTimeout {
		t.Fatalf("slow: %+v", r)
	}
	r = d.Functions.Run(context.Background(), &Invocation{Function: "fail"})
	if r.Status != rpc.StatusHandlerError || r.Error != "boom" {
		t.Fatalf("fail: %+v", r)
	}
	r = d.Functions.Run(context.Background(), &Invocation{Function: "nope"})
	if r.Status != rpc.StatusNotFound || r.Error != `no function "nope"` {
		t.Fatalf("nope: %+v", r)
	}
	// A file that is there but cannot run is not "no function": its owner
	// has something to fix.
	os.MkdirAll(d.Functions.Dir, 0o700)
	os.WriteFile(filepath.Join(d.Functions.Dir, "draft"), []byte("#!/bin/sh\necho hi\n"), 0o644)
	r = d.Functions.Run(context.Background(), &Invocation{Function: "draft"})
	if r.Status != rpc.StatusHandlerError || r.Error != "function draft exists but is not an executable file" {
		t.Fatalf("draft: %+v", r)
	}
	// Four slots: a fifth concurrent call is busy.
	results := make(chan rpc.Status, 5)
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	for i := 0; i < 5; i++ {
		go func() { results <- d.Functions.Run(sctx, &Invocation{Function: "slow"}).Status }()
	}
	busy := 0
	for i := 0; i < 5; i++ {
		if <-results == rpc.StatusBusy {
			busy++
		}
	}
	if busy != 1 {
		t.Fatalf("busy = %d, want 1", busy)
	}
}

// TestDaemonClients: the clients the daemon gives its commands reach other
// agents over its node, also after ZeroKeys, and share its endpoint: once
// the daemon has stopped, they open no session.
func TestDaemonClients(t *testing.T) {
	d, other := newDaemon(t, nil), newDaemon(t, nil)
	if _, err := d.Book().AddText(other.ID().Public(), other.Node.Addrs()[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	ping := func() error {
		resp, _, err := d.Client(5*time.Second, 5*time.Second).Do(context.Background(), other.ID().Public(), &rpc.Request{Kind: rpc.KindPing})
		if err == nil && resp.Status != rpc.StatusOK {
			err = resp.Err()
		}
		return err
	}
	for i := range 3 {
		if i == 2 {
			d.ZeroKeys()
		}
		if err := ping(); err != nil {
			t.Fatalf("ping %d: %v", i+1, err)
		}
	}
	d.endpoint.Close() // as Wait does
	if err := ping(); err == nil {
		t.Fatal("a client of a stopped daemon opened a session")
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
		if r.Status != rpc.StatusOK || string(r.Payload) != want {
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
		resp := d.Dispatch(context.Background(), rpc.NewIncoming(self, rpc.Request{
			ID: uint64(i + 1), Kind: rpc.KindCall, Function: "echo", Payload: []byte("x"),
			Timeout: 10_000_000}))
		if resp.Status != rpc.StatusOK {
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
