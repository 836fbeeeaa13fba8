// Package wiretest is a client of n2n's wire protocol for tests, written
// from the protocol (PROTOCOL.md) rather than
// from the packages that implement it: it runs the Noise IK handshake with
// flynn/noise itself and writes transport messages one at a time on a real
// libp2p stream (peers), so that a test can do what a well-behaved peer
// never does — declare a frame and send none of it, stall half-way through
// one after a first request, open sessions and handshakes in floods, send
// names with control characters or malformed requests — and see what the
// daemon answers.
//
// Agent is one identity with its own libp2p client node; Agent.Open opens
// a stream to a daemon and gives a Conn, on which Handshake, then
// WriteFrame, BeginFrame and WriteMessage (frames whole, begun, continued),
// Request (a request as one frame, signed when it is the session's first)
// and ReadResponse. Nothing here is used outside tests; it prints nothing.
// An Agent is safe for concurrent use; a Conn is used by one goroutine at a
// time.
package wiretest
