package daemon

import (
	"strings"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/rpc"
)

// receiveClaim is the built-in n2n.receive_claim: the payload is a ticket
// from its grantor, stored as a claim on this agent's chain.
func (d *Daemon) receiveClaim(in *rpc.Incoming) rpc.Response {
	t, err := caps.ParseTicket(string(in.Request.Payload))
	if err != nil {
		return rpc.Response{Status: rpc.StatusBadRequest, Error: "not a valid ticket"}
	}
	if t.Grantor != in.Caller {
		return rpc.Response{Status: rpc.StatusBadRequest, Error: "a claim can only be delivered by its grantor"}
	}
	r, err := caps.AddClaim(d.Chain, caps.ClaimFromTicket(t))
	if err != nil {
		return rpc.Response{Status: rpc.StatusHandlerError, Error: "the claim could not be stored"}
	}
	id := r.Hash.ActionString()
	d.Events.Publish(Event{Time: time.Now(), Kind: "claim", From: in.Caller, Fields: []string{id, strings.Join(t.Functions, ","), t.Tag}})
	return rpc.Response{Status: rpc.StatusOK, Payload: []byte(id + "\n")}
}
