package rpc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/caps"
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
	// AcceptClaims lets other agents deliver claims (n2n.receive_claim);
	// serve --no-accept-claims clears it.
	AcceptClaims bool
	// Debug receives one line per dropped session (bad network input); nil
	// discards them.
	Debug func(format string, args ...any)

	mu       sync.Mutex
	stopping bool
	wg       sync.WaitGroup
	static   staticKey // the identity's Noise static key pair, made on first use
	conns    connPool  // sessions of the daemon's clients with other agents

	inboxOnce   sync.Once
	inboxWriter *groupWriter // stores messages arriving together in one write
	auditOnce   sync.Once
	auditWriter *groupWriter
	auditing    pendingWrites // audit records being written
	receiptOnce sync.Once
	receipt     []byte // the reply to a message stored in the inbox
}

// ID is the daemon's identity.
func (d *Daemon) ID() *keys.Identity { return d.Chain.Identity() }

// Inbox is the home's inbox.
func (d *Daemon) Inbox() Inbox {
	side := d.Chain.Side("inbox")
	d.inboxOnce.Do(func() { d.inboxWriter = newGroupWriter(side) })
	return Inbox{Store: side, writer: d.inboxWriter}
}

// Audit is the home's audit log of incoming calls.
func (d *Daemon) Audit() Audit {
	side := d.Chain.Side("audit")
	d.auditOnce.Do(func() { d.auditWriter = newGroupWriter(side) })
	return Audit{Store: side, writer: d.auditWriter, pending: &d.auditing}
}

// Book is the home's address book.
func (d *Daemon) Book() *peers.AddrBook { return &peers.AddrBook{Store: d.Chain.Side("peers")} }

// Client is a client over the daemon's warm node.
func (d *Daemon) Client(dialTimeout, timeout time.Duration) *Client {
	return &Client{Node: d.Node, Book: d.Book(), ID: d.ID(), DialTimeout: dialTimeout, Timeout: timeout, sharedStatic: &d.static, sharedConns: &d.conns}
}

// ZeroKeys zeroes the Noise static key pair the daemon made from its
// identity for its sessions, and its clients' (Daemon.Client), and ends the
// sessions its clients keep; a later session makes it again. It is safe
// while sessions run.
func (d *Daemon) ZeroKeys() {
	d.static.zero()
	d.conns.endAll()
}

// Start answers /n2n/1.0.0 streams until ctx ends; Wait waits for the
// sessions in progress.
func (d *Daemon) Start(ctx context.Context) {
	d.Node.Handle(func(st peers.Stream) {
		d.mu.Lock()
		if d.stopping {
			d.mu.Unlock()
			st.Reset()
			return
		}
		d.wg.Add(1)
		d.mu.Unlock()
		defer d.wg.Done()
		defer st.Close()
		st.SetDeadline(time.Now().Add(handshakeTimeout))
		id := d.ID()
		err := serveSession(ctx, st, id, d.static.get(id), d.Dispatch, time.Now)
		if err != nil && d.Debug != nil {
			d.Debug("session from %s dropped: %v", st.RemoteAgent(), err)
		}
	})
}

// Wait stops taking new sessions, waits until every session in progress
// has ended (their requests answered, once the context given to Start has
// ended) and every audit record is written, ends the sessions of its
// clients, and zeroes the daemon's static key.
func (d *Daemon) Wait() {
	d.Node.Handle(nil)
	d.mu.Lock()
	d.stopping = true // a stream already being handed over is refused
	d.mu.Unlock()
	d.wg.Wait()
	d.auditing.wait()
	d.conns.close()
	d.ZeroKeys()
}

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
		if err := in.WaitTurn(ctx); err != nil {
			return Response{Status: StatusTimeout, Error: "deadline passed while earlier messages ran"}
		}
		return d.Functions.Run(ctx, &Invocation{Function: "receive", Caller: in.Caller, Access: access, Payload: in.Request.Payload})
	}
	now := in.Arrived
	if now.IsZero() {
		now = arrival()
	}
	m := &Message{Time: now.UnixMicro(), From: in.Caller, Message: in.Request.Payload}
	if err := d.Inbox().Add(m); err != nil {
		return Response{Status: StatusHandlerError, Error: "the message could not be stored"}
	}
	d.Events.Publish(Event{Time: now, Kind: "message", From: in.Caller, Message: m})
	d.receiptOnce.Do(func() { d.receipt = []byte(fmt.Sprintf("delivered to %s\n", d.ID().Public())) })
	return Response{Status: StatusOK, Payload: d.receipt}
}

