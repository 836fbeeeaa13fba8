// Package daemon is the conductor ("n2n serve"): it holds the
// open home and the warm node, answers the sessions of other agents
// (through rpc.Endpoint, with the Daemon as rpc.Dispatcher), checks each
// call against the capabilities on the chain (caps), runs function handlers
// (functions.go; handler.go runs one process group and reads its pipes
// itself; orphans.go ends what a killed daemon left running), stores
// delivered claims (n2n.receive_claim), keeps the inbox and the audit log
// in side stores of the home, and publishes events to its subscribers.
//
// What strangers can make the daemon spend is bounded before any capability
// is checked (limits.go): sessions at once, in all and per
// agent, and new sessions a second per agent — a stream over them is reset
// as busy before its handshake — and the memory that requests in progress
// hold, in all and per agent (the endpoint's rpc.Budget). DefaultLimits
// gives the numbers.
//
// The callee's path: rpc.Endpoint.Serve → Daemon.Dispatch → receive (the
// receive function, or the inbox) or call (capability check, then handler
// or receive_claim; audited).
//
// Strangers and consent (policy.go): Policy says whose messages
// are taken (others: unauthorized) and whose delivered claims go onto the
// chain at once; Quotas bound the rest. The inbox counts each sender's
// messages and bytes from its keys (time, random, sender, body length) and
// refuses past InboxBytes/InboxMessages or SenderBytes/SenderMessages with
// over_quota, dropping nothing stored. Strangers' claims go onto the chain
// up to StrangerClaims an hour (StrangerClaimsEach per stranger), a window
// read back from the chain; others wait in PendingSide (pending.go), keyed
// by the hash of the claim entry, up to Pending (PendingEach per grantor),
// then over_quota. The audit log (retention.go) records a function name that
// is not valid by its length only, and drops records past AuditAge and,
// oldest first, past AuditBytes.
//
// A home too full to write takes nothing it would have to store (no_space,
// space.go) and goes on answering the rest.
//
// Nothing here prints or exits: the daemon reports events and errors through
// Events, Warn and Debug, which the command line provides. Daemon,
// Functions and Events are safe for concurrent use.
package daemon
