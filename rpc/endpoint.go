package rpc

import (
	"context"
	"io"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// Endpoint is one agent's end of the wire protocol: its identity, the node
// its sessions run over, its Noise static key pair (made once, for the
// sessions it serves and those its clients open) and the sessions its
// clients keep with other agents, one per agent (sessionPool). A one-shot
// command makes one for its client; the daemon makes one for its life,
// serves other agents' sessions on it and gives each command it runs a
// Client of it.
//
// Set ID and Node (and Book, Budget) before use. Safe for concurrent use.
type Endpoint struct {
	ID   *keys.Identity
	Node *peers.Node
	Book *peers.AddrBook // may be nil
	// Budget bounds the memory other agents' requests hold in the sessions
	// the endpoint serves; nil: none.
	Budget Budget

	static staticKey
	pool   sessionPool
}

// Serve runs the callee's side of one session on rw (a stream another
// agent opened) until the caller ends it, or ctx ends; d answers its
// requests. Serve owns rw's deadlines: the handshake and the first message
// of the first request must arrive within 10 s; a caller that stalls in
// the middle of a frame for 5 s, or leaves the session idle (no frame, no
// request in progress) for 2 minutes, is dropped. When rw is a
// peers.Stream, the session's caller must be the stream's remote agent. A
// frame that would take the caller's requests over e.Budget is answered
// busy and ends the session. An error means the session was dropped: bad
// network input (which gets no detailed answer), a stall, or the budget.
func (e *Endpoint) Serve(ctx context.Context, rw io.ReadWriter, d Dispatcher) error {
	return serve(ctx, rw, e.ID, e.static.get(e.ID), d, time.Now, e.Budget)
}

// ZeroKeys zeroes the Noise static key pair the endpoint made from ID and
// ends the sessions its clients keep, which zeroes their keys; a later
// session makes both again. It does not zero ID. It is safe while sessions
// run.
func (e *Endpoint) ZeroKeys() {
	e.static.zero()
	e.pool.endAll()
}

// Close ends the sessions the endpoint's clients keep; they open no more.
func (e *Endpoint) Close() { e.pool.close() }
