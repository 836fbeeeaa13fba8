package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
)

// Dispatch answers one authenticated request (rpc.Dispatcher): a ping at
// once, a message with receive, a call with call.
func (d *Daemon) Dispatch(ctx context.Context, in *rpc.Incoming) rpc.Response {
	switch in.Request.Kind {
	case rpc.KindPing:
		return rpc.Response{Status: rpc.StatusOK}
	case rpc.KindSend:
		return d.receive(ctx, in)
	case rpc.KindCall:
		return d.call(ctx, in)
	}
	return rpc.Response{Status: rpc.StatusBadRequest, Error: "unknown request kind"}
}

// receive handles a message from an agent the Policy accepts messages
// from: the "receive" function answers it if there is one; otherwise it
// goes to the inbox, within the Quotas, and the reply is a receipt.
func (d *Daemon) receive(ctx context.Context, in *rpc.Incoming) rpc.Response {
	self := in.Caller == d.ID().Public()
	if !self {
		if ok, err := d.accepts(d.Policy.Messages, in.Caller); err != nil {
			return d.storeFailed("message", err)
		} else if !ok {
			return d.refuseMessage(in, rpc.Response{Status: rpc.StatusUnauthorized, Error: strangersRefused[d.Policy.Messages]})
		}
	}
	if d.Functions.Has("receive") {
		access := "unrestricted"
		if self {
			access = "author"
		}
		start := time.Now()
		var resp rpc.Response
		if err := in.WaitTurn(ctx); err != nil {
			resp = rpc.Response{Status: rpc.StatusTimeout, Error: "deadline passed while earlier messages ran"}
		} else {
			resp = d.Functions.Run(ctx, &Invocation{Function: "receive", Caller: in.Caller, Access: access, Payload: in.Request.Payload})
		}
		// A message the receive function answers is not audited (it is no
		// call), but serve shows it as one.
		d.publishCall(start, &AuditRecord{Time: start.UnixMicro(), Caller: in.Caller, Function: "receive", Access: access}, resp)
		return resp
	}
	box := d.Inbox()
	if err := box.use.load(box); err != nil {
		return d.storeFailed("message", err)
	}
	size := int64(len(in.Request.Payload))
	if !box.use.reserve(d.Quotas, in.Caller, size) {
		return d.refuseMessage(in, rpc.Response{Status: rpc.StatusOverQuota, Error: "inbox is full (for you)"})
	}
	now := in.Arrived
	m := &Message{Time: now.UnixMicro(), From: in.Caller, Body: in.Request.Payload}
	if err := box.Add(m); err != nil {
		box.use.release(in.Caller, size)
		return d.storeFailed("message", err)
	}
	d.space.stored()
	d.Events.Publish(Event{Time: now, Kind: "message", From: in.Caller, Message: m})
	d.receiptOnce.Do(func() { d.receipt = []byte(fmt.Sprintf("delivered to %s\n", d.ID().Public())) })
	return rpc.Response{Status: rpc.StatusOK, Payload: d.receipt}
}

// refuseMessage publishes a "refused_message" event (its status and what
// the sender is told) and returns resp, the refusal.
func (d *Daemon) refuseMessage(in *rpc.Incoming, resp rpc.Response) rpc.Response {
	d.Events.Publish(Event{Time: in.Arrived, Kind: "refused_message", From: in.Caller, Fields: []string{string(resp.Status), resp.Error}})
	return resp
}

// strangersRefused is what a sender outside Policy.Messages is told.
var strangersRefused = map[Accept]string{
	AcceptContacts: "it does not accept messages from strangers",
	AcceptNone:     "it does not accept messages",
}

// accepts reports whether policy a lets agent write (not asked of the agent
// itself).
func (d *Daemon) accepts(a Accept, agent keys.PublicKey) (bool, error) {
	switch a {
	case AcceptAnyone:
		return true, nil
	case AcceptContacts:
		_, ok, err := d.Contacts().Of(agent)
		return ok, err
	}
	return false, nil
}

