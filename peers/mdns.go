package peers

import (
	"context"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// startMDNS advertises the server under Options.MDNS's service name and
// connects to the peers found (mdnsFound). It runs after the DHT is made:
// the DHT adds the peers mDNS connects once they are identified.
func (n *Node) startMDNS() error {
	n.mdns = mdns.NewMdnsService(n.h, n.opts.mdnsService, mdnsNotifee{n})
	return n.mdns.Start()
}

// mdnsNotifee hands the peers mDNS finds to the node.
type mdnsNotifee struct{ n *Node }

// HandlePeerFound is called by the mDNS service, each time in a new
// goroutine, when another peer is first seen, again when it restarts, and
// again once its previous announcement (TTL 3200 s) has expired.
func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) { m.n.mdnsFound(ai) }

// mdnsFound connects to a peer found over mDNS in the background, bounded by
// DialTimeout, unless it is already connected or is no n2n agent. Once
// identified it enters the DHT routing table like any other DHT server.
func (n *Node) mdnsFound(ai peer.AddrInfo) {
	if ai.ID == n.h.ID() || len(ai.Addrs) == 0 {
		return
	}
	if _, err := agentOfPeer(ai.ID); err != nil {
		return
	}
	if n.h.Network().Connectedness(ai.ID) == network.Connected {
		return
	}
	_ = n.spawn(func() { // ErrClosed: nothing to do
		ctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
		defer cancel()
		_ = n.h.Connect(ctx, ai) // retried only when reported again
	})
}
