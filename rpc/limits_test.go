package rpc

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/internal/wiretest"
	"github.com/n2n-dev/n2n/keys"
)

// countingBudget is a Budget of `limit` bytes in all.
type countingBudget struct {
	mu    sync.Mutex
	limit int
	total int
	peak  int
}

func (b *countingBudget) Reserve(_ keys.PublicKey, n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.total+n > b.limit {
		return false
	}
	b.total += n
	b.peak = max(b.peak, b.total)
	return true
}

func (b *countingBudget) Release(_ keys.PublicKey, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total -= n
}

func (b *countingBudget) held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// shortTimes makes the sessions' read timeouts short for one test.
func shortTimes(t *testing.T) {
	saved := times
	times = sessionTimes{start: 500 * time.Millisecond, progress: 300 * time.Millisecond, idle: time.Minute, period: 50 * time.Millisecond}
	t.Cleanup(func() { times = saved })
}

// attacker is a hand-made client (wiretest) of srv.
func attacker(t *testing.T, srv *Endpoint) *wiretest.Agent {
	t.Helper()
	a, err := wiretest.NewAgent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.Know(srv.ID.Public(), srv.Node.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	return a
}

// ended waits (boundedly) for the next session to end and returns what
// Serve returned.
func nextEnd(t *testing.T, ended <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ended:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the session is still served", what)
		return nil
	}
}

// TestStalledSessionsDropped: a session that stalls in the middle of a
// frame after a first request, and one that never sends its first request,
// are dropped after the short read timeouts, not kept for the idle time
// (which applies only between requests).
func TestStalledSessionsDropped(t *testing.T) {
	shortTimes(t)
	var calls atomic.Int32
	ended := make(chan error, 4)
	srv := serveNodeWith(t, echo(&calls), nil, ended)
	a := attacker(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	c, err := a.Dial(ctx, srv.ID.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Reset()
	if resp, err := c.Do(&wiretest.Request{ID: 1, Kind: "ping"}); err != nil || resp.Status != "ok" {
		t.Fatalf("ping: %+v %v", resp, err)
	}
	if err := c.BeginFrame(16<<20, make([]byte, wiretest.FirstChunk)); err != nil {
		t.Fatal(err)
	}
	if err := nextEnd(t, ended, "stalled mid-frame"); !errors.Is(err, errStalled) {
		t.Fatalf("stalled mid-frame: Serve returned %v", err)
	}

	c2, err := a.Dial(ctx, srv.ID.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Reset()
	if err := nextEnd(t, ended, "no first request"); err == nil {
		t.Fatal("no first request: Serve returned nil")
	}
}

// TestOverBudgetIsBusy: a request whose frame would take the budget over
// is answered busy (exit 9's status) and ends its session; while a stalled
// frame of another agent holds the budget, a large request is refused but a
// small one (under the session floor) still succeeds; every byte comes back
// to the budget once the sessions end.
func TestOverBudgetIsBusy(t *testing.T) {
	shortTimes(t)
	b := &countingBudget{limit: 1 << 20}
	var calls atomic.Int32
	ended := make(chan error, 8)
	srv := serveNodeWith(t, echo(&calls), b, ended)
	to := srv.ID.Public()
	cl := clientOf(t, srv).Client(5*time.Second, 5*time.Second)

	var se *StatusError
	_, _, err := cl.Do(context.Background(), to, &Request{Kind: KindSend, Payload: make([]byte, 2<<20)})
	if !errors.As(err, &se) || se.Status != StatusBusy {
		t.Fatalf("2 MiB over a 1 MiB budget: %v", err)
	}
	if err := nextEnd(t, ended, "over budget"); !errors.Is(err, errOverBudget) {
		t.Fatalf("over budget: Serve returned %v", err)
	}
	if resp, _, err := cl.Do(context.Background(), to, &Request{Kind: KindSend, Payload: []byte("small")}); err != nil || resp.Status != StatusOK {
		t.Fatalf("after busy: %+v %v", resp, err)
	}

	// Another agent holds most of the budget with a frame it stalls in.
	a := attacker(t, srv)
	c, err := a.Dial(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Reset()
	frame := c.Encode(&wiretest.Request{ID: 1, Kind: "send", Payload: make([]byte, 2<<20)})
	c.BeginFrame(uint32(len(frame)), frame[:wiretest.FirstChunk])
	sent := wiretest.FirstChunk
	for sent+wiretest.MaxChunk < 900<<10 {
		c.WriteMessage(frame[sent : sent+wiretest.MaxChunk])
		sent += wiretest.MaxChunk
	}
	for i := 0; b.held() < 512<<10; i++ {
		if i > 400 {
			t.Fatalf("the stalled frame holds %d bytes of the budget", b.held())
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, _, err = cl.Do(context.Background(), to, &Request{Kind: KindSend, Payload: make([]byte, 256<<10)})
	if !errors.As(err, &se) || se.Status != StatusBusy {
		t.Fatalf("256 KiB while the budget is held: %v", err)
	}
	if resp, _, err := cl.Do(context.Background(), to, &Request{Kind: KindSend, Payload: make([]byte, 16<<10)}); err != nil || resp.Status != StatusOK {
		t.Fatalf("16 KiB while the budget is held: %+v %v", resp, err)
	}
	nextEnd(t, ended, "over budget again")
	if err := nextEnd(t, ended, "the stalled frame"); !errors.Is(err, errStalled) {
		t.Fatalf("the stalled frame: Serve returned %v", err)
	}
	if b.held() != 0 {
		t.Fatalf("%d bytes still held once the stalled session ended", b.held())
	}
	if b.peak > b.limit {
		t.Fatalf("peak %d over the limit %d", b.peak, b.limit)
	}
}

// otherAgent is a stream that says its remote agent is another one.
type otherAgent struct {
	net.Conn
	agent keys.PublicKey
}

func (o otherAgent) RemoteAgent() keys.PublicKey { return o.agent }

// TestCallerIsStreamPeer: a session whose Noise key is not the agent of the
// stream it runs on (a libp2p peer speaking for another key) runs nothing.
func TestCallerIsStreamPeer(t *testing.T) {
	caller, callee := ids(t)
	other, _ := keys.Generate()
	c, s := net.Pipe()
	var calls atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- serve(context.Background(), otherAgent{s, other.Public()}, callee, nil, echo(&calls), time.Now, nil)
		s.Close()
	}()
	if _, err := exchange(c, caller, callee.Public(), &Request{ID: 1, Kind: KindCall, Function: "f", Timeout: tenSeconds}); err == nil {
		t.Fatal("a request was answered")
	}
	if err := <-done; err == nil || calls.Load() != 0 {
		t.Fatalf("serve: %v, calls %d", err, calls.Load())
	}
	c2, s2 := net.Pipe()
	go serve(context.Background(), otherAgent{s2, caller.Public()}, callee, nil, echo(&calls), time.Now, nil)
	if _, err := exchange(c2, caller, callee.Public(), &Request{ID: 1, Kind: KindCall, Function: "f", Timeout: tenSeconds}); err != nil || calls.Load() != 1 {
		t.Fatalf("the stream's own agent: %v, calls %d", err, calls.Load())
	}
}
