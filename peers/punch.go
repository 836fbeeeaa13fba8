package peers

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Implementation constants of hole punching.
const (
	// punchRetries bounds the punches tried again for one relayed
	// connection after libp2p's own single attempt.
	punchRetries = 5
	// punchFirstWait is how long after a relayed connection arrives the
	// first retry comes; each later one waits twice as long (2, 4, 8, 16,
	// 32 s: about a minute in all).
	punchFirstWait = 2 * time.Second
)

// startPunching runs hole punching (DCUtR) on a server that is not public.
// When another agent reaches this one through a relay, this one (the
// callee) asks it over the relayed connection to punch: both dial each
// other's addresses as seen from outside at once, which opens a direct
// path through NATs that keep a port for each inside address and port.
//
// libp2p makes one attempt per relayed connection, and a peer answers only
// once it knows an address to punch from (punchAddrs): a callee whose
// caller had just started, or whose own first punch failed, would stay
// relayed for the relayed connection's life. So each punch is tried again
// (punchAgain) while only relayed connections exist.
func (n *Node) startPunching() error {
	ids, ok := n.h.(interface{ IDService() identify.IDService })
	if !ok {
		return errors.New("peers: hole punching: the host has no identify service")
	}
	svc, err := holepunch.NewService(n.h, ids.IDService(), n.punchAddrs)
	if err != nil {
		return fmt.Errorf("peers: hole punching: %w", err)
	}
	n.hps = svc
	n.h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		if _, relayed := relayOf(c.RemoteMultiaddr()); relayed && c.Stat().Direction == network.DirInbound {
			n.punchAgain(c.RemotePeer())
		}
	}})
	return nil
}

// punchAgain tries the hole punch with p again, up to punchRetries times
// over about a minute, until a direct connection exists or no connection
// is left. A round is skipped while the punch cannot start: this node has
// no address to punch from yet, or p does not (yet) answer DCUtR.
func (n *Node) punchAgain(p peer.ID) {
	n.punchMu.Lock()
	if n.punching[p] {
		n.punchMu.Unlock()
		return
	}
	if n.punching == nil {
		n.punching = map[peer.ID]bool{}
	}
	n.punching[p] = true
	n.punchMu.Unlock()
	done := func() {
		n.punchMu.Lock()
		delete(n.punching, p)
		n.punchMu.Unlock()
	}
	err := n.spawn(func() {
		defer done()
		wait := punchFirstWait
		t := time.NewTimer(wait)
		defer t.Stop()
		for range punchRetries {
			select {
			case <-n.ctx.Done():
				return
			case <-t.C:
			}
			wait *= 2
			t.Reset(wait)
			if n.directTo(p) || len(n.h.Network().ConnsToPeer(p)) == 0 {
				return
			}
			if !slices.Contains(n.h.Mux().Protocols(), holepunch.Protocol) {
				continue // no address to punch from yet
			}
			if ok, _ := n.h.Peerstore().SupportsProtocols(p, holepunch.Protocol); len(ok) == 0 {
				continue
			}
			if n.hps.DirectConnect(p) == nil {
				return
			}
		}
	})
	if err != nil {
		done()
	}
}

// punchAddrs are the addresses the node punches from: its own public
// addresses, and those at which peers saw it through a NAT (not one of its
// own IP addresses, not loopback). libp2p's own choice keeps public ones
// only, which leaves out NATs on networks of private addresses
// (carrier-grade NAT, a corporate WAN), where a punch works just as well.
func (n *Node) punchAddrs() []multiaddr.Multiaddr {
	own, _ := n.h.Network().InterfaceListenAddresses()
	ownIPs := map[string]bool{}
	var out []multiaddr.Multiaddr
	for _, a := range own {
		if ip, err := manet.ToIP(a); err == nil {
			ownIPs[ip.String()] = true
		}
		if manet.IsPublicAddr(a) {
			out = append(out, a)
		}
	}
	if n.observed != nil {
		for _, a := range n.observed.Addrs(1) {
			ip, err := manet.ToIP(a)
			if err == nil && !ip.IsLoopback() && !ip.Equal(net.IPv4zero) && !ownIPs[ip.String()] {
				out = append(out, a)
			}
		}
	}
	return multiaddr.Unique(out)
}
