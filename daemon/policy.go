package daemon

import (
	"fmt"
	"time"
)

// Accept says whose writes the daemon takes without asking the user:
// anyone's, its contacts' (peers.Contacts) or no one's. The agent itself is
// always accepted.
type Accept string

// The three policies of serve --accept-messages and --accept-claims.
const (
	AcceptAnyone   Accept = "anyone"
	AcceptContacts Accept = "contacts"
	AcceptNone     Accept = "none"
)

// ParseAccept reads a policy's name.
func ParseAccept(s string) (Accept, error) {
	switch a := Accept(s); a {
	case AcceptAnyone, AcceptContacts, AcceptNone:
		return a, nil
	}
	return "", fmt.Errorf("%q: want anyone, contacts or none", s)
}

// Policy is who may write into this agent's home (STRANGERS AND CONSENT in the man page).
type Policy struct {
	// Messages: who may send messages (to the inbox or to the receive
	// function). A message from anyone else is refused as unauthorized.
	Messages Accept
	// Claims: whose delivered claims (n2n.receive_claim) go onto the chain
	// at once. Those of anyone else wait in the pending list for the user
	// (n2n claims --pending, n2n claim accept); so do those of strangers
	// past Quotas.StrangerClaims under AcceptAnyone.
	Claims Accept
}

// DefaultPolicy takes messages and claims from anyone: the seeds' story
// (Alice delivers a claim to Bob, who does nothing) works as it is.
var DefaultPolicy = Policy{Messages: AcceptAnyone, Claims: AcceptAnyone}

// Quotas bound what other agents can make the daemon keep in the home
// (STRANGERS AND CONSENT in the man page): the inbox, the audit log, claims on the chain and claims
// waiting for the user. Counted by agent: a session's caller is
// authenticated.
type Quotas struct {
	// InboxBytes and InboxMessages bound the inbox in all (bytes of
	// messages), SenderBytes and SenderMessages what one sender may have in
	// it. A message over any of them is refused with over_quota; nothing
	// stored is dropped.
	InboxBytes, SenderBytes       int64
	InboxMessages, SenderMessages int
	// AuditAge and AuditBytes bound the audit log: records older than
	// AuditAge, and past AuditBytes the oldest, are dropped.
	AuditAge   time.Duration
	AuditBytes int64
	// StrangerClaims is how many delivered claims agents that are not
	// contacts may put on the chain in any hour, all of them together, and
	// StrangerClaimsEach how many one of them may; past that, their claims
	// wait in the pending list.
	StrangerClaims, StrangerClaimsEach int
	// Pending and PendingEach bound the pending list, in all and per
	// grantor; a claim over either is refused with over_quota.
	Pending, PendingEach int
}

// DefaultQuotas are a daemon's quotas unless set otherwise: an inbox of
// 256 MiB and 10 000 messages (32 MiB and 1 000 per sender), an audit log
// of 30 days and 64 MiB, 20 claims an hour from strangers (5 from each),
// 100 pending claims (10 from each grantor).
var DefaultQuotas = Quotas{
	InboxBytes: 256 << 20, InboxMessages: 10_000, SenderBytes: 32 << 20, SenderMessages: 1_000,
	AuditAge: 30 * 24 * time.Hour, AuditBytes: 64 << 20,
	StrangerClaims: 20, StrangerClaimsEach: 5,
	Pending: 100, PendingEach: 10,
}