// call runs a function under the capability check and records the call in
// the audit log, whatever its outcome. A function name that is not valid is
// a bad request, recorded by its length.
func (d *Daemon) call(ctx context.Context, in *rpc.Incoming) rpc.Response {
	start := time.Now()
	rec := newAuditRecord(start, in.Caller, in.Request.Function)
	resp := badFunctionResponse
	if !rec.InvalidFunction {
		resp = d.authorizeAndRun(ctx, in, rec)
	}
	d.publishCall(start, rec, resp)
	// The record is written while the reply goes out: a synced write costs
	// ~2 ms here, which the caller need not wait for. Audit.List and Wait
	// wait for it.
	d.auditing.add()
	go func() {
		defer d.auditing.done()
		err := d.Audit().Add(rec)
		switch {
		case err == nil:
			d.space.stored()
		case d.space.refused(err, d.Warn):
		case d.Debug != nil:
			d.Debug("audit log: %v", err)
		}
	}()
	return resp
}

// badFunctionResponse answers a call of a name that no function can have
// (it is not checked against the grants: the rule is public).
var badFunctionResponse = rpc.Response{Status: rpc.StatusBadRequest, Error: "not a valid function name"}

// publishCall completes rec with the outcome of the call that began at
// start, and publishes it as a "call" event.
func (d *Daemon) publishCall(start time.Time, rec *AuditRecord, resp rpc.Response) {
	rec.Outcome = resp.Status
	rec.Duration = time.Since(start).Microseconds()
	ev := Event{Time: start, Kind: "call", From: rec.Caller, Call: rec}
	if resp.Status != rpc.StatusOK {
		ev.Fields = []string{resp.Error}
	}
	d.Events.Publish(ev)
}

// unauthorizedResponse is all a refused caller learns: not which grants
// exist, nor whether the function does.
var unauthorizedResponse = rpc.Response{Status: rpc.StatusUnauthorized, Error: "unauthorized"}

// tamperedResponse refuses a call that a grant would allow if the home had
// not been altered: the caller learns nothing it did not know (it had to
// present what the grant allows), and the callee's owner what to do.
var tamperedResponse = rpc.Response{Status: rpc.StatusUnauthorized,
	Error: "a grant on the callee's chain failed its integrity check (its owner should run 'n2n chain verify')"}

// warnIntegrity tells the owner, once per action, that a grant failed its
// integrity check.
func (d *Daemon) warnIntegrity(ie *chain.IntegrityError) {
	d.warnMu.Lock()
	first := !d.warned[ie.Seq]
	if first {
		if d.warned == nil {
			d.warned = map[uint64]bool{}
		}
		d.warned[ie.Seq] = true
	}
	d.warnMu.Unlock()
	if first && d.Warn != nil {
		d.Warn(fmt.Errorf("refused a call: a grant failed its integrity check: %w", ie))
	}
}

func (d *Daemon) authorizeAndRun(ctx context.Context, in *rpc.Incoming, rec *AuditRecord) rpc.Response {
	fn := in.Request.Function
	self := in.Caller == d.ID().Public()
	if fn == caps.ReceiveClaim {
		rec.Access = string(caps.Unrestricted)
		if self {
			rec.Access = caps.AccessAuthor
		}
		return d.receiveClaim(in)
	}
	dec, err := caps.Check(d.Chain, in.Caller, fn, in.Request.Secret)
	var ie *chain.IntegrityError
	if errors.As(err, &ie) {
		d.warnIntegrity(ie)
		return tamperedResponse
	}
	if err != nil {
		if d.Debug != nil {
			d.Debug("capability check: %v", err)
		}
		return rpc.Response{Status: rpc.StatusHandlerError, Error: "the capability check could not be made"}
	}
	if !dec.Allowed {
		return unauthorizedResponse
	}
	rec.Access = dec.Access
	inv := &Invocation{Function: fn, Caller: in.Caller, Access: dec.Access, Tag: dec.Tag, Payload: in.Request.Payload}
	if !dec.GrantID.IsZero() {
		rec.GrantID = dec.GrantID[:]
		inv.Grant = dec.GrantID.ActionString()
	}
	return d.Functions.Run(ctx, inv)
}
