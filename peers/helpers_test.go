package peers

import (
	"context"
	"net"
	"testing"
	"time"

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

func waitPublished(t testing.TB, ctx context.Context, n *Node) {
	t.Helper()
	tick := time.NewTicker(signalledPoll)
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
