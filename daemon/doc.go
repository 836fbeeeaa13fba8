// Package daemon is the conductor of DESIGN §1 ("n2n serve"): it holds the
// open home and the warm node, answers the sessions of other agents
// (through rpc.Endpoint, with the Daemon as rpc.Dispatcher), checks each
// call against the capabilities on the chain (caps), runs function handlers
// (functions.go), stores delivered claims (n2n.receive_claim), keeps the
// inbox and the audit log in side stores of the home, and publishes events
// to its subscribers.
//
// What strangers can make the daemon spend is bounded before any capability
// is checked (limits.go, DESIGN §10): sessions at once, in all and per
// agent, and new sessions a second per agent — a stream over them is reset
// as busy before its handshake — and the memory that requests in progress
// hold, in all and per agent (the endpoint's rpc.Budget). DefaultLimits
// gives the numbers.
//
// The callee's path: rpc.Endpoint.Serve → Daemon.Dispatch → receive (the
// receive function, or the inbox) or call (capability check, then handler
// or receive_claim; audited).
//
// Nothing here prints or exits: the daemon reports events and errors through
// Events and Debug, which the command line provides. Daemon, Functions and
// Events are safe for concurrent use.
package daemon
