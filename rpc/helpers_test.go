package rpc

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

type recorder struct {
	io.ReadWriteCloser
	mu    sync.Mutex
	wrote bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.wrote.Write(p)
	r.mu.Unlock()
	return r.ReadWriteCloser.Write(p)
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

// dispatchFunc is a Dispatcher made of a function.
type dispatchFunc func(ctx context.Context, in *Incoming) Response

func (f dispatchFunc) Dispatch(ctx context.Context, in *Incoming) Response { return f(ctx, in) }

func echo(calls *atomic.Int32) dispatchFunc {
	return func(ctx context.Context, in *Incoming) Response {
		calls.Add(1)
		return Response{Status: StatusOK, Payload: append([]byte("ack:"), in.Request.Payload...)}
	}
}

// tenSeconds is a request timeout, in µs, longer than any test needs.
const tenSeconds = 10_000_000

// do sends req and waits for its answer (send, then wait): Client.Go and
// Call.Wait without the client.
func (c *clientSession) do(ctx context.Context, req *Request) (resp Response, sent bool, err error) {
	deadline := time.Now().Add(req.TimeoutDuration())
	answer, sent, err := c.send(req)
	if err != nil {
		return Response{}, sent, err
	}
	resp, err = c.wait(ctx, req.ID, answer, deadline)
	return resp, true, err
}

// exchange runs the caller's side of a session on rw: the handshake with
// `to`, then each request in turn; it ends the session afterwards.
func exchange(rw io.ReadWriteCloser, id *keys.Identity, to keys.PublicKey, reqs ...*Request) ([]Response, error) {
	c, err := dialSession(rw, id, nil, to)
	if err != nil {
		return nil, err
	}
	defer c.close()
	var out []Response
	for _, req := range reqs {
		resp, _, err := c.do(context.Background(), req)
		if err != nil {
			return out, err
		}
		out = append(out, resp)
	}
	return out, nil
}
