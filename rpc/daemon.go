package rpc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// Implementation constants of the daemon.
const (
	// handshakeTimeout bounds the handshake and the arrival of the request.
	handshakeTimeout = 10 * time.Second
	// DefaultConcurrency is how many handlers run at once by default.
	DefaultConcurrency = 16
)

// Daemon is the conductor of DESIGN §1: it owns the open home and the warm
// node, answers other agents, runs handlers and keeps the inbox.
type Daemon struct {
	Chain     *chain.Chain
	Node      *peers.Node
	Functions *Functions
	Events    Events
	// Debug receives one line per dropped session (bad network input); nil
	// discards them.
	Debug func(format string, args ...any)

	wg sync.WaitGroup
}

// ID is the daemon's identity.
func (d *Daemon) ID() *keys.Identity { return d.Chain.Identity() }

// Inbox is the home's inbox.
func (d *Daemon) Inbox() Inbox { return Inbox{Store: d.Chain.Side("inbox")} }

// Book is the home's address book.
func (d *Daemon) Book() *peers.AddrBook { return &peers.AddrBook{Store: d.Chain.Side("peers")} }

// Client is a client over the daemon's warm node.
func (d *Daemon) Client(dialTimeout, timeout time.Duration) *Client {
	return &Client{Node: d.Node, Book: d.Book(), ID: d.ID(), DialTimeout: dialTimeout, Timeout: timeout}
}

// Start answers /n2n/1.0.0 streams until ctx ends; Wait waits for the
// sessions in progress.
func (d *Daemon) Start(ctx context.Context) {
	d.Node.Handle(func(st peers.Stream) {
		d.wg.Add(1)
		defer d.wg.Done()
		defer st.Close()
		st.SetDeadline(time.Now().Add(handshakeTimeout))
		err := serveSession(ctx, &deadlineStream{st}, d.ID(), d.Dispatch, time.Now)
		if err != nil && d.Debug != nil {
			d.Debug("session from %s dropped: %v", st.RemoteAgent(), err)
		}
	})
}

// Wait waits until every session in progress has ended.
func (d *Daemon) Wait() { d.wg.Wait() }

// deadlineStream extends the stream deadline once a request names its own.
type deadlineStream struct{ peers.Stream }

func (s *deadlineStream) extend(t time.Time) { s.SetDeadline(t.Add(replyGrace)) }

// Dispatch answers one authenticated request.
func (d *Daemon) Dispatch(ctx context.Context, in *Incoming) Response {
	switch in.Request.Kind {
	case KindPing:
		return Response{Status: StatusOK}
	case KindSend:
		return d.receive(ctx, in)
	case KindCall:
		return d.call(ctx, in)
	}
	return Response{Status: StatusBadRequest, Error: "unknown request kind"}
}

// receive handles a message: the "receive" function answers it if there is
// one; otherwise it goes to the inbox and the reply is a receipt.
func (d *Daemon) receive(ctx context.Context, in *Incoming) Response {
	if d.Functions.Has("receive") {
		access := "unrestricted"
		if in.Caller == d.ID().Public() {
			access = "author"
		}
		return d.Functions.Run(ctx, &Invocation{Function: "receive", Caller: in.Caller, Access: access, Payload: in.Request.Payload})
	}
	now := time.Now()
	m := &Message{Time: now.UnixMicro(), From: in.Caller, Message: in.Request.Payload}
	if err := d.Inbox().Add(m); err != nil {
		return Response{Status: StatusHandlerError, Error: "the message could not be stored"}
	}
	d.Events.Publish(Event{Time: now, Kind: "message", From: in.Caller, Message: m})
	return Response{Status: StatusOK, Payload: []byte(fmt.Sprintf("delivered to %s\n", d.ID().Public()))}
}

// call runs a function under the capability check.
func (d *Daemon) call(ctx context.Context, in *Incoming) Response {
	if in.Caller != d.ID().Public() {
		return Response{Status: StatusUnauthorized, Error: "unauthorized"}
	}
	return d.Functions.Run(ctx, &Invocation{Function: in.Request.Function, Caller: in.Caller, Access: "author", Payload: in.Request.Payload})
}
