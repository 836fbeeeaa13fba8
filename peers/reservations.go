package peers

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// autorelayTag is the tag under which go-libp2p's AutoRelay (v0.51,
// p2p/host/autorelay) protects its connection to a relay once the relay
// accepted a reservation, and which it removes when a refresh fails. It is
// the only sign of a reservation AutoRelay gives.
const autorelayTag = "autorelay"

// reservations is a server's connection manager: libp2p's own, which also
// keeps the set of relays AutoRelay holds a reservation with.
//
// AutoRelay advertises a circuit address only through a relay's public
// addresses, so a reservation with a relay on private addresses (a
// corporate WAN, carrier-grade NAT: a "public" segment of private
// addresses) would be advertised nowhere. circuitAddrs makes those
// addresses from this set. changed, if set, is called (in its own
// goroutine) whenever the set changes.
type reservations struct {
	connmgr.ConnManager
	host    atomic.Pointer[host.Host] // set once the host is made
	changed func()

	mu     sync.Mutex
	relays map[peer.ID]bool
}

// Protect implements connmgr.ConnManager.
func (r *reservations) Protect(p peer.ID, tag string) {
	r.ConnManager.Protect(p, tag)
	if tag == autorelayTag {
		r.set(p, true)
	}
}

// Unprotect implements connmgr.ConnManager.
func (r *reservations) Unprotect(p peer.ID, tag string) bool {
	if tag == autorelayTag {
		r.set(p, false)
	}
	return r.ConnManager.Unprotect(p, tag)
}

func (r *reservations) set(p peer.ID, on bool) {
	r.mu.Lock()
	if r.relays == nil {
		r.relays = map[peer.ID]bool{}
	}
	was := r.relays[p]
	if on {
		r.relays[p] = true
	} else {
		delete(r.relays, p)
	}
	r.mu.Unlock()
	if was != on && r.changed != nil {
		go r.changed()
	}
}

// held are the relays with a reservation that are still connected (not
// through another relay), sorted.
func (r *reservations) held() []peer.ID {
	hp := r.host.Load()
	if hp == nil {
		return nil
	}
	h := *hp
	r.mu.Lock()
	var out []peer.ID
	for p := range r.relays {
		if h.Network().Connectedness(p) == network.Connected {
			out = append(out, p)
		}
	}
	r.mu.Unlock()
	slices.Sort(out)
	return out
}

// circuitAddrs are the circuit addresses through each relay held: every
// address of the relay that is not itself relayed, loopback ones only if
// the relay has no other.
func (r *reservations) circuitAddrs() []multiaddr.Multiaddr {
	hp := r.host.Load()
	if hp == nil {
		return nil
	}
	h := *hp
	var out []multiaddr.Multiaddr
	for _, p := range r.held() {
		circuit, err := multiaddr.NewMultiaddr("/p2p/" + p.String() + "/p2p-circuit")
		if err != nil {
			continue
		}
		var direct, loop []multiaddr.Multiaddr
		for _, a := range h.Peerstore().Addrs(p) {
			switch {
			case isCircuit(a):
			case manet.IsIPLoopback(a):
				loop = append(loop, a)
			default:
				direct = append(direct, a)
			}
		}
		if len(direct) == 0 {
			direct = loop
		}
		for _, a := range direct {
			out = append(out, a.Encapsulate(circuit))
		}
	}
	return out
}

// isCircuit tells whether a goes through a relay.
func isCircuit(a multiaddr.Multiaddr) bool {
	_, err := a.ValueForProtocol(multiaddr.P_CIRCUIT)
	return err == nil
}
