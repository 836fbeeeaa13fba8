package rpc

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// Implementation constants of requests over relayed connections.
const (
	// directWait bounds how long a request that a relayed connection
	// cannot carry waits for the direct connection hole punching is making.
	directWait = 5 * time.Second
	// relayHeadroom is what a relay's data limit must leave free besides
	// the sessions' bytes: libp2p's own traffic on the connection (its
	// handshake, identify, hole punching), plus relayFraming of the limit
	// for the framing of streams (yamux, libp2p's Noise).
	relayHeadroom = 32 << 10
	relayFraming  = 64
	// requestOverhead bounds what a request adds to its payload, secret
	// and function name on the wire: CBOR, the first request's signature,
	// the frame header.
	requestOverhead = 512
	// noiseChunk and noiseChunkOverhead: a frame travels in Noise messages
	// of at most noiseChunk bytes, each with a length prefix and a tag.
	noiseChunk, noiseChunkOverhead = 65519, 18
)

// RelayReason says why a request did not go over a relayed connection.
type RelayReason int

// The reasons.
const (
	// RelayTooSmall: the relay's data limit leaves too little room for the
	// request, and no direct connection came.
	RelayTooSmall RelayReason = iota + 1
	// RelayRefused: the client refuses relays (Client.DirectOnly) and no
	// direct connection came.
	RelayRefused
	// RelayCut: the relayed connection ended while the request was on its
	// way (the relay's data or time limit, or the relay went away).
	RelayCut
)

// RelayError is why a request to an agent reachable only through a relay
// failed. It wraps peers.ErrUnreachable.
type RelayError struct {
	Agent  keys.PublicKey
	Path   peers.Path
	Reason RelayReason
	// CanGoDirect: the node could have made a direct connection (a daemon
	// hole-punches; a one-shot command cannot).
	CanGoDirect bool
	// Err is the connection's own error, for RelayCut.
	Err error
}

func (e *RelayError) Error() string { return e.Text(e.Agent.String()) }

// Text is the error's text with the agent named as agent (a shortened ID,
// say).
func (e *RelayError) Text(agent string) string {
	via := fmt.Sprintf("%s is reachable only through relay %s", agent, e.Path.Relay)
	switch e.Reason {
	case RelayTooSmall:
		return fmt.Sprintf("%s, whose limit (%s) is too small for this request", via, size(e.Path.DataLimit))
	case RelayRefused:
		return via + ", and --direct-only refuses relays"
	}
	if e.Path.DataLimit > 0 && max(e.Path.Sent, e.Path.Received)+relayHeadroom >= e.Path.DataLimit {
		return fmt.Sprintf("the relay %s cut the connection to %s at its limit (%s)", e.Path.Relay, agent, size(e.Path.DataLimit))
	}
	return fmt.Sprintf("the connection to %s through relay %s ended during the request", agent, e.Path.Relay)
}

func (e *RelayError) Unwrap() []error { return []error{peers.ErrUnreachable, e.Err} }

func size(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }

// wireSize bounds the bytes req takes on the wire.
func wireSize(req *Request) int64 {
	n := int64(len(req.Payload) + len(req.Secret) + len(req.Function) + requestOverhead)
	return n + (n/noiseChunk+1)*noiseChunkOverhead
}

// fits tells whether a connection on path can still carry req.
func fits(path peers.Path, req *Request) bool {
	if !path.Relayed || path.DataLimit == 0 {
		return true
	}
	room := path.DataLimit - relayHeadroom - path.DataLimit/relayFraming
	return path.Sent+wireSize(req) <= room && path.Received < room
}
