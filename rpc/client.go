package rpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// Client sends requests to other agents over a node.
type Client struct {
	Node *peers.Node
	Book *peers.AddrBook // may be nil
	ID   *keys.Identity
	// DialTimeout bounds resolution and connection; Timeout bounds the call
	// once connected (it becomes the request's deadline).
	DialTimeout, Timeout time.Duration

	// static is ID's Noise static key pair, made on the first request;
	// shared, when set, is the daemon's instead (Daemon.Client).
	static staticKey
	shared *staticKey
}

// staticKey is the holder of this client's Noise static key pair.
func (c *Client) staticKey() *staticKey {
	if c.shared != nil {
		return c.shared
	}
	return &c.static
}

// ZeroKeys zeroes the Noise static key pair the client made from ID for its
// sessions (the daemon's, for a client from Daemon.Client); a later request
// makes it again. It does not zero ID.
func (c *Client) ZeroKeys() { c.staticKey().zero() }

// replyGrace is how long after the request's deadline the caller still waits
// for the callee's own timeout answer before giving up on the stream.
const replyGrace = time.Second

var lastID atomic.Uint64

func nextID() uint64 {
	if lastID.Load() == 0 {
		lastID.CompareAndSwap(0, uint64(time.Now().UnixNano()))
	}
	return lastID.Add(1)
}

// Do connects to the agent `to` (DESIGN §7) and makes one request. It
// returns the response and the resolution step that connected. Errors:
// ErrTooLarge before anything is sent, peers.ErrUnreachable, ErrAuth,
// ErrTimeout.
func (c *Client) Do(ctx context.Context, to keys.PublicKey, req *Request) (Response, peers.Source, error) {
	if len(req.Payload) > MaxPayload {
		return Response{}, peers.SourceNone, ErrTooLarge
	}
	dctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	src, err := c.Node.Connect(dctx, to, c.Book)
	if err == nil {
		var st peers.Stream
		st, err = c.Node.Open(dctx, to)
		cancel()
		if err == nil {
			resp, err := c.exchange(ctx, st, to, req)
			return resp, src, err
		}
	}
	cancel()
	if ctx.Err() != nil {
		return Response{}, src, ctx.Err()
	}
	return Response{}, src, err
}

func (c *Client) exchange(ctx context.Context, st peers.Stream, to keys.PublicKey, req *Request) (Response, error) {
	defer st.Close()
	deadline := time.Now().Add(c.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if req.ID == 0 {
		req.ID = nextID()
	}
	req.Deadline = deadline.UnixMicro()
	st.SetDeadline(deadline.Add(replyGrace))
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	resp, err := exchange(st, c.ID, c.staticKey().get(c.ID), to, req)
	switch {
	case err == nil:
		return resp, nil
	case ctx.Err() != nil:
		return Response{}, ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Response{}, fmt.Errorf("%w (%v)", ErrTimeout, c.Timeout)
	}
	return Response{}, err
}

// ErrStatus is the error form of a response that is not ok.
type ErrStatus struct {
	Status Status
	Msg    string
}

func (e *ErrStatus) Error() string {
	if e.Msg == "" {
		return string(e.Status)
	}
	return e.Msg
}

// Err returns nil for an ok response and an *ErrStatus otherwise.
func (r *Response) Err() error {
	if r.Status == StatusOK {
		return nil
	}
	return &ErrStatus{Status: r.Status, Msg: r.Error}
}
