package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/routing"
)

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
