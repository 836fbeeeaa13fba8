package peers

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

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
