package rpc

import (
	"context"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

// Dispatcher answers the authenticated requests of the sessions an
// Endpoint serves (Endpoint.Serve): in n2n, the daemon (daemon.Daemon).
type Dispatcher interface {
	// Dispatch answers one request. ctx ends at the request's deadline, its
	// arrival plus its timeout (or when the server stops).
	Dispatch(ctx context.Context, in *Incoming) Response
}

// Incoming is an authenticated request as a Dispatcher sees it.
type Incoming struct {
	Caller  keys.PublicKey
	Request Request
	// Arrived is when the request arrived: in the order of arrival, never
	// two alike in one process.
	Arrived time.Time

	turns *turns // of the request's session: its messages (nil: not a message from a session)
	seq   uint64 // the message's place in it
}

// NewIncoming is a request of caller that did not come over a session: a
// command run in the daemon that asks this agent itself.
func NewIncoming(caller keys.PublicKey, req Request) *Incoming {
	return &Incoming{Caller: caller, Request: req, Arrived: arrival(time.Now)}
}

// WaitTurn waits until every message (send) that came before this one on
// its session has been answered: the daemon calls it before a message runs
// the receive function, so that one sender's messages are handled one at a
// time, in the order they were sent (`send --lines` reaches a receive
// function line by line, and a pipelining sender takes one handler slot,
// not all of them). Messages that go to the inbox do not wait; calls are
// not ordered (a daemon's session carries independent commands). It
// returns ctx's error if ctx ends first.
func (in *Incoming) WaitTurn(ctx context.Context) error {
	if in.turns == nil {
		return nil
	}
	return in.turns.wait(ctx, in.seq)
}
