// Package rpc is the wire protocol between agents (DESIGN §6): the request
// and response messages, the sessions that carry them on both sides, and
// the client with its pool of sessions.
//
// A session is one Noise IK session (noiseproto) on one libp2p stream, and
// carries many requests. The first transport message is the signed request
// of DESIGN §6: it binds the session to the caller's agent key and to this
// handshake (signed.go). Every later request is a plain request encoding:
// each transport message is authenticated by keys only the session's two
// ends hold, and numbered, so it can be neither forged nor replayed, and a
// signature would add nothing but ~70 µs. The caller may send a request
// before the previous ones are answered (clientSession); the callee answers
// each, under its ID, as it finishes (serverSession), messages of one
// session in the order sent, calls at once (order.go). Frames written
// together go out in one batch (writer.go, stream.go).
//
// An Endpoint is one agent's end: Endpoint.Serve answers a session with a
// Dispatcher (the daemon), Endpoint.Client makes requests on the sessions
// the endpoint keeps, one per agent (pool.go).
//
// Nothing here prints or exits, and rpc knows nothing of capabilities, the
// chain or handlers: the Dispatcher does. Endpoint and Client are safe for
// concurrent use.
package rpc
