package rpc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// Errors of the calling side, for the command line to map to exit statuses.
var (
	// ErrAuth: the handshake or the reply did not authenticate (exit 8).
	ErrAuth = errors.New("authentication failed")
	// ErrTimeout: connected, but no reply before the deadline (exit 6).
	ErrTimeout = errors.New("no reply before the deadline")
	// ErrTooLarge: the payload is over MaxPayload; nothing was sent (exit 3).
	ErrTooLarge = fmt.Errorf("payload over the %d MiB limit", MaxPayload>>20)
)

// Client sends requests to other agents from an Endpoint, on the sessions
// it keeps: requests after the first, and requests made at once, share
// them. Safe for concurrent use.
type Client struct {
	endpoint             *Endpoint
	dialTimeout, timeout time.Duration // see Endpoint.Client
	// DirectOnly refuses to send over a relayed connection: a request to
	// an agent reachable only through a relay waits a few seconds for a
	// direct connection, then fails with a RelayError. Set before use.
	DirectOnly bool
	// Progress, when set, is told as a request enters each Phase (from the
	// goroutine making it; it must return quickly). Set before use.
	Progress func(Phase)
}

// Client returns a client of the endpoint with these timeouts: dialTimeout
// bounds resolution and connection, timeout the call (what remains of it
// once connected is the request's timeout).
func (e *Endpoint) Client(dialTimeout, timeout time.Duration) *Client {
	return &Client{endpoint: e, dialTimeout: dialTimeout, timeout: timeout}
}

// Do makes one request to the agent `to`, on the session the endpoint keeps
// with it or on a new one (resolved and connected by peers: live connection, address book, DHT). It is
// safe to call from many goroutines at once. It returns the response and
// the resolution step that connected (SourceConnected for a kept session).
// Errors: ErrTooLarge before anything is sent, peers.ErrUnreachable (a
// *RelayError among them), ErrAuth, ErrTimeout, ctx's error.
//
// A session through a relay carries a request only if the relay's data
// limit leaves room for it (and not at all with DirectOnly); otherwise the
// request waits up to directWait for the direct connection that hole
// punching makes, and goes over a new session on it.
func (c *Client) Do(ctx context.Context, to keys.PublicKey, req *Request) (Response, peers.Source, error) {
	return c.Go(ctx, to, req).Wait()
}

// Call is a request on its way (Client.Go).
type Call struct {
	ctx      context.Context
	client   *Client
	to       keys.PublicKey
	req      *Request
	deadline time.Time // the caller's, on its own clock
	session  *clientSession
	answer   chan Response
	src      peers.Source
	resp     Response
	err      error
	done     bool
}

// Go sends req to `to` as Do does, but returns once req is written on the
// session: requests started one after the other from one goroutine reach
// the callee in that order. Wait gives the response. The request's timeout
// is what remains of the client's when it is sent (the callee counts it
// from then, on its own clock).
func (c *Client) Go(ctx context.Context, to keys.PublicKey, req *Request) *Call {
	call := &Call{ctx: ctx, client: c, to: to, req: req}
	if len(req.Payload) > MaxPayload {
		call.err = ErrTooLarge
		return call
	}
	call.deadline = time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(call.deadline) {
		call.deadline = d
	}
	if req.ID == 0 {
		req.ID = nextID()
	}
	waited := false
	for {
		call.src = peers.SourceConnected
		cs, fresh, err := c.endpoint.pool.get(ctx, to, c.superseded(to), func() (*clientSession, error) {
			var cs *clientSession
			var err error
			cs, call.src, err = c.dial(ctx, to, call.deadline)
			return cs, err
		})
		if err != nil {
			call.err = err
			if ctx.Err() != nil {
				call.err = ctx.Err()
			}
			return call
		}
		if path := cs.pathNow(); path.Relayed && (c.DirectOnly || !fits(path, req)) {
			if !waited && c.waitDirect(ctx, to) {
				waited = true
				continue // the pool gives the relayed session up
			}
			reason := RelayTooSmall
			if c.DirectOnly {
				reason = RelayRefused
			}
			call.err = &RelayError{Agent: to, Path: path, Reason: reason, CanGoDirect: c.endpoint.Node.CanGoDirect()}
			return call
		}
		req.SetTimeout(time.Until(call.deadline)) // 0 once it has passed: the callee answers timeout
		answer, sent, err := cs.send(req)
		if !sent && !fresh {
			continue // the kept session had ended: nothing was sent, dial again
		}
		if err == nil {
			c.progress(PhaseWaiting)
		}
		call.session, call.answer, call.err = cs, answer, c.relayCut(to, cs, err)
		return call
	}
}

