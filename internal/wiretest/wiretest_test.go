package wiretest_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/internal/wiretest"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

type echo struct{}

func (echo) Dispatch(ctx context.Context, in *rpc.Incoming) rpc.Response {
	return rpc.Response{Status: rpc.StatusOK, Payload: append([]byte(in.Caller.String()+":"), in.Request.Payload...)}
}

// serve starts an rpc endpoint on a real libp2p server on 127.0.0.1 that
// echoes every request with its caller's ID.
func serve(t *testing.T) (keys.PublicKey, string) {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	node, err := peers.NewServer(context.Background(), peers.Options{Identity: id, Listen: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	e := &rpc.Endpoint{ID: id, Node: node}
	ctx, cancel := context.WithCancel(context.Background())
	node.Handle(func(st peers.Stream) {
		defer st.Close()
		st.SetDeadline(time.Now().Add(10 * time.Second))
		e.Serve(ctx, st, echo{})
	})
	t.Cleanup(func() {
		cancel()
		node.Handle(nil)
		node.Close()
	})
	return id.Public(), node.Addrs()[0]
}

// TestSpeaksTheProtocol: the hand-made session is one the real endpoint
// accepts: the signed first request and a plain second one, a request sent
// as a begun frame and its continuation, answered under their IDs.
func TestSpeaksTheProtocol(t *testing.T) {
	to, addr := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := wiretest.NewAgent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Know(to, addr); err != nil {
		t.Fatal(err)
	}
	c, err := a.Dial(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Reset()
	for i, p := range []string{"first", "second"} {
		resp, err := c.Do(&wiretest.Request{ID: uint64(i + 1), Kind: "call", Function: "f", Payload: []byte(p)})
		if err != nil {
			t.Fatal(err)
		}
		if resp.ID != uint64(i+1) || resp.Status != "ok" || string(resp.Payload) != a.ID.Public().String()+":"+p {
			t.Fatalf("request %d: %+v", i+1, resp)
		}
	}
	big := bytes.Repeat([]byte("x"), 3*wiretest.MaxChunk)
	b := c.Encode(&wiretest.Request{ID: 3, Kind: "send", Payload: big})
	if err := c.BeginFrame(uint32(len(b)), b[:wiretest.FirstChunk]); err != nil {
		t.Fatal(err)
	}
	for rest := b[wiretest.FirstChunk:]; len(rest) > 0; {
		n := min(len(rest), wiretest.MaxChunk)
		if err := c.WriteMessage(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	resp, err := c.ReadResponse()
	if err != nil || resp.ID != 3 || !strings.HasSuffix(string(resp.Payload), string(big)) {
		t.Fatalf("begun frame: %v %d %s", err, resp.ID, resp.Status)
	}
}

// TestBadSignatureGetsNothing: a first request not signed for this session
// is dropped without an answer: the hand-made client can tell.
func TestBadSignatureGetsNothing(t *testing.T) {
	to, addr := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := wiretest.NewAgent(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Know(to, addr)
	c, err := a.Dial(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Reset()
	b := c.Encode(&wiretest.Request{ID: 1, Kind: "ping"})
	b[len(b)-1] ^= 1 // the signature's last byte
	if err := c.WriteFrame(b); err != nil {
		t.Fatal(err)
	}
	if resp, err := c.ReadResponse(); err == nil {
		t.Fatalf("answered a bad signature: %+v", resp)
	}
}
