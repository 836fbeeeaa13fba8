package rpc

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// TestRequestsOverARelay: B is behind a "NAT" and reachable only through
// the public node R, which relays 64 KiB per connection. A one-shot client
// sends what fits and reports the relayed path; a request that does not
// fit, and any request of a client that refuses relays, fails with one
// RelayError (unreachable, exit 5) before anything is sent — never a
// stream reset halfway.
func TestRequestsOverARelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const limit = 64 << 10
	rid, _ := keys.Generate()
	r, err := peers.NewServer(ctx, peers.Options{Identity: rid, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Public: true, Relay: peers.RelayLimits{Data: limit}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var calls atomic.Int32
	b := serveNodeOn(t, echo(&calls), nil, nil, peers.Options{Bootstrap: r.Addrs(), BehindNAT: true})
	circuit := ""
	for circuit == "" {
		for _, a := range b.Node.Addrs() {
			if strings.Contains(a, "/p2p/"+rid.Public().PeerID()+"/p2p-circuit") {
				circuit = a
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no circuit address: %v", b.Node.Addrs())
		case <-time.After(10 * time.Millisecond):
		}
	}
	aid, _ := keys.Generate()
	node, err := peers.NewClient(ctx, peers.Options{Identity: aid, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	book := &peers.AddrBook{Store: &peers.MemStore{}}
	if _, err := book.AddText(b.ID.Public(), circuit, time.Hour); err != nil {
		t.Fatal(err)
	}
	a := &Endpoint{ID: aid, Node: node, Book: book}
	defer a.Close()
	client := a.Client(5*time.Second, 10*time.Second)
	to := b.ID.Public()

	call := client.Go(ctx, to, &Request{Kind: KindSend, Payload: make([]byte, 16<<10)})
	if _, _, err := call.Wait(); err != nil {
		t.Fatal(err)
	}
	if p := call.Path(); !p.Relayed || p.Relay != rid.Public().PeerID() || p.DataLimit != limit || p.Sent < 16<<10 {
		t.Fatalf("path %+v", p)
	}

	_, _, err = client.Do(ctx, to, &Request{Kind: KindSend, Payload: make([]byte, 48<<10)})
	var re *RelayError
	if !errors.As(err, &re) || re.Reason != RelayTooSmall || re.CanGoDirect || !errors.Is(err, peers.ErrUnreachable) {
		t.Fatalf("a request over the relay's limit: %v", err)
	}
	if want := "is reachable only through relay " + rid.Public().PeerID() + ", whose limit (64 KiB) is too small for this request"; !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("error %q", err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d requests reached the callee, want 1", n)
	}

	refusing := a.Client(5*time.Second, 10*time.Second)
	refusing.DirectOnly = true
	_, _, err = refusing.Do(ctx, to, &Request{Kind: KindPing})
	if !errors.As(err, &re) || re.Reason != RelayRefused || !strings.HasSuffix(err.Error(), "and --direct-only refuses relays") {
		t.Fatalf("direct only: %v", err)
	}
	if _, _, err := client.Do(ctx, to, &Request{Kind: KindPing}); err != nil {
		t.Fatalf("a ping still fits: %v", err)
	}
}

// TestFits: what a relayed connection can still carry.
func TestFits(t *testing.T) {
	small := &Request{Payload: make([]byte, 1000)}
	for _, c := range []struct {
		path peers.Path
		want bool
	}{
		{peers.Path{}, true},
		{peers.Path{Relayed: true}, true}, // a relay with no data limit
		{peers.Path{Relayed: true, DataLimit: 128 << 10}, true},
		{peers.Path{Relayed: true, DataLimit: 128 << 10, Sent: 95 << 10}, false},
		{peers.Path{Relayed: true, DataLimit: 128 << 10, Received: 100 << 10}, false},
		{peers.Path{Relayed: true, DataLimit: 64 << 20, Sent: 40 << 20}, true},
	} {
		if got := fits(c.path, small); got != c.want {
			t.Errorf("%+v: fits %v, want %v", c.path, got, c.want)
		}
	}
	if fits(peers.Path{Relayed: true, DataLimit: 64 << 20}, &Request{Payload: make([]byte, MaxPayload)}) != true {
		t.Error("a 16 MiB request does not fit a public node's relay")
	}
}
