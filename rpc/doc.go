// Package rpc owns what travels between agents and between a command and its
// daemon: the request and response messages of DESIGN §6 (CBOR; the first
// request of a session signed and bound to its Noise session), sessions that
// carry many requests, pipelined and answered by ID (session.go, conn.go,
// writer.go, order.go), the client that keeps one session per agent, the
// server side that authenticates, authorizes and dispatches incoming requests
// to built-ins and function handlers, and the daemon ("n2n serve") with its
// local socket, inbox, audit log and events.
//
// Nothing here prints or exits: the daemon reports events and errors through
// callbacks the command line provides. Client and Daemon are safe for
// concurrent use.
package rpc
