// Package rpc is the wire protocol between agents (PROTOCOL.md §5-§9): the
// request and response messages, the sessions that carry them on both sides,
// and the client with its pool of sessions.
//
// A session is one Noise IK session (noiseproto) on one libp2p stream, and
// carries many requests. The first transport message is the signed request
// (PROTOCOL.md §5.3): it binds the session to the caller's agent key and to this
// handshake (signed.go). Every later request is a plain request encoding:
// each transport message is authenticated by keys only the session's two
// ends hold, and numbered, so it can be neither forged nor replayed, and a
// signature would add nothing but ~70 µs. The caller may send a request
// before the previous ones are answered (clientSession); the callee answers
// each, under its ID, as it finishes (serverSession), messages of one
// session in the order sent, calls at once (order.go). Frames written
// together go out in one batch (writer.go, stream.go).
//
// What a caller can make the callee spend is bounded before anything is
// dispatched. Time (watch.go): the handshake and the first message of the
// first request within 10 s; then each message of a frame within 5 s of
// the one before; 2 minutes idle between requests. Memory (budget.go): a
// frame's buffer grows with what arrives (noiseproto), and its bytes, then
// its request's until answered, count against the endpoint's Budget, per
// caller agent and in all, past a small floor per session. A frame over the
// budget gets a busy response with ID 0, which ends the session (as a
// malformed request gets bad_request with ID 0); a caller's session must
// be its libp2p peer's. The daemon chooses the budget and caps sessions
// and handshakes before they reach Serve.
//
// An Endpoint is one agent's end: Endpoint.Serve answers a session with a
// Dispatcher (the daemon), Endpoint.Client makes requests on the sessions
// the endpoint keeps, one per agent (pool.go).
//
// A request carries how long the caller allows, which the callee counts on
// its own clock from the request's arrival: no wall-clock time crosses the
// wire, so agents with unsynchronised clocks work together. Messages follow
// the version rule of PROTOCOL.md §12: fields under extension keys a
// decoder does not know are kept aside (Extension), core keys it does not
// know make a message malformed, an unknown request kind is answered
// bad_request, and an unknown status is the caller's to report.
//
// Through a relay (relay.go): a relayed connection carries only so many
// bytes (the relay's data limit). A request that would not fit, and any
// request of a Client that refuses relays (DirectOnly), waits a few seconds
// for the direct connection hole punching makes, then fails with one
// RelayError; a relayed session that breaks mid-request is one too. Once a
// direct connection exists, the pool gives the relayed session up and the
// next request opens a session on the direct one (libp2p moves no stream).
//
// A request the callee leaves unanswered past its timeout (and a grace)
// fails alone; a caller ends a session only when its agent shows no sign of
// life (nothing received, not even the answer to a ping).
//
// A caller that shows progress learns the Phase of its requests as they
// enter it (Client.Progress: resolution, handshake, waiting for the reply).
//
// Nothing here prints or exits, and rpc knows nothing of capabilities, the
// chain or handlers: the Dispatcher does. Endpoint and Client are safe for
// concurrent use.
package rpc