// Wait waits for the response to the call's request; see Do.
func (call *Call) Wait() (Response, peers.Source, error) {
	if call.err == nil && !call.done {
		call.resp, call.err = call.session.wait(call.ctx, call.req.ID, call.answer, call.deadline)
		if errors.Is(call.err, ErrTimeout) {
			call.err = fmt.Errorf("%w (%v)", ErrTimeout, call.client.timeout)
		}
		call.err = call.client.relayCut(call.to, call.session, call.err)
	}
	call.done = true
	return call.resp, call.src, call.err
}

// Path is the path of the session that carried the request (the zero Path,
// direct, if none did).
func (call *Call) Path() peers.Path {
	if call.session == nil {
		return peers.Path{}
	}
	return call.session.pathNow()
}

// superseded tells the pool that a relayed session with `to` is given up
// once a direct connection exists.
func (c *Client) superseded(to keys.PublicKey) func(*clientSession) bool {
	return func(cs *clientSession) bool {
		if !cs.pathNow().Relayed {
			return false
		}
		p, ok := c.endpoint.Node.PathTo(to)
		return ok && !p.Relayed
	}
}

// waitDirect waits (directWait at most) for a direct connection to `to`.
func (c *Client) waitDirect(ctx context.Context, to keys.PublicKey) bool {
	ctx, cancel := context.WithTimeout(ctx, directWait)
	defer cancel()
	return c.endpoint.Node.WaitDirect(ctx, to)
}

// relayCut turns err, the failure of a request on session cs, into a
// RelayError when the session ran through a relay and the failure is the
// connection's: libp2p's text ("stream reset") says nothing to a user.
func (c *Client) relayCut(to keys.PublicKey, cs *clientSession, err error) error {
	if err == nil || cs == nil || !cs.pathNow().Relayed {
		return err
	}
	var se *StatusError
	if errors.As(err, &se) {
		return err
	}
	for _, keep := range []error{ErrTimeout, ErrAuth, ErrBadMessage, peers.ErrBusy, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, keep) {
			return err
		}
	}
	return &RelayError{Agent: to, Path: cs.pathNow(), Reason: RelayCut, CanGoDirect: c.endpoint.Node.CanGoDirect(), Err: err}
}

// dial resolves and connects to `to`, opens a stream and runs the
// handshake, all bounded by the dial timeout and ctx. A stream the agent
// refuses as busy before the handshake (too many sessions or handshakes of
// this agent at once) is opened again after a pause, doubling from 20 ms
// up to a second, until the dial timeout: nothing was sent on it, and
// sessions come and go. After the dial timeout the refusal stands (busy).
func (c *Client) dial(ctx context.Context, to keys.PublicKey, deadline time.Time) (*clientSession, peers.Source, error) {
	e := c.endpoint
	dctx, cancel := context.WithTimeout(ctx, c.dialTimeout)
	defer cancel()
	if c.Progress != nil {
		dctx = peers.WithStepFunc(dctx, func(src peers.Source) { c.progress(phaseOf(src)) })
	}
	src, err := e.Node.Connect(dctx, to, e.Book)
	if err != nil {
		return nil, src, err
	}
	c.progress(PhaseHandshake)
	var refused error // the last refusal
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, time.Second) {
		cs, err := c.handshake(dctx, to, deadline)
		var se *StatusError
		if !errors.As(err, &se) || se.Status != StatusBusy {
			if err != nil && refused != nil && dctx.Err() != nil {
				err = refused // the dial timeout ended a try after refusals
			}
			return cs, src, err
		}
		refused = err
		select {
		case <-time.After(pause/2 + rand.N(pause)):
		case <-dctx.Done():
			return nil, src, err
		}
	}
}

// handshake opens a stream to `to` and runs the handshake on it, bounded by
// dctx and the request's deadline.
func (c *Client) handshake(dctx context.Context, to keys.PublicKey, deadline time.Time) (*clientSession, error) {
	e := c.endpoint
	st, err := e.Node.Open(dctx, to)
	if err != nil {
		return nil, err
	}
	hd, _ := dctx.Deadline()
	if d := deadline.Add(replyGrace); d.Before(hd) {
		hd = d
	}
	st.SetDeadline(hd)
	stop := context.AfterFunc(dctx, func() { st.Reset() })
	cs, err := dialSession(st, e.ID, e.static.get(e.ID), to)
	if !stop() || err != nil {
		if err == nil {
			cs.close()
			err = dctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("%w (%v)", ErrTimeout, c.timeout)
		}
		st.Reset()
		return nil, err
	}
	st.SetDeadline(time.Time{})
	cs.path = st.Path
	return cs, nil
}
