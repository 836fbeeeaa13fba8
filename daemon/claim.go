package daemon

import (
	"errors"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
)

// Replies of n2n.receive_claim besides the claim ID.
const (
	// ClaimPendingReply is the payload of the ok reply to a claim that waits
	// for the callee's user (n2n claims --pending).
	ClaimPendingReply = "pending\n"
	claimsFull        = "pending claims are full (for you)"
)

// receiveClaim is the built-in n2n.receive_claim: the payload is a ticket
// from its grantor, stored as a claim on this agent's chain when the Policy
// and the Quotas allow, and otherwise kept pending for the user. The reply
// is the claim ID, or ClaimPendingReply.
func (d *Daemon) receiveClaim(in *rpc.Incoming) rpc.Response {
	t, err := caps.ParseTicket(string(in.Request.Payload))
	if err != nil {
		return rpc.Response{Status: rpc.StatusBadRequest, Error: "not a valid ticket"}
	}
	if t.Grantor != in.Caller {
		return rpc.Response{Status: rpc.StatusBadRequest, Error: "a claim can only be delivered by its grantor"}
	}
	cl := caps.ClaimFromTicket(t)
	functions := strings.Join(t.Functions, ",")
	d.claimMu.Lock()
	defer d.claimMu.Unlock()
	now := time.Now()
	stranger, onChain, err := d.claimOnChain(in.Caller, now)
	if err != nil {
		return d.storeFailed("claim", err)
	}
	if !onChain {
		id, err := d.Pending().add(cl, now, d.Quotas)
		switch {
		case errors.Is(err, errPendingFull):
			return rpc.Response{Status: rpc.StatusOverQuota, Error: claimsFull}
		case err != nil:
			return d.storeFailed("claim", err)
		}
		d.Events.Publish(Event{Time: now, Kind: "pending_claim", From: in.Caller, Fields: []string{id.EntryString(), functions, t.Tag}})
		return rpc.Response{Status: rpc.StatusOK, Payload: []byte(ClaimPendingReply)}
	}
	r, err := caps.AddClaim(d.Chain, cl)
	if err != nil {
		return d.storeFailed("claim", err)
	}
	if stranger {
		d.claimRate.stored(in.Caller, now)
	}
	d.space.stored()
	id := r.Hash.ActionString()
	d.Events.Publish(Event{Time: now, Kind: "claim", From: in.Caller, Fields: []string{id, functions, t.Tag}})
	return rpc.Response{Status: rpc.StatusOK, Payload: []byte(id + "\n")}
}

// Pending is the home's list of pending claims.
func (d *Daemon) Pending() PendingClaims { return PendingClaims{Store: d.Chain.Side(PendingSide)} }

// claimOnChain says whether a claim grantor delivers now goes onto the
// chain at once (Policy.Claims, and for strangers Quotas.StrangerClaims),
// and whether grantor is a stranger: neither this agent nor a contact.
// Under claimMu.
func (d *Daemon) claimOnChain(grantor keys.PublicKey, now time.Time) (stranger, onChain bool, err error) {
	if grantor == d.ID().Public() {
		return false, true, nil
	}
	_, contact, err := d.Contacts().Of(grantor)
	switch {
	case err != nil:
		return false, false, err
	case contact:
		return false, d.Policy.Claims != AcceptNone, nil
	case d.Policy.Claims != AcceptAnyone:
		return true, false, nil
	}
	if err := d.claimRate.load(d, now); err != nil {
		return true, false, err
	}
	return true, d.claimRate.allows(d.Quotas, grantor, now), nil
}
