package rpc

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// TestProgress: a client's Progress learns each phase of a request as it
// enters it: a first request dials the address book's address, opens the
// session and waits; a request on the kept session only waits; an agent the
// address book does not know is looked up in the DHT.
func TestProgress(t *testing.T) {
	var calls atomic.Int32
	srv := serveNode(t, echo(&calls))
	c := clientOf(t, srv).Client(5*time.Second, 5*time.Second)
	var mu sync.Mutex
	var phases []Phase
	c.Progress = func(p Phase) {
		mu.Lock()
		defer mu.Unlock()
		phases = append(phases, p)
	}
	seen := func() []Phase {
		mu.Lock()
		defer mu.Unlock()
		got := phases
		phases = nil
		return got
	}
	ctx := context.Background()
	for i, want := range [][]Phase{
		{PhaseDialling, PhaseHandshake, PhaseWaiting},
		{PhaseWaiting},
	} {
		if _, _, err := c.Do(ctx, srv.ID.Public(), &Request{Kind: KindPing}); err != nil {
			t.Fatal(err)
		}
		if got := seen(); !reflect.DeepEqual(got, want) {
			t.Errorf("request %d: phases %v, want %v", i+1, got, want)
		}
	}

	stranger, _ := keys.Generate()
	_, _, err := c.Do(ctx, stranger.Public(), &Request{Kind: KindPing})
	if !errors.Is(err, peers.ErrUnreachable) {
		t.Fatalf("an agent nobody knows: %v", err)
	}
	if got := seen(); !reflect.DeepEqual(got, []Phase{PhaseResolving}) {
		t.Errorf("an agent the address book does not know: phases %v, want [resolving]", got)
	}
}
