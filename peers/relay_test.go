package peers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
)

// startRelayed starts a public node R relaying dataLimit bytes per
// connection and a server B behind a "NAT" that bootstraps from R, and
// waits (a bounded while) until B advertises a circuit address through R.
func startRelayed(t *testing.T, ctx context.Context, dataLimit int64) (r, b *Node, circuit multiaddr.Multiaddr) {
	t.Helper()
	r, err := NewServer(ctx, Options{Identity: genIdentity(t), Listen: loopback[:1], Public: true, Relay: RelayLimits{Data: dataLimit}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	b, err = NewServer(ctx, Options{Identity: genIdentity(t), Listen: loopback[:1], Bootstrap: r.Addrs(), BehindNAT: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, a := range b.h.Addrs() {
			if relay, ok := relayOf(a); ok && relay == r.h.ID().String() {
				return r, b, a
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no circuit address through the public node: %v", b.h.Addrs())
		case <-tick.C:
		}
	}
}

// TestPublicNodeRelays: a public node relays at once (on loopback, where
// AutoNAT would never call it public), a server behind a NAT holds a
// reservation with its bootstrap peer and advertises the circuit address
// even though the relay's address is not public (AutoRelay leaves such
// relays out), and a connection through it reports its path: relayed, the
// relay, the relay's data limit and what n2n's streams moved.
func TestPublicNodeRelays(t *testing.T) {
	ctx := testCtx(t)
	const limit = 96 << 10
	r, b, circuit := startRelayed(t, ctx, limit)
	b.Handle(func(s Stream) {
		defer s.Close()
		buf := make([]byte, 1000)
		for {
			if _, err := s.Read(buf); err != nil {
				return
			}
		}
	})
	a := startClient(t)
	book := &AddrBook{Store: &MemStore{}}
	if err := book.Add(b.Agent(), []multiaddr.Multiaddr{circuit}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Connect(ctx, b.Agent(), book); err != nil {
		t.Fatal(err)
	}
	path, ok := a.PathTo(b.Agent())
	want := Path{Relayed: true, Relay: r.h.ID().String(), DataLimit: limit}
	if !ok || path != want {
		t.Fatalf("path %+v, want %+v", path, want)
	}
	if a.CanGoDirect() || !b.CanGoDirect() || r.CanGoDirect() {
		t.Error("only a server that is not public makes direct connections")
	}
	s, err := a.Open(ctx, b.Agent())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(make([]byte, 3000)); err != nil {
		t.Fatal(err)
	}
	if p := s.Path(); !p.Relayed || p.Sent != 3000 || p.DataLimit != limit {
		t.Fatalf("stream path %+v", p)
	}
	if p, _ := a.PathTo(b.Agent()); p.Sent != 3000 {
		t.Fatalf("the connection's path does not count the stream's bytes: %+v", p)
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if a.WaitDirect(wctx, b.Agent()) {
		t.Fatal("a one-shot client has a direct connection")
	}
}

// TestNatted: a server takes itself to be behind a NAT when it listens on
// private addresses only and a bootstrap peer is outside its networks.
func TestNatted(t *testing.T) {
	const id = "/p2p/12D3KooWT193bj5YDkrtevr7Y7XwyKdo1G132iV9ixPgM9wFYW6U"
	for _, c := range []struct {
		listen, boot string
		want         bool
	}{
		{"/ip4/127.0.0.1/tcp/0", "/ip4/11.0.0.1/tcp/4001" + id, false}, // loopback only: a test
		{"/ip4/10.1.2.3/tcp/0", "/ip4/127.0.0.1/tcp/4001" + id, false}, // bootstrap on this machine
		{"/ip4/10.1.2.3/tcp/0", "/ip4/11.0.0.1/tcp/4001" + id, true},   // public bootstrap
		{"/ip4/10.1.2.3/tcp/0", "/ip4/10.99.0.1/tcp/4001" + id, true},  // private, elsewhere
		{"/ip4/10.1.2.3/tcp/0", "/dns4/example.net/tcp/4001" + id, true},
		{"/ip4/11.0.0.9/tcp/0", "/ip4/11.0.0.1/tcp/4001" + id, false}, // public listen address
		{"/ip4/10.1.2.3/tcp/0", "", false},                            // nobody to be behind a NAT for
	} {
		listen, _ := multiaddr.NewMultiaddr(c.listen)
		var boot []peer.AddrInfo
		if c.boot != "" {
			var err error
			if boot, err = parseBootstrap([]string{c.boot}); err != nil {
				t.Fatal(err)
			}
		}
		if got := natted([]multiaddr.Multiaddr{listen}, boot); got != c.want {
			t.Errorf("listen %s, bootstrap %q: natted %v, want %v", c.listen, c.boot, got, c.want)
		}
	}
}

// TestAnnounce: a server advertises the announced addresses in place of
// its listen addresses; an announced address naming a peer is refused.
func TestAnnounce(t *testing.T) {
	n, err := NewServer(testCtx(t), Options{Identity: genIdentity(t), Listen: loopback, Public: true, Announce: []string{"/ip4/11.0.0.1/tcp/4001"}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	addrs := n.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "/ip4/11.0.0.1/tcp/4001/p2p/") {
		t.Fatalf("advertised %v", addrs)
	}
	_, err = NewServer(testCtx(t), Options{Identity: genIdentity(t), Listen: loopback, Announce: []string{"/ip4/11.0.0.1/tcp/4001" + "/p2p/" + n.h.ID().String()}})
	if err == nil || !strings.Contains(err.Error(), "without /p2p/") {
		t.Fatalf("announce with /p2p/: %v", err)
	}
}
