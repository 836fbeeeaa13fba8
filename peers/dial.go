package peers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// The dial of one DHT peer during a lookup is bounded: a lookup ends only
// once the closest peers it heard of have answered or failed, so a silent
// one (gone without a word, or behind a NAT with only private addresses)
// held it up for the whole dial timeout, and with it the command. A peer
// that takes longer is skipped (kad-dht then drops it from the routing
// table, as it does any peer that fails a dial). A handshake takes two to
// four round trips: on this machine or network (queryDialLocal) a second is
// ample — only a machine so loaded that local handshakes take longer (seen
// at a load of 10 on 2 cores) skips live peers; across the internet
// (queryDialRemote) three seconds leave room for long and lossy links.
const (
	queryDialLocal  = time.Second
	queryDialRemote = 3 * time.Second
)

// queryDialTimeout is the bound for dialling a DHT peer at addrs: local
// when every address is loopback or private.
func queryDialTimeout(addrs []multiaddr.Multiaddr) time.Duration {
	for _, a := range addrs {
		if !manet.IsIPLoopback(a) && !manet.IsPrivateAddr(a) {
			return queryDialRemote
		}
	}
	return queryDialLocal
}

func (n *Node) connAddrs(pid peer.ID) []multiaddr.Multiaddr {
	var out []multiaddr.Multiaddr
	for _, c := range n.h.Network().ConnsToPeer(pid) {
		out = append(out, c.RemoteMultiaddr())
	}
	return out
}

func (n *Node) clearBackoff(pid peer.ID) {
	if s, ok := n.h.Network().(*swarm.Swarm); ok {
		s.Backoff().Clear(pid)
	}
}

// connect dials ai.ID at ai.Addrs and whatever the peerstore has for it
// (dialled: both), bounded by timeout, and ends as soon as every one of
// those addresses has refused the connection (refusals). refused are the
// addresses seen to refuse; all says that was every address.
func (n *Node) connect(ctx context.Context, ai peer.AddrInfo, timeout time.Duration) (dialled []multiaddr.Multiaddr, refused []tried, all bool, err error) {
	if n.h.Network().Connectedness(ai.ID) == network.Connected {
		return nil, nil, false, nil
	}
	dialled = append(slices.Clone(ai.Addrs), n.h.Peerstore().Addrs(ai.ID)...)
	w, done := n.refusals.watch(ai.ID, dialled)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	err = n.h.Connect(network.WithDialPeerTimeout(ctx, timeout), ai)
	refused = n.refusals.stop(ai.ID, w)
	select {
	case <-done:
		all = true
	default:
	}
	return dialled, refused, all, err
}

// dial connects to pid at addrs (and any address the peerstore already
// has), bounded by DialTimeout. It fails at once when every address
// refused, with ErrWrongPeer when an address answered with another key,
// else with an *UnreachableError saying how the addresses failed.
func (n *Node) dial(ctx context.Context, pid peer.ID, addrs []multiaddr.Multiaddr) error {
	n.clearBackoff(pid) // a lookup's dial of the same peer may just have failed
	dialled, refused, all, err := n.connect(ctx, peer.AddrInfo{ID: pid, Addrs: addrs}, n.opts.DialTimeout)
	if err == nil {
		return nil
	}
	var mismatch sec.ErrPeerIDMismatch
	var mismatchp *sec.ErrPeerIDMismatch
	if errors.As(err, &mismatch) || errors.As(err, &mismatchp) {
		return fmt.Errorf("%w: %w", ErrWrongPeer, err)
	}
	if all {
		var says []string
		for _, t := range refused {
			if t.inferred {
				says = append(says, fmt.Sprintf("%s: counted as refused (a TCP address on its IP refused)", t.addr))
			} else {
				says = append(says, fmt.Sprintf("%s: connection refused", t.addr))
			}
		}
		err = fmt.Errorf("every address refused, so the dial was ended (%s): %w", strings.Join(says, "; "), err)
	}
	return dialFailure(err, dialled, refused)
}

// queryHost is the host as the DHT sees it: its dials of DHT peers are
// bounded by queryDialTimeout and end as soon as every address refused,
// whether a lookup dials the peer (Connect) or a lookup's follow-up opens a
// stream to it unconnected (NewStream, which would otherwise dial with the
// swarm's own timeout: 5 s for a local address).
type queryHost struct {
	host.Host
	n *Node
}

// Connect implements host.Host.
func (q queryHost) Connect(ctx context.Context, ai peer.AddrInfo) error {
	addrs := append(slices.Clone(ai.Addrs), q.Peerstore().Addrs(ai.ID)...)
	_, _, _, err := q.n.connect(ctx, ai, queryDialTimeout(addrs))
	return err
}

// NewStream implements host.Host.
func (q queryHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	if err := q.Connect(ctx, peer.AddrInfo{ID: p}); err != nil {
		return nil, err
	}
	return q.Host.NewStream(ctx, p, pids...)
}