// call runs a function under the capability check and records the call in
// the audit log, whatever its outcome.
func (d *Daemon) call(ctx context.Context, in *Incoming) Response {
	start := time.Now()
	rec := &AuditRecord{Time: start.UnixMicro(), Caller: in.Caller, Function: in.Request.Function}
	resp := d.authorizeAndRun(ctx, in, rec)
	rec.Outcome = resp.Status
	rec.Duration = time.Since(start).Microseconds()
	// The record is written while the reply goes out: a synced write costs
	// ~2 ms here, which the caller need not wait for. Audit.List and Wait
	// wait for it.
	d.auditing.add()
	go func() {
		defer d.auditing.done()
		if err := d.Audit().Add(rec); err != nil && d.Debug != nil {
			d.Debug("audit log: %v", err)
		}
	}()
	return resp
}

// errUnauthorized is all a refused caller learns: not which grants exist,
// nor whether the function does.
var errUnauthorized = Response{Status: StatusUnauthorized, Error: "unauthorized"}

func (d *Daemon) authorizeAndRun(ctx context.Context, in *Incoming, rec *AuditRecord) Response {
	fn := in.Request.Function
	self := in.Caller == d.ID().Public()
	if fn == caps.ReceiveClaim {
		if !d.AcceptClaims && !self {
			return errUnauthorized
		}
		rec.Access = string(caps.Unrestricted)
		if self {
			rec.Access = caps.AccessAuthor
		}
		return d.receiveClaim(in)
	}
	dec, err := caps.Check(d.Chain, in.Caller, fn, in.Request.Secret)
	if err != nil {
		if d.Debug != nil {
			d.Debug("capability check: %v", err)
		}
		return Response{Status: StatusHandlerError, Error: "the capability check could not be made"}
	}
	if !dec.Allowed {
		return errUnauthorized
	}
	rec.Access = dec.Access
	inv := &Invocation{Function: fn, Caller: in.Caller, Access: dec.Access, Tag: dec.Tag, Payload: in.Request.Payload}
	if !dec.GrantID.IsZero() {
		rec.GrantID = dec.GrantID[:]
		inv.Grant = dec.GrantID.ActionString()
	}
	return d.Functions.Run(ctx, inv)
}

// receiveClaim is the built-in n2n.receive_claim: the payload is a ticket
// from its grantor, stored as a claim on this agent's chain.
func (d *Daemon) receiveClaim(in *Incoming) Response {
	t, err := caps.ParseTicket(string(in.Request.Payload))
	if err != nil {
		return Response{Status: StatusBadRequest, Error: "not a valid ticket"}
	}
	if t.Grantor != in.Caller {
		return Response{Status: StatusBadRequest, Error: "a claim can only be delivered by its grantor"}
	}
	r, err := caps.AddClaim(d.Chain, caps.ClaimFromTicket(t))
	if err != nil {
		return Response{Status: StatusHandlerError, Error: "the claim could not be stored"}
	}
	id := r.Hash.ActionString()
	d.Events.Publish(Event{Time: time.Now(), Kind: "claim", From: in.Caller, Text: id + "\t" + strings.Join(t.Functions, ",") + "\t" + t.Tag})
	return Response{Status: StatusOK, Payload: []byte(id + "\n")}
}
