package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
)

// unreachable asserts that err is an *UnreachableError for agent with the
// reason want.
func unreachable(t *testing.T, err error, agent keys.PublicKey, want UnreachableReason) *UnreachableError {
	t.Helper()
	var ue *UnreachableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnreachable) {
		t.Fatalf("want an UnreachableError (%s), got %T: %v", want, err, err)
	}
	if ue.Agent != agent || ue.Reason != want {
		t.Fatalf("want %s for %s, got %s for %s: %v", want, agent, ue.Reason, ue.Agent, err)
	}
	return ue
}

// stop closes a server and waits until its TCP addresses refuse
// connections; it returns their host:port. (Close may give up waiting on a
// loaded machine while the host still winds down.)
func stop(t *testing.T, n *Node) (tcp []string) {
	t.Helper()
	for _, a := range n.h.Addrs() {
		if _, err := a.ValueForProtocol(multiaddr.P_TCP); err == nil {
			tcp = append(tcp, netAddr(a))
		}
	}
	n.Close()
	for _, a := range tcp {
		for i := 0; ; i++ {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err != nil {
				break
			}
			c.Close()
			if i == 600 {
				t.Fatalf("%s still accepts connections 30 s after Close", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return tcp
}

// silentPeers makes peers that sit in every routing table (with addresses
// in every peerstore) but never answer: their TCP address is a listener
// that never accepts (connections complete in the kernel, then nothing is
// said), their QUIC address a UDP socket that never reads. Such peers are
// what a lookup meets when hosts vanish or peers behind NAT advertise
// addresses nobody outside can reach. For each key, n of them are closer to
// it than any of nodes, so a lookup of that key meets them first.
func silentPeers(t *testing.T, nodes []*Node, n int, keys ...string) map[peer.ID]bool {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	addrs := mustAddrs(t, "/ip4/127.0.0.1/tcp/"+strconv.Itoa(l.Addr().(*net.TCPAddr).Port),
		"/ip4/127.0.0.1/udp/"+strconv.Itoa(u.LocalAddr().(*net.UDPAddr).Port)+"/quic-v1")
	silent := map[peer.ID]bool{}
	for _, key := range keys {
		nearest := closest(nodes, key)[0].h.ID()
		for found := 0; found < n; {
			p := peerIDOf(genIdentity(t).Public())
			if kb.Closer(p, nearest, key) {
				silent[p] = true
				found++
			}
		}
	}
	for _, node := range nodes {
		for p := range silent {
			node.h.Peerstore().AddAddrs(p, addrs, time.Hour)
			node.currentDHT().RoutingTable().TryAddPeer(p, true, false)
		}
	}
	return silent
}

// closest are the nodes nearest to a DHT key, nearest first.
func closest(nodes []*Node, key string) []*Node {
	byID := map[peer.ID]*Node{}
	var ids []peer.ID
	for _, n := range nodes {
		byID[n.h.ID()] = n
		ids = append(ids, n.h.ID())
	}
	var out []*Node
	for _, id := range kb.SortClosestPeers(ids, kb.ConvertKey(key)) {
		out = append(out, byID[id])
	}
	return out
}

// TestUnreachableIn50NodeDHT: on a DHT of 50 servers, an agent nobody
// knows is ReasonNotFound and an agent whose daemon stopped is
// ReasonRefused, both long before the dial timeout is up: the client's
// context ends with it, as a command's does, so a lookup or dial that waited
// for it would come back as ReasonNoReply instead. Three silent peers are
// closer to each key the unknown agent's lookup asks for than any server
// (silentPeers), and the lookup must meet them; the stopped agent's QUIC
// address can only say nothing.
func TestUnreachableIn50NodeDHT(t *testing.T) {
	if testing.Short() {
		t.Skip("50 servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	nodes := startNetwork(t, ctx, 50)
	t.Logf("network up after %v", time.Since(start))
	unknown := genIdentity(t).Public()
	silent := silentPeers(t, nodes, 3, string(peerIDOf(unknown)), string(RecordKey(unknown)))

	gone, err := NewServer(ctx, Options{Identity: genIdentity(t), Listen: loopback, Bootstrap: nodes[0].Addrs(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitRTs(t, ctx, gone)
	if err := gone.PublishRecord(ctx); err != nil {
		t.Fatal(err)
	}
	book := &AddrBook{Store: &MemStore{}}
	if err := book.Add(gone.Agent(), gone.h.Addrs(), time.Hour); err != nil {
		t.Fatal(err)
	}
	tcp := stop(t, gone)

	const dialTimeout = 10 * time.Second
	c, err := NewClient(ctx, Options{Identity: genIdentity(t), Bootstrap: nodes[0].Addrs(), DialTimeout: dialTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	met := 0
	connect := func(agent keys.PublicKey, book *AddrBook) error {
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		qctx, events := routing.RegisterForQueryEvents(dctx)
		counted := make(chan struct{})
		go func() {
			defer close(counted)
			for ev := range events {
				if ev.Type == routing.DialingPeer && silent[ev.ID] {
					met++
				}
			}
		}()
		start := time.Now()
		_, err := c.Connect(qctx, agent, book)
		t.Logf("%v after %v", err, time.Since(start))
		cancel()
		<-counted
		return err
	}

	unreachable(t, connect(unknown, nil), unknown, ReasonNotFound)
	if met == 0 {
		t.Fatal("the lookup met none of the silent peers")
	}
	t.Logf("the lookup dialled silent peers %d times", met)
	ue := unreachable(t, connect(gone.Agent(), book), gone.Agent(), ReasonRefused)
	if len(ue.Addrs) != 2 || ue.Addrs[0] != tcp[0] {
		t.Fatalf("refused addresses %q, want %s first, then its QUIC address", ue.Addrs, tcp[0])
	}
	// Known only to the DHT (its record, and the routing tables that still
	// hold it): the same.
	unreachable(t, connect(gone.Agent(), nil), gone.Agent(), ReasonRefused)
}

// TestUnreachableReasons: the reasons a resolution without a DHT gives.
func TestUnreachableReasons(t *testing.T) {
	ctx := testCtx(t)
	c, err := NewClient(ctx, Options{Identity: genIdentity(t), DialTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	// Nothing to dial and nobody to ask.
	x := genIdentity(t).Public()
	unreachable(t, fmt.Errorf("wrapped: %w", func() error { _, err := c.Connect(ctx, x, nil); return err }()), x, ReasonNoPeers)

	// A silent TCP address: no reply, and it is named.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	book := &AddrBook{Store: &MemStore{}}
	if err := book.Add(x, mustAddrs(t, "/ip4/127.0.0.1/tcp/"+port), time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = c.Connect(ctx, x, book)
	if ue := unreachable(t, err, x, ReasonNoReply); len(ue.Addrs) != 1 || ue.Addrs[0] != "127.0.0.1:"+port {
		t.Fatalf("silent address: %q", ue.Addrs)
	}

	// A relay address whose relay is not there: relay refused, naming the
	// relay, even beside a refused direct address.
	relay := genIdentity(t).Public()
	rport, dport := freePort(t), freePort(t)
	y := genIdentity(t).Public()
	circuit := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s/p2p-circuit", rport, peerIDOf(relay))
	if err := book.Add(y, mustAddrs(t, circuit, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", dport)), time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = c.Connect(ctx, y, book)
	if ue := unreachable(t, err, y, ReasonRelayRefused); len(ue.Addrs) != 1 || ue.Addrs[0] != fmt.Sprintf("127.0.0.1:%d", rport) {
		t.Fatalf("relay addresses: %q", ue.Addrs)
	}
}

// TestRefusalWatch: a dial's watch is done once each address refused, a
// QUIC address once a TCP address on its IP did; a dial that joins one in
// progress sees what it saw; a relay address keeps it from ever being done.
func TestRefusalWatch(t *testing.T) {
	var r refusals
	p, q := peerIDOf(genIdentity(t).Public()), peerIDOf(genIdentity(t).Public())
	tcpA, quicA := mustAddrs(t, "/ip4/10.0.0.1/tcp/4001")[0], mustAddrs(t, "/ip4/10.0.0.1/udp/4002/quic-v1")[0]
	tcpB := mustAddrs(t, "/ip6/::1/tcp/4001")[0]
	isDone := func(done <-chan struct{}) bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}

	w, done := r.watch(p, []multiaddr.Multiaddr{tcpA, quicA, tcpB})
	r.report(p, tcpA)
	r.report(q, tcpB) // another peer's
	if isDone(done) {
		t.Fatal("done with [::1]:4001 not refused")
	}
	w2, done2 := r.watch(p, []multiaddr.Multiaddr{tcpA, quicA, tcpB}) // joins after tcpA refused
	r.report(p, tcpB)
	if !isDone(done) || !isDone(done2) {
		t.Fatal("not done once every address refused (the second dial joined after the first refusal)")
	}
	r.stop(p, w2)
	seen := r.stop(p, w)
	want := map[string]bool{"10.0.0.1:4001": false, "10.0.0.1:4002": true, "[::1]:4001": false}
	if len(seen) != len(want) {
		t.Fatalf("seen %v", seen)
	}
	for _, s := range seen {
		if inferred, ok := want[netAddr(s.addr)]; !ok || inferred != s.inferred || s.reason != ReasonRefused {
			t.Errorf("seen %s inferred=%v %s", netAddr(s.addr), s.inferred, s.reason)
		}
	}
	if len(r.watches) != 0 {
		t.Fatalf("%d watches left", len(r.watches))
	}

	relay := mustAddrs(t, "/ip4/10.0.0.9/tcp/4001/p2p/"+q.String()+"/p2p-circuit")[0]
	w, done = r.watch(p, []multiaddr.Multiaddr{tcpA, relay})
	r.report(p, tcpA)
	if isDone(done) {
		t.Fatal("done although a relay address is left")
	}
	r.stop(p, w)
	if got := netAddr(relay); got != "10.0.0.9:4001" {
		t.Fatalf("relay address shown as %s", got)
	}
}

// TestQueryDialTimeout: a DHT peer on this machine or network gets a second
// to connect, one with any address beyond it three.
func TestQueryDialTimeout(t *testing.T) {
	for _, c := range []struct {
		addrs []string
		want  time.Duration
	}{
		{[]string{"/ip4/127.0.0.1/tcp/4001"}, queryDialLocal},
		{[]string{"/ip4/192.168.1.2/tcp/4001", "/ip6/::1/udp/4001/quic-v1"}, queryDialLocal},
		{[]string{"/ip4/10.0.0.2/tcp/4001", "/ip4/203.0.113.9/tcp/4001"}, queryDialRemote},
		{[]string{"/dns4/example.org/tcp/4001"}, queryDialRemote},
	} {
		var addrs []multiaddr.Multiaddr
		for _, s := range c.addrs {
			addrs = append(addrs, multiaddr.StringCast(s))
		}
		if got := queryDialTimeout(addrs); got != c.want {
			t.Errorf("%v: %v, want %v", c.addrs, got, c.want)
		}
	}
}
