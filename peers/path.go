package peers

import (
	"context"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	circuit "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
)

// Path says how a connection to an agent runs: directly, or through a
// circuit relay, which carries only so many bytes on it.
type Path struct {
	// Relayed: the connection goes through a relay.
	Relayed bool
	// Relay is the relay's peer ID, when Relayed.
	Relay string
	// DataLimit is how many bytes the relay carries on the connection in
	// each direction before it resets it; 0 when it set no limit.
	DataLimit int64
	// Sent and Received count the bytes that n2n streams wrote and read on
	// a relayed connection so far (not counted on direct ones).
	Sent, Received int64
}

// String is "direct" or "relayed".
func (p Path) String() string {
	if p.Relayed {
		return "relayed"
	}
	return "direct"
}

// connUsage counts what n2n streams move over one relayed connection.
type connUsage struct {
	relay          string
	limit          int64
	sent, received atomic.Int64
}

// pathOf is the path of conn; usage is its counter (nil for a direct one).
func (n *Node) pathOf(conn network.Conn) (Path, *connUsage) {
	relay, ok := relayOf(conn.RemoteMultiaddr())
	if !ok {
		return Path{}, nil
	}
	u := &connUsage{relay: relay}
	if v, ok := conn.Stat().Extra[circuit.StatLimitData].(uint64); ok {
		u.limit = int64(min(v, 1<<62))
	}
	if old, loaded := n.usage.LoadOrStore(conn, u); loaded {
		u = old.(*connUsage)
	}
	return u.path(), u
}

func (u *connUsage) path() Path {
	return Path{Relayed: true, Relay: u.relay, DataLimit: u.limit, Sent: u.sent.Load(), Received: u.received.Load()}
}

// forgetUsage drops the counter of a closed connection.
func (n *Node) forgetUsage(_ network.Network, conn network.Conn) { n.usage.Delete(conn) }

// relayOf is the relay's peer ID in a circuit address (the last /p2p/
// before /p2p-circuit).
func relayOf(a multiaddr.Multiaddr) (string, bool) {
	relay, seen := "", false
	for _, c := range a {
		switch c.Protocol().Code {
		case multiaddr.P_P2P:
			if !seen {
				relay = c.Value()
			}
		case multiaddr.P_CIRCUIT:
			seen = true
		}
	}
	return relay, seen
}

// PathTo is the path of the node's best live connection to agent: direct
// if it has one, else relayed. ok is false with no live connection.
func (n *Node) PathTo(agent keys.PublicKey) (p Path, ok bool) {
	for _, c := range n.h.Network().ConnsToPeer(peerIDOf(agent)) {
		cp, _ := n.pathOf(c)
		if !cp.Relayed {
			return cp, true
		}
		if !ok {
			p, ok = cp, true
		}
	}
	return p, ok
}

// CanGoDirect tells whether a relayed connection of this node can become
// direct: a server hole-punches (DCUtR), a one-shot client host, which does
// not listen, cannot.
func (n *Node) CanGoDirect() bool { return n.server && !n.opts.Public }

// WaitDirect waits until the node has a direct connection to agent (one
// that DCUtR made, or any other), or ctx ends, and reports whether it has.
// On a node that cannot go direct (CanGoDirect) it does not wait.
func (n *Node) WaitDirect(ctx context.Context, agent keys.PublicKey) bool {
	pid := peerIDOf(agent)
	if n.directTo(pid) {
		return true
	}
	if !n.CanGoDirect() {
		return false
	}
	sub, err := n.h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return false
	}
	defer sub.Close()
	for {
		// Looked at after subscribing: no change is missed.
		if n.directTo(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-n.ctx.Done():
			return false
		case e, ok := <-sub.Out():
			if !ok {
				return false
			}
			if ev := e.(event.EvtPeerConnectednessChanged); ev.Peer == pid && n.directTo(pid) {
				return true
			}
		}
	}
}

// directTo tells whether the node has a direct connection to p.
func (n *Node) directTo(p peer.ID) bool {
	for _, c := range n.h.Network().ConnsToPeer(p) {
		if _, relayed := relayOf(c.RemoteMultiaddr()); !relayed {
			return true
		}
	}
	return false
}
