package peers

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// RelayLimits bound the circuit relay v2 service of a public node.
type RelayLimits struct {
	// Data is how many bytes the relay carries on one relayed connection
	// in each direction before it resets it.
	Data int64
	// Duration is how long a relayed connection may last.
	Duration time.Duration
	// Reservations is how many agents may hold a reservation at once.
	Reservations int
}

// DefaultRelayLimits are a public node's relay limits unless its operator
// sets others. libp2p's own (128 KiB, 2 minutes) are meant for the few
// bytes of a hole punch; an n2n call carries up to 16 MiB each way, and a
// pair of agents behind NATs that map each connection to a new port
// (symmetric NATs) never gets a direct connection. So: 64 MiB each way,
// room for a few largest calls with their framing and thousands of
// messages; 10 minutes, enough for a 16 MiB call over a slow link and
// for many hole punches, after which the agents simply dial again; 128
// reservations (libp2p's default), what a small VPS carries.
var DefaultRelayLimits = RelayLimits{Data: 64 << 20, Duration: 10 * time.Minute, Reservations: 128}

// Implementation constants of relaying.
const (
	// relayBootDelay: AutoRelay takes the first relay candidate it finds
	// after this long at most, instead of waiting up to 3 minutes for 4.
	relayBootDelay = time.Second
	// relayMinInterval is how often AutoRelay may ask relayCandidates for
	// more candidates.
	relayMinInterval = 15 * time.Second
	// relayBackoff is how long AutoRelay leaves a relay alone after it
	// refused a reservation (libp2p's default: an hour).
	relayBackoff = time.Minute
)

func (l RelayLimits) withDefaults() RelayLimits {
	if l.Data <= 0 {
		l.Data = DefaultRelayLimits.Data
	}
	if l.Duration <= 0 {
		l.Duration = DefaultRelayLimits.Duration
	}
	if l.Reservations <= 0 {
		l.Reservations = DefaultRelayLimits.Reservations
	}
	return l
}

// publicOptions make a public node: it is reachable as it says, so AutoNAT
// is told so (which also starts the relay service at once: libp2p runs it
// only while reachability is public), it answers AutoNAT probes, and its
// relay service has the limits given.
func publicOptions(l RelayLimits, announce []multiaddr.Multiaddr) []libp2p.Option {
	l = l.withDefaults()
	res := relayv2.DefaultResources()
	res.Limit = &relayv2.RelayLimit{Data: l.Data, Duration: l.Duration}
	res.MaxReservations = l.Reservations
	return []libp2p.Option{
		libp2p.ForceReachabilityPublic(),
		libp2p.EnableNATService(),
		libp2p.EnableAutoNATv2(),
		libp2p.EnableRelayService(
			relayv2.WithResources(res),
			// A reservation tells the agent how the relay is reached: the
			// announced addresses too, even private ones.
			relayv2.WithReservationAddressFilter(func(a multiaddr.Multiaddr) bool {
				return manet.IsPublicAddr(a) || multiaddr.Contains(announce, a)
			}),
		),
	}
}

// agentOptions make a server that is not public. AutoNAT v2 checks which
// of its addresses others reach. AutoRelay takes the bootstrap peers first
// as relays, then DHT peers that offer the relay protocol
// (relayCandidates); it starts once AutoNAT says the node is not publicly
// reachable, or at once when the node takes itself to be behind a NAT
// (natted). It runs no relay service: relaying is for public nodes, whose
// operators chose to carry others' traffic.
func (n *Node) agentOptions() []libp2p.Option {
	opts := []libp2p.Option{
		libp2p.EnableNATService(),
		libp2p.EnableAutoNATv2(),
		libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates,
			autorelay.WithBootDelay(relayBootDelay),
			autorelay.WithMinCandidates(1),
			autorelay.WithMinInterval(relayMinInterval),
			autorelay.WithBackoff(relayBackoff),
		),
	}
	if n.natted {
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	return opts
}

