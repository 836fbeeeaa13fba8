package rpc

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// serveNode starts an endpoint on a real libp2p server node on 127.0.0.1
// that answers every session with d, as the daemon does.
func serveNode(t *testing.T, d Dispatcher) *Endpoint { return serveNodeWith(t, d, nil, nil) }

// serveNodeWith is serveNode with a budget (may be nil), telling ended (if
// not nil) what each session's Serve returned.
func serveNodeWith(t *testing.T, d Dispatcher, b Budget, ended chan<- error) *Endpoint {
	return serveNodeOn(t, d, b, ended, peers.Options{})
}

// serveNodeOn is serveNodeWith on a node with these options (Identity and
// Listen are set here).
func serveNodeOn(t *testing.T, d Dispatcher, b Budget, ended chan<- error, o peers.Options) *Endpoint {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	o.Identity, o.Listen = id, []string{"/ip4/127.0.0.1/tcp/0"}
	node, err := peers.NewServer(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{ID: id, Node: node, Budget: b}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	node.Handle(func(st peers.Stream) {
		wg.Add(1)
		defer wg.Done()
		defer st.Close()
		err := e.Serve(ctx, st, d)
		if ended != nil {
			ended <- err
		}
	})
	t.Cleanup(func() {
		cancel()
		node.Handle(nil)
		node.Close()
		wg.Wait()
		e.Close()
	})
	return e
}

// clientOf makes an endpoint on a real libp2p client node whose address
// book knows to.
func clientOf(t *testing.T, to *Endpoint) *Endpoint {
	t.Helper()
	id, _ := keys.Generate()
	node, err := peers.NewClient(context.Background(), peers.Options{Identity: id, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	book := &peers.AddrBook{Store: &peers.MemStore{}}
	if _, err := book.AddText(to.ID.Public(), to.Node.Addrs()[0], time.Hour); err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{ID: id, Node: node, Book: book}
	t.Cleanup(func() {
		e.Close()
		node.Close()
	})
	return e
}

// TestStaticKeyMadeOnce: the serving endpoint and the calling one each make
// their Noise static key once and reuse it; a client of an endpoint shares
// the endpoint's; after ZeroKeys the next request makes a new one and works.
func TestStaticKeyMadeOnce(t *testing.T) {
	var calls atomic.Int32
	srv := serveNode(t, echo(&calls))
	cl := clientOf(t, srv)
	c := cl.Client(5*time.Second, 5*time.Second)
	to := srv.ID.Public()
	ping := func() {
		t.Helper()
		resp, _, err := c.Do(context.Background(), to, &Request{Kind: KindPing, Payload: []byte("x")})
		if err != nil || resp.Status != StatusOK {
			t.Fatalf("ping: %+v %v", resp, err)
		}
	}
	ping()
	stC, stS := cl.static.st, srv.static.st
	if stC == nil || stS == nil || stC.Agent() != cl.ID.Public() || stS.Agent() != to {
		t.Fatal("no static key kept after a request")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); ping() }()
	}
	wg.Wait()
	if cl.static.st != stC || srv.static.st != stS {
		t.Fatal("static key made again")
	}
	if sc := srv.Client(time.Second, time.Second); sc.endpoint != srv {
		t.Fatal("a client of the serving endpoint does not share its static key")
	}
	cl.ZeroKeys()
	srv.ZeroKeys()
	if cl.static.st != nil || srv.static.st != nil {
		t.Fatal("ZeroKeys kept the keys")
	}
	ping()
	if cl.static.st == nil || cl.static.st == stC || srv.static.st == nil || srv.static.st == stS {
		t.Fatal("no new static key after ZeroKeys")
	}
}

// TestSessionKept: a client's second request to an agent rides on the
// session of the first, also from another client of the same endpoint;
// when that session has ended, the next request dials a new one and
// nothing is lost; after Close, no request goes out.
func TestSessionKept(t *testing.T) {
	var calls atomic.Int32
	srv := serveNode(t, echo(&calls))
	cl := clientOf(t, srv)
	to := srv.ID.Public()
	ping := func(c *Client) peers.Source {
		t.Helper()
		resp, src, err := c.Do(context.Background(), to, &Request{Kind: KindPing})
		if err != nil || resp.Status != StatusOK {
			t.Fatalf("ping: %+v %v", resp, err)
		}
		return src
	}
	kept := func() *clientSession {
		cl.pool.mu.Lock()
		defer cl.pool.mu.Unlock()
		return cl.pool.sessions[to]
	}
	c := cl.Client(5*time.Second, 5*time.Second)
	ping(c)
	first := kept()
	if first == nil {
		t.Fatal("no session kept")
	}
	if src := ping(cl.Client(time.Second, time.Second)); src != peers.SourceConnected || kept() != first {
		t.Fatalf("second request: source %v, same session %v", src, kept() == first)
	}
	first.end(errors.New("ended under the client"))
	ping(c)
	if k := kept(); k == nil || k == first {
		t.Fatal("no new session after the kept one ended")
	}
	cl.Close()
	if _, _, err := c.Do(context.Background(), to, &Request{Kind: KindPing}); err == nil {
		t.Fatal("request after Close")
	}
}
