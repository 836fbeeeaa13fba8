// Package rpc owns what travels between agents and between a command and its
// daemon: the request and response messages of DESIGN §6 (CBOR, signed and
// bound to their Noise session), the client that sends one request and
// blocks for its reply, the server that authenticates, authorizes and
// dispatches incoming requests to built-ins and function handlers, and the
// daemon ("n2n serve") with its local socket, inbox and events.
//
// Nothing here prints or exits: the daemon reports events and errors through
// callbacks the command line provides. Client, Server and Daemon are safe for
// concurrent use.
package rpc
