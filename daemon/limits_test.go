package daemon

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/internal/wiretest"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// wireAgent is a hand-made client (wiretest) that knows the daemon d.
func wireAgent(t *testing.T, d *Daemon) *wiretest.Agent {
	t.Helper()
	a, err := wiretest.NewAgent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Know(d.ID().Public(), d.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	return a
}

// dialPing opens a session of a with d and pings on it.
func dialPing(t *testing.T, a *wiretest.Agent, d *Daemon) (*wiretest.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := a.Dial(ctx, d.ID().Public())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Reset() })
	resp, err := c.Do(&wiretest.Request{ID: 1, Kind: "ping"})
	if err != nil || resp.Status != "ok" {
		return nil, errors.Join(err, errors.New("ping: "+resp.Status))
	}
	return c, nil
}

// waitSessions waits (boundedly) until d serves n sessions.
func waitSessions(t *testing.T, d *Daemon, n int) {
	t.Helper()
	for i := 0; ; i++ {
		if got, _ := d.Sessions(); got == n {
			return
		}
		if i == 1000 {
			got, _ := d.Sessions()
			t.Fatalf("%d sessions served, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSessionCaps: an agent at its cap of sessions is refused another, as
// busy and before any handshake (a client that keeps being refused until
// its dial timeout sees rpc.StatusBusy, exit 9), while another agent is
// served; the daemon-wide cap holds across agents; a session that ends
// frees its slot for a client trying again.
func TestSessionCaps(t *testing.T) {
	d := newDaemonWith(t, nil, Limits{Memory: 1 << 20, AgentMemory: 1 << 20, Sessions: 3, AgentSessions: 2, Handshakes: 100, HandshakeBurst: 100})
	a, b := wireAgent(t, d), wireAgent(t, d)
	var held []*wiretest.Conn
	for range 2 {
		c, err := dialPing(t, a, d)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if _, err := dialPing(t, a, d); !errors.Is(err, peers.ErrBusy) {
		t.Fatalf("third session of one agent: %v, want busy", err)
	}
	ep := &rpc.Endpoint{ID: a.ID, Node: a.Node, Book: a.Book}
	defer ep.Close()
	_, _, err := ep.Client(time.Second, 5*time.Second).Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindPing})
	var se *rpc.StatusError
	if !errors.As(err, &se) || se.Status != rpc.StatusBusy {
		t.Fatalf("rpc client over the cap: %v, want status busy", err)
	}
	if _, err := dialPing(t, b, d); err != nil {
		t.Fatalf("another agent: %v", err)
	}
	if _, err := dialPing(t, b, d); !errors.Is(err, peers.ErrBusy) {
		t.Fatalf("over the daemon's cap: %v, want busy", err)
	}
	// A client refused as busy tries again until its dial timeout: it gets
	// the slot a session frees meanwhile.
	refused := func() int {
		d.admission.mu.Lock()
		defer d.admission.mu.Unlock()
		return d.admission.refused
	}
	before := refused()
	retried := make(chan error, 1)
	go func() {
		_, _, err := ep.Client(20*time.Second, 5*time.Second).Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindPing})
		retried <- err
	}()
	for i := 0; refused() < before+2; i++ { // refused twice: it tries again
		if i == 1000 {
			t.Fatal("the waiting client was not refused")
		}
		time.Sleep(10 * time.Millisecond)
	}
	held[0].Close()
	if err := <-retried; err != nil {
		t.Fatalf("a client waiting for a slot: %v", err)
	}
}

// TestHandshakeRate: an agent that opens sessions faster than its rate is
// refused, as busy, once its burst is spent, though it holds no session;
// another agent is not.
func TestHandshakeRate(t *testing.T) {
	d := newDaemonWith(t, nil, Limits{Memory: 1 << 20, AgentMemory: 1 << 20, Sessions: 100, AgentSessions: 100, Handshakes: 0.01, HandshakeBurst: 3})
	a, b := wireAgent(t, d), wireAgent(t, d)
	for i := range 3 {
		c, err := dialPing(t, a, d)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		c.Close()
	}
	waitSessions(t, d, 0)
	if _, err := dialPing(t, a, d); !errors.Is(err, peers.ErrBusy) {
		t.Fatalf("fourth handshake at once: %v, want busy", err)
	}
	if _, err := dialPing(t, b, d); err != nil {
		t.Fatalf("another agent: %v", err)
	}
}

// TestAdmissionBudgets: the memory budgets hold per agent and in all, are
// given back whole, and an agent's entry is forgotten once it holds nothing
// and its handshakes are paid back, never before.
func TestAdmissionBudgets(t *testing.T) {
	a := newAdmission(Limits{Memory: 100, AgentMemory: 60, Sessions: 1, AgentSessions: 1, Handshakes: 1e6, HandshakeBurst: 1})
	x, _ := keys.Generate()
	y, _ := keys.Generate()
	z, _ := keys.Generate()
	X, Y, Z := x.Public(), y.Public(), z.Public()
	if !a.Reserve(X, 60) || a.Reserve(X, 1) {
		t.Fatal("per-agent budget")
	}
	if !a.Reserve(Y, 40) || a.Reserve(Y, 1) {
		t.Fatal("daemon budget")
	}
	a.Release(X, 60)
	if !a.Reserve(Y, 20) {
		t.Fatal("released bytes not given back")
	}
	if a.enter(Z) != "" {
		t.Fatal("first session refused")
	}
	a.prune()
	if a.agents[Y] == nil || a.agents[Z] == nil {
		t.Fatal("pruned an agent that holds memory or a session")
	}
	a.leave(Z)
	a.Release(Y, 60)
	time.Sleep(time.Millisecond) // the bucket refills at a million a second
	a.prune()
	if len(a.agents) != 0 {
		t.Fatalf("%d agents kept that hold nothing", len(a.agents))
	}
	if s, m := a.counts(); s != 0 || m != 0 {
		t.Fatalf("counts %d sessions, %d bytes after all left", s, m)
	}
}
