package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

type recorder struct {
	io.ReadWriter
	wrote bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote.Write(p)
	return r.ReadWriter.Write(p)
}

// replay feeds recorded bytes to a responder and swallows its answers.
type replay struct{ r io.Reader }

func (p *replay) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *replay) Write(b []byte) (int, error) { return len(b), nil }

func ids(t testing.TB) (*keys.Identity, *keys.Identity) {
	a, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := keys.Generate()
	return a, b
}

func echo(calls *atomic.Int32) Dispatcher {
	return func(ctx context.Context, in *Incoming) Response {
		calls.Add(1)
		return Response{Status: StatusOK, Payload: append([]byte("ack:"), in.Request.Payload...)}
	}
}

func deadline() int64 { return time.Now().Add(10 * time.Second).UnixMicro() }

func TestExchange(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	done := make(chan error, 1)
	go func() { done <- serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now) }()
	resp, err := Exchange(c, caller, callee.Public(), &Request{ID: 7, Kind: KindSend, Payload: []byte("hi"), Deadline: deadline()})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != 7 || resp.Status != StatusOK || string(resp.Payload) != "ack:hi" {
		t.Fatalf("%+v", resp)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestReplayDoesNotRunTwice records every byte the initiator sent in a
// session and replays them to the responder: the request must not run again.
func TestReplayDoesNotRunTwice(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	rec := &recorder{ReadWriter: c}
	var calls atomic.Int32
	go serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
	if _, err := Exchange(rec, caller, callee.Public(), &Request{ID: 1, Kind: KindCall, Function: "f", Deadline: deadline()}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("calls = %d", calls.Load())
	}
	err := serveSession(context.Background(), &replay{bytes.NewReader(rec.wrote.Bytes())}, callee, nil, echo(&calls), time.Now)
	if err == nil {
		t.Fatal("replayed session served without error")
	}
	if calls.Load() != 1 {
		t.Fatalf("replay ran the request: calls = %d", calls.Load())
	}
}

// A request signed for another session (or by another key) is dropped.
func TestSignatureBindsSession(t *testing.T) {
	caller, callee := ids(t)
	req := Request{ID: 1, Kind: KindPing, Deadline: deadline()}
	sealed := sealRequest(caller, make([]byte, 32), &req)
	if _, err := openRequest(sealed, caller.Public(), bytes.Repeat([]byte{1}, 32)); !errors.Is(err, ErrSignature) {
		t.Fatalf("other session: %v", err)
	}
	if _, err := openRequest(sealed, callee.Public(), make([]byte, 32)); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v", err)
	}
	if got, err := openRequest(sealed, caller.Public(), make([]byte, 32)); err != nil || got.ID != 1 {
		t.Fatalf("good: %v", err)
	}
}

func TestWrongCalleeKey(t *testing.T) {
	caller, callee := ids(t)
	other, _ := keys.Generate()
	c, s := net.Pipe()
	var calls atomic.Int32
	go func() {
		serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
		s.Close()
	}()
	_, err := Exchange(c, caller, other.Public(), &Request{ID: 1, Kind: KindPing, Deadline: deadline()})
	if !errors.Is(err, ErrAuth) || calls.Load() != 0 {
		t.Fatalf("err %v calls %d", err, calls.Load())
	}
}

func TestPastDeadlineIsTimeout(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
	resp, err := Exchange(c, caller, callee.Public(), &Request{ID: 1, Kind: KindPing, Deadline: time.Now().Add(-time.Second).UnixMicro()})
	if err != nil || resp.Status != StatusTimeout || calls.Load() != 0 {
		t.Fatalf("%+v %v %d", resp, err, calls.Load())
	}
}

func TestPayloadLimit(t *testing.T) {
	caller, callee := ids(t)
	_, err := Exchange(&replay{bytes.NewReader(nil)}, caller, callee.Public(), &Request{Kind: KindSend, Payload: make([]byte, MaxPayload+1)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(encode(&Request{ID: 1, Kind: KindCall, Function: "publish_post", Payload: []byte("x"), Secret: make([]byte, 64), Deadline: 1}))
	f.Add(encode(&Request{ID: 2, Kind: KindPing}))
	f.Add(encode(&signedRequest{Request: []byte{1}, Signature: []byte{2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err == nil && !bytes.Equal(encode(&r), b) {
			t.Fatalf("decode→encode changed bytes")
		}
		DecodeResponse(b)
		var k keys.PublicKey
		openRequest(b, k, nil)
	})
}