// relayCandidates feeds AutoRelay: the bootstrap peers first (normally
// public nodes), then peers of the DHT routing table that offer the relay
// protocol, num at most.
func (n *Node) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo, max(num, 0))
	defer close(ch)
	select { // AutoRelay may ask before libp2p.New has returned the host
	case <-n.hostReady:
	case <-ctx.Done():
		return ch
	}
	seen := map[peer.ID]bool{n.h.ID(): true}
	add := func(ai peer.AddrInfo) {
		if len(ch) < cap(ch) && !seen[ai.ID] {
			seen[ai.ID] = true
			ch <- ai
		}
	}
	for _, ai := range n.bootstrap {
		add(ai)
	}
	if d := n.currentDHT(); d != nil {
		for _, p := range d.RoutingTable().ListPeers() {
			if ok, _ := n.h.Peerstore().SupportsProtocols(p, proto.ProtoIDv2Hop); len(ok) > 0 {
				add(n.h.Peerstore().PeerInfo(p))
			}
		}
	}
	return ch
}

// advertised is the host's address factory: the announced addresses in
// place of the listen addresses, if any were given, and circuit addresses
// through every relay held, including relays on private addresses, which
// AutoRelay leaves out (reservations).
func (n *Node) advertised(addrs []multiaddr.Multiaddr) []multiaddr.Multiaddr {
	out := addrs
	if len(n.announce) > 0 {
		out = append([]multiaddr.Multiaddr{}, n.announce...)
		for _, a := range addrs {
			if isCircuit(a) {
				out = append(out, a)
			}
		}
	}
	if n.relays != nil {
		out = append(out, n.relays.circuitAddrs()...)
	}
	return multiaddr.Unique(out)
}

// parseAnnounce parses the announced addresses, which name no peer.
func parseAnnounce(ss []string) ([]multiaddr.Multiaddr, error) {
	var out []multiaddr.Multiaddr
	for _, s := range ss {
		a, err := ParseAddr(s)
		if err != nil {
			return nil, err
		}
		if _, err := a.ValueForProtocol(multiaddr.P_P2P); err == nil {
			return nil, fmt.Errorf("peers: %w announce %q: give the address without /p2p/", ErrBadAddress, s)
		}
		out = append(out, a)
	}
	return out, nil
}

// natted tells whether a server that is not public takes itself to be
// behind a NAT for its bootstrap peers: it listens on private addresses
// only, and some bootstrap peer is outside all of its networks. It then
// does not wait for AutoNAT, which asks only peers with public addresses
// and so on a network of private addresses never answers: it holds a relay
// reservation at once and runs the DHT as a client. On one machine or one
// LAN the bootstrap peers are inside, and the node serves the DHT.
func natted(listen []multiaddr.Multiaddr, boot []peer.AddrInfo) bool {
	ifaces, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	var nets []*net.IPNet
	for _, a := range ifaces {
		if ipn, ok := a.(*net.IPNet); ok {
			nets = append(nets, ipn)
		}
	}
	private := false
	for _, a := range listen {
		ip, err := manet.ToIP(a)
		if err != nil {
			continue
		}
		ips := []net.IP{ip}
		if ip.IsUnspecified() {
			ips = nil
			for _, ipn := range nets {
				if (ipn.IP.To4() == nil) == (ip.To4() == nil) {
					ips = append(ips, ipn.IP)
				}
			}
		}
		for _, ip := range ips {
			switch {
			case ip.IsLoopback():
			case manet.IsPublicAddr(ipMultiaddr(ip)):
				return false
			default:
				private = true
			}
		}
	}
	if !private {
		return false
	}
	for _, ai := range boot {
		for _, a := range ai.Addrs {
			ip, err := manet.ToIP(a)
			if err == nil && (ip.IsLoopback() || inNets(ip, nets)) {
				continue
			}
			return true // outside, or a DNS name
		}
	}
	return false
}

func ipMultiaddr(ip net.IP) multiaddr.Multiaddr {
	a, err := manet.FromIP(ip)
	if err != nil {
		return nil
	}
	return a
}

func inNets(ip net.IP, nets []*net.IPNet) bool {
	for _, ipn := range nets {
		if ipn.Contains(ip) {
			return true
		}
	}
	return false
}
