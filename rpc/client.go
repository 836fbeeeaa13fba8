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

// Client sends requests to other agents over a node. It keeps a session
// with each agent it sent to (connPool), until Close: requests after the
// first, and requests made at once, share it.
type Client struct {
	Node *peers.Node
	Book *peers.AddrBook // may be nil
	ID   *keys.Identity
	// DialTimeout bounds resolution and connection; Timeout bounds the call
	// once connected (it becomes the request's deadline).
	DialTimeout, Timeout time.Duration

	// static is ID's Noise static key pair, made on the first request, and
	// conns the client's sessions; sharedStatic and sharedConns, when set,
	// are the daemon's instead (Daemon.Client).
	static       staticKey
	conns        connPool
	sharedStatic *staticKey
	sharedConns  *connPool
}

// staticKey is the holder of this client's Noise static key pair.
func (c *Client) staticKey() *staticKey {
	if c.sharedStatic != nil {
		return c.sharedStatic
	}
	return &c.static
}

func (c *Client) pool() *connPool {
	if c.sharedConns != nil {
		return c.sharedConns
	}
	return &c.conns
}

// ZeroKeys zeroes the Noise static key pair the client made from ID for its
// sessions (the daemon's, for a client from Daemon.Client) and ends the
// sessions, which zeroes their keys; a later request makes both again. It
// does not zero ID.
func (c *Client) ZeroKeys() {
	c.staticKey().zero()
	c.pool().endAll()
}

// Close ends the client's sessions (not the daemon's, for a client from
// Daemon.Client).
func (c *Client) Close() { c.conns.close() }

// replyGrace is how long after the request's deadline the caller still waits
// for the callee's own timeout answer before giving up on the request.
const replyGrace = time.Second

var lastID atomic.Uint64

func nextID() uint64 {
	if lastID.Load() == 0 {
		lastID.CompareAndSwap(0, uint64(time.Now().UnixNano()))
	}
	return lastID.Add(1)
}

// Do makes one request to the agent `to`, on the session the client keeps
// with it or on a new one (resolved and connected as DESIGN §7 says). It is
// safe to call from many goroutines at once. It returns the response and
// the resolution step that connected (SourceConnected for a kept session).
// Errors: ErrTooLarge before anything is sent, peers.ErrUnreachable,
// ErrAuth, ErrTimeout, ctx's error.
func (c *Client) Do(ctx context.Context, to keys.PublicKey, req *Request) (Response, peers.Source, error) {
	return c.Go(ctx, to, req).Wait()
}

// Call is a request on its way (Client.Go).
type Call struct {
	ctx    context.Context
	client *Client
	req    *Request
	conn   *conn
	answer chan Response
	src    peers.Source
	resp   Response
	err    error
	done   bool
}

// Go sends req to `to` as Do does, but returns once req is written on the
// session: requests started one after the other from one goroutine reach
// the callee in that order. Wait gives the response.
func (c *Client) Go(ctx context.Context, to keys.PublicKey, req *Request) *Call {
	call := &Call{ctx: ctx, client: c, req: req}
	if len(req.Payload) > MaxPayload {
		call.err = ErrTooLarge
		return call
	}
	deadline := time.Now().Add(c.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if req.ID == 0 {
		req.ID = nextID()
	}
	req.Deadline = deadline.UnixMicro()
	for {
		call.src = peers.SourceConnected
		cn, fresh, err := c.pool().get(ctx, to, func() (*conn, error) {
			var cn *conn
			var err error
			cn, call.src, err = c.dial(ctx, to, deadline)
			return cn, err
		})
		if err != nil {
			call.err = err
			if ctx.Err() != nil {
				call.err = ctx.Err()
			}
			return call
		}
		answer, sent, err := cn.send(req)
		if !sent && !fresh {
			continue // the kept session had ended: nothing was sent, dial again
		}
		call.conn, call.answer, call.err = cn, answer, err
		return call
	}
}

// Wait waits for the response to the call's request; see Do.
func (call *Call) Wait() (Response, peers.Source, error) {
	if call.err == nil && !call.done {
		call.resp, call.err = call.conn.wait(call.ctx, call.req, call.answer)
		if errors.Is(call.err, ErrTimeout) {
			call.err = fmt.Errorf("%w (%v)", ErrTimeout, call.client.Timeout)
		}
	}
	call.done = true
	return call.resp, call.src, call.err
}

// dial resolves and connects to `to`, opens a stream and runs the
// handshake, all bounded by DialTimeout and ctx.
func (c *Client) dial(ctx context.Context, to keys.PublicKey, deadline time.Time) (*conn, peers.Source, error) {
	dctx, cancel := context.WithTimeout(ctx, c.DialTimeout)
	defer cancel()
	src, err := c.Node.Connect(dctx, to, c.Book)
	if err != nil {
		return nil, src, err
	}
	st, err := c.Node.Open(dctx, to)
	if err != nil {
		return nil, src, err
	}
	hd, _ := dctx.Deadline()
	if d := deadline.Add(replyGrace); d.Before(hd) {
		hd = d
	}
	st.SetDeadline(hd)
	stop := context.AfterFunc(dctx, func() { st.Reset() })
	cn, err := dialConn(st, c.ID, c.staticKey().get(c.ID), to)
	if !stop() || err != nil {
		if err == nil {
			cn.close()
			err = dctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("%w (%v)", ErrTimeout, c.Timeout)
		}
		st.Reset()
		return nil, src, err
	}
	st.SetDeadline(time.Time{})
	return cn, src, nil
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
