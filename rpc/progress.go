package rpc

import "github.com/n2n-dev/n2n/peers"

// Phase is what a request waits for, as a caller that shows progress learns
// it (Client.Progress).
type Phase int

// The phases of a request, in order; a request on a session the client
// keeps goes straight to PhaseWaiting.
const (
	PhaseDialling  Phase = iota + 1 // dialling the addresses the address book has for the agent
	PhaseResolving                  // looking the agent up in the DHT, and dialling what it finds
	PhaseHandshake                  // connected: opening the session (the Noise handshake)
	PhaseWaiting                    // the request is sent: waiting for the reply
)

func (p Phase) String() string {
	switch p {
	case PhaseDialling:
		return "dialling"
	case PhaseResolving:
		return "resolving"
	case PhaseHandshake:
		return "handshake"
	case PhaseWaiting:
		return "waiting"
	}
	return "none"
}

// progress tells c.Progress, if set, that a request is in phase p.
func (c *Client) progress(p Phase) {
	if c.Progress != nil {
		c.Progress(p)
	}
}

// phaseOf is the phase in which resolution step src waits.
func phaseOf(src peers.Source) Phase {
	if src == peers.SourceDHT {
		return PhaseResolving
	}
	return PhaseDialling
}
