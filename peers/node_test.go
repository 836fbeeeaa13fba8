package peers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/n2n-dev/n2n/keys"
)

// Every host in these tests listens on and dials 127.0.0.1 only.
var loopback = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

func genIdentity(t testing.TB) *keys.Identity {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func bootstrapOf(nodes ...*Node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.Addrs()...)
	}
	return out
}

func startServer(t testing.TB, id *keys.Identity, listen []string, bootstrap ...*Node) *Node {
	t.Helper()
	n, err := NewServer(context.Background(), Options{
		Identity:    id,
		Listen:      listen,
		Bootstrap:   bootstrapOf(bootstrap...),
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return n
}

func startClient(t testing.TB, bootstrap ...*Node) *Node {
	t.Helper()
	n, err := NewClient(context.Background(), Options{
		Identity:    genIdentity(t),
		Bootstrap:   bootstrapOf(bootstrap...),
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close client: %v", err)
		}
	})
	return n
}

func waitRTs(t testing.TB, ctx context.Context, nodes ...*Node) {
	t.Helper()
	for i, n := range nodes {
		if err := n.WaitRoutingTable(ctx, 1); err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
}

func TestResolveViaDHTThenAddrBook(t *testing.T) {
	ctx := testCtx(t)
	a := startServer(t, genIdentity(t), loopback)
	b := startServer(t, genIdentity(t), loopback, a)
	waitRTs(t, ctx, a, b)
	waitPublished(t, ctx, a) // by the republish loop, once a has a DHT peer

	// c knows only b, and has an empty address book.
	c := startClient(t, b)
	book := &AddrBook{Store: &MemStore{}}
	start := time.Now()
	addrs, src, err := c.Resolve(ctx, a.Agent(), book)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resolved via %s in %v: %v", src, time.Since(start), addrs)
	if src != SourceDHT || len(addrs) == 0 {
		t.Fatalf("source %s, addrs %v", src, addrs)
	}
	rec, err := c.FindRecord(ctx, a.Agent())
	if err != nil {
		t.Fatal(err)
	}
	if rec.Agent != a.Agent() || len(rec.Addrs) == 0 || rec.Verify() != nil {
		t.Fatalf("record %+v", rec)
	}
	if src, err := c.Connect(ctx, a.Agent(), book); err != nil || src != SourceConnected {
		t.Fatalf("second connect: %s, %v", src, err)
	}
	list, err := book.List()
	if err != nil || len(list) != 1 || list[0].Agent != a.Agent() || list[0].LastOK.IsZero() {
		t.Fatalf("address book after DHT: %+v, %v", list, err)
	}

	// A fresh client with no bootstrap peer at all connects from the book.
	d := startClient(t)
	start = time.Now()
	if src, err := d.Connect(ctx, a.Agent(), book); err != nil || src != SourceAddrBook {
		t.Fatalf("from address book: %s, %v", src, err)
	}
	t.Logf("connected via address book in %v", time.Since(start))
}

// A connection from the address book writes to the book only when the
// entry needs it: one-shot commands then need not reopen the home to save
// it.
func TestConnectFromBookWritesOnlyWhenNeeded(t *testing.T) {
	ctx := testCtx(t)
	a := startServer(t, genIdentity(t), loopback)
	store := &countingStore{}
	book := &AddrBook{Store: store}
	for _, s := range a.Addrs() {
		if _, err := book.AddText(a.Agent(), s, DefaultTTL); err != nil {
			t.Fatal(err)
		}
	}
	added := store.sets
	// Added by hand, never confirmed: the first connection writes LastOK.
	if src, err := startClient(t).Connect(ctx, a.Agent(), book); err != nil || src != SourceAddrBook {
		t.Fatalf("first connect: %s, %v", src, err)
	}
	if store.sets != added+1 {
		t.Fatalf("first connection from the book: %d writes, want 1", store.sets-added)
	}
	list, err := book.List()
	if err != nil || len(list) != 1 || list[0].LastOK.IsZero() {
		t.Fatalf("book: %+v %v", list, err)
	}
	// Confirmed just now: the next one-shot client writes nothing.
	for i := range 2 {
		if src, err := startClient(t).Connect(ctx, a.Agent(), book); err != nil || src != SourceAddrBook {
			t.Fatalf("connect %d: %s, %v", i+2, src, err)
		}
	}
	if store.sets != added+1 {
		t.Fatalf("later connections from the book: %d writes, want none", store.sets-added-1)
	}
}

func waitPublished(t testing.TB, ctx context.Context, n *Node) {
	t.Helper()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if at, err := n.LastPublish(); !at.IsZero() && err == nil {
			return
		}
		select {
		case <-ctx.Done():
			at, err := n.LastPublish()
			t.Fatalf("record not published (last try %v: %v)", at, err)
		case <-tick.C:
		}
	}
}

func TestStreamRoundTrip(t *testing.T) {
	ctx := testCtx(t)
	a := startServer(t, genIdentity(t), loopback)
	seen := make(chan keys.PublicKey, 1)
	a.Handle(func(s Stream) {
		defer s.Close()
		seen <- s.RemoteAgent()
		s.SetDeadline(time.Now().Add(10 * time.Second))
		msg, err := io.ReadAll(s)
		if err != nil {
			s.Reset()
			return
		}
		fmt.Fprintf(s, "reply to %s", msg)
	})

	c := startClient(t)
	book := &AddrBook{Store: &MemStore{}}
	for _, s := range a.Addrs() {
		ma, err := ParseAddr(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := book.Add(a.Agent(), mustAddrs(t, ma.String()), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if src, err := c.Connect(ctx, a.Agent(), book); err != nil || src != SourceAddrBook {
		t.Fatalf("connect: %s, %v", src, err)
	}
	s, err := c.Open(ctx, a.Agent())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.RemoteAgent() != a.Agent() {
		t.Fatalf("client sees %s, want %s", s.RemoteAgent(), a.Agent())
	}
	s.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(s, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	reply, err := io.ReadAll(s)
	if err != nil || string(reply) != "reply to hello" {
		t.Fatalf("reply %q, %v", reply, err)
	}
	if got := <-seen; got != c.Agent() {
		t.Fatalf("server sees %s, want %s", got, c.Agent())
	}
	if ag := a.ConnectedAgents(); len(ag) != 1 || ag[0] != c.Agent() {
		t.Fatalf("connected agents of a: %v", ag)
	}

	// Nobody handles the protocol on c (a client): opening fails cleanly.
	if _, err := a.Open(ctx, c.Agent()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("open to a peer without handler: %v", err)
	}
}

// freePort returns a 127.0.0.1 TCP port that nothing listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestRefusedAddressFailsFast(t *testing.T) {
	ctx := testCtx(t)
	x := genIdentity(t)
	port := freePort(t)
	addr := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)
	book := &AddrBook{Store: &MemStore{}}
	if err := book.Add(x.Public(), mustAddrs(t, addr), time.Hour); err != nil {
		t.Fatal(err)
	}
	c := startClient(t)
	for i := range 2 { // the second attempt must not be blocked by dial backoff either
		start := time.Now()
		src, err := c.Connect(ctx, x.Public(), book)
		t.Logf("attempt %d: refused after %v: %v", i+1, time.Since(start), err)
		if !errors.Is(err, ErrUnreachable) || src != SourceNone {
			t.Fatalf("connect to refused address: %s, %v", src, err)
		}
	}

	// The agent comes up on that very port: the next Connect in the same
	// process succeeds at once (no dial backoff left from the failures).
	startServer(t, x, []string{addr})
	start := time.Now()
	if src, err := c.Connect(ctx, x.Public(), book); err != nil || src != SourceAddrBook {
		t.Fatalf("after the agent started: %s, %v", src, err)
	}
	t.Logf("connected %v after the agent came up", time.Since(start))
}

func TestSilentAddressTimesOut(t *testing.T) {
	ctx := testCtx(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { // accept, then say nothing
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	x := genIdentity(t).Public()
	book := &AddrBook{Store: &MemStore{}}
	if err := book.Add(x, mustAddrs(t, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", l.Addr().(*net.TCPAddr).Port)), time.Hour); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(ctx, Options{Identity: genIdentity(t), DialTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	start := time.Now()
	_, err = c.Connect(ctx, x, book)
	t.Logf("silent address given up after %v", time.Since(start))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("silent address: %v", err)
	}
}

func TestConnectSelfAndNoBootstrap(t *testing.T) {
	ctx := testCtx(t)
	c := startClient(t)
	if _, err := c.Connect(ctx, c.Agent(), nil); !errors.Is(err, ErrSelf) {
		t.Fatalf("self: %v", err)
	}
	other := genIdentity(t).Public()
	_, err := c.Connect(ctx, other, &AddrBook{Store: &MemStore{}})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "bootstrap") {
		t.Fatalf("no book entry and no bootstrap: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Connect(cctx, other, nil); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestOptionsRejectBadAddresses(t *testing.T) {
	id := genIdentity(t)
	for _, o := range []Options{
		{Identity: id, Listen: []string{"not an address"}},
		{Identity: id, Listen: loopback, Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}},
	} {
		n, err := NewServer(context.Background(), o)
		if err == nil {
			n.Close()
		}
		if !errors.Is(err, ErrBadAddress) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// startNetwork starts size DHT servers, each bootstrapped from one or two
// earlier ones, and waits until every routing table has a peer.
func startNetwork(t testing.TB, ctx context.Context, size int) []*Node {
	nodes := []*Node{startServer(t, genIdentity(t), loopback)}
	for i := 1; i < size; i++ {
		boot := []*Node{nodes[i-1]}
		if i > 1 {
			boot = append(boot, nodes[(i*7)%(i-1)])
		}
		nodes = append(nodes, startServer(t, genIdentity(t), loopback, boot...))
	}
	waitRTs(t, ctx, nodes...)
	return nodes
}

func TestResolveInNetwork(t *testing.T) {
	ctx := testCtx(t)
	nodes := startNetwork(t, ctx, 10)
	target := nodes[len(nodes)-1]
	if err := target.PublishRecord(ctx); err != nil {
		t.Fatal(err)
	}
	c := startClient(t, nodes[0])
	// A stale address-book entry (refused) does not stop the DHT step.
	book := &AddrBook{Store: &MemStore{}}
	stale := mustAddrs(t, fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freePort(t)))
	if err := book.Add(target.Agent(), stale, time.Hour); err != nil {
		t.Fatal(err)
	}
	sig := c.rtAdded.next()
	start := time.Now()
	addrs, src, err := c.Resolve(ctx, target.Agent(), book)
	if err != nil || src != SourceDHT || len(addrs) == 0 {
		t.Fatalf("resolve: %v %s %v", addrs, src, err)
	}
	t.Logf("10 servers: resolved in %v (client routing table %d)", time.Since(start), c.RoutingTableSize())
	// The wait for the routing table woke on kad-dht adding a peer, not on
	// a tick (rtWatch): a kad-dht that stopped tagging them would fail here.
	select {
	case <-sig:
	default:
		t.Fatal("no routing-table signal")
	}
	if list, err := book.List(); err != nil || len(list) != 1 || list[0].LastOK.IsZero() {
		t.Fatalf("book after the DHT step: %+v %v", list, err)
	}

	// An agent that is in no routing table and published no record.
	start = time.Now()
	_, err = c.Connect(ctx, genIdentity(t).Public(), nil)
	t.Logf("unknown agent: %v after %v", err, time.Since(start))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("unknown agent: %v", err)
	}
	// Cancelled during the lookup (at the first query it sends):
	// context.Canceled, not ErrUnreachable.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	qctx, events := routing.RegisterForQueryEvents(cctx)
	go func() {
		for range events {
			cancel()
		}
	}()
	_, err = c.Connect(qctx, genIdentity(t).Public(), nil)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("cancelled lookup: %v", err)
	}
}

func BenchmarkNewClient(b *testing.B) {
	id := genIdentity(b)
	for b.Loop() {
		n, err := NewClient(context.Background(), Options{Identity: id})
		if err != nil {
			b.Fatal(err)
		}
		n.Close()
	}
}

func BenchmarkNewServer(b *testing.B) {
	id := genIdentity(b)
	for b.Loop() {
		n, err := NewServer(context.Background(), Options{Identity: id, Listen: loopback})
		if err != nil {
			b.Fatal(err)
		}
		n.Close()
	}
}

// BenchmarkResolve50: a fresh client, bootstrapped from one of 50 servers,
// resolves and connects to another of them.
func BenchmarkResolve50(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	nodes := startNetwork(b, ctx, 50)
	for _, n := range nodes {
		if err := n.PublishRecord(ctx); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		i++
		c, err := NewClient(ctx, Options{Identity: genIdentity(b), Bootstrap: nodes[i%len(nodes)].Addrs()})
		if err != nil {
			b.Fatal(err)
		}
		target := nodes[(i*17+5)%len(nodes)]
		if _, src, err := c.Resolve(ctx, target.Agent(), nil); err != nil || src != SourceDHT {
			b.Fatalf("resolve: %s %v", src, err)
		}
		c.Close()
	}
}
