package peers

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	bhost "github.com/libp2p/go-libp2p/p2p/host/basic"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	basicconnmgr "github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/multiformats/go-multiaddr"
	"go.uber.org/fx"

	"github.com/n2n-dev/n2n/keys"
)

// perPeerConns is how many connections one agent may hold to a server at
// once: each one-shot command of an agent brings its own connection (same
// peer ID), and libp2p's default of 8 refuses the ninth of a burst.
const perPeerConns = 256

// perIPConns is how many connections may come from one IPv4 address (or
// IPv6 /56) at once: every agent of a household, an office or a carrier's
// NAT shares one, with its one-shot commands; libp2p's default of 8 made a
// public node refuse the ninth.
const perIPConns = 4 * perPeerConns

// NewServer starts the host of `n2n serve`: it listens (TCP and QUIC), runs
// the DHT, connects to the bootstrap peers in the background, and publishes
// the agent record once the routing table has a peer, then every
// Options.Republish and whenever its addresses change. With Options.MDNS it
// also advertises itself over mDNS and connects to the servers it finds
// there; it fails if mDNS cannot start (no usable multicast interface). It
// returns once listening; use WaitRoutingTable to wait for the DHT. ctx is
// not retained: construction does not block on the network.
//
// A public node (Options.Public) serves the DHT and relays (relay.go).
// Another server serves the DHT unless it is not publicly reachable (kad-dht
// ModeAutoServer: AutoNAT's verdict, or natted), holds relay reservations
// when it is not, and hole-punches (punch.go).
func NewServer(ctx context.Context, o Options) (*Node, error) {
	n, listen, key, err := newNode(o, true)
	if err != nil {
		return nil, err
	}
	rm, err := serverResources()
	if err != nil {
		n.cancel()
		return nil, err
	}
	if n.announce, err = parseAnnounce(n.opts.Announce); err != nil {
		n.cancel()
		return nil, err
	}
	// libp2p's default connection manager, watched for the routing table
	// (rtWatch), and by an agent's node for the relays it holds.
	cm, err := basicconnmgr.NewConnManager(160, 192)
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("peers: connection manager: %w", err)
	}
	n.rtAdded = newRTSignal()
	watched := rtWatch{ConnManager: cm, s: n.rtAdded}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ResourceManager(rm),
		libp2p.ListenAddrs(listen...),
		libp2p.Transport(tcpTransport(&n.refusals)),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.DefaultSecurity,
		libp2p.DefaultMuxers,
		libp2p.DisableMetrics(),
		libp2p.WithDialTimeout(n.opts.DialTimeout),
		libp2p.EnableRelay(),
		libp2p.AddrsFactory(n.advertised),
	}
	mode := dht.ModeServer
	if n.opts.Public {
		opts = append(opts, publicOptions(n.opts.Relay, n.announce)...)
		opts = append(opts, libp2p.ConnectionManager(watched))
	} else {
		mode = dht.ModeAutoServer
		n.hostReady = make(chan struct{})
		n.natted = n.opts.BehindNAT || natted(listen, n.bootstrap)
		n.addrsChanged = make(chan struct{}, 1)
		n.relays = &reservations{ConnManager: watched, changed: n.relaysChanged}
		opts = append(opts, n.agentOptions()...)
		opts = append(opts,
			libp2p.ConnectionManager(n.relays),
			libp2p.WithFxOption(fx.Invoke(func(o bhost.ObservedAddrsManager) { n.observed = o })),
		)
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("peers: start host: %w", err)
	}
	n.h = h
	h.Network().Notify(&network.NotifyBundle{DisconnectedF: n.forgetUsage})
	if n.relays != nil {
		close(n.hostReady)
		n.relays.host.Store(&h)
		if err := n.startPunching(); err != nil {
			n.cancel()
			h.Close()
			return nil, err
		}
	}
	d, err := n.newDHT(mode)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("peers: start dht: %w", err)
	}
	n.dht = d
	sub, err := h.EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("peers: subscribe: %w", err)
	}
	// The node is not closed yet: spawn cannot fail.
	_ = n.spawn(func() { n.connectBootstrap(n.ctx) })
	_ = n.spawn(func() { n.republishLoop(d, sub) })
	if n.opts.MDNS {
		if err := n.startMDNS(); err != nil {
			n.Close()
			return nil, fmt.Errorf("peers: start mdns: %w", err)
		}
	}
	return n, nil
}

// relaysChanged asks for the record to be published again.
func (n *Node) relaysChanged() {
	select {
	case n.addrsChanged <- struct{}{}:
	default:
	}
}

// NewClient makes the host of a one-shot command: it does not listen, dials
// TCP, QUIC and relay addresses, uses no resource or connection manager
// (rtWatch only observes), and creates a DHT (client mode) only when a
// lookup needs it. ctx is not retained.
//
// QUIC and the relay transport cost about 0.6 ms of the 2.5 ms it takes to
// make and close the host (QUIC's TLS certificate most of it), but an agent
// may be reachable only through them, and transports cannot be chosen once
// the host is made.
func NewClient(ctx context.Context, o Options) (*Node, error) {
	n, _, key, err := newNode(o, false)
	if err != nil {
		return nil, err
	}
	n.rtAdded = newRTSignal()
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.NoListenAddrs,
		libp2p.Transport(tcpTransport(&n.refusals)),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.DefaultMuxers,
		libp2p.EnableRelay(), // dial /p2p-circuit addresses; no service
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.ConnectionManager(rtWatch{ConnManager: &connmgr.NullConnMgr{}, s: n.rtAdded}),
		libp2p.DisableMetrics(),
		libp2p.Ping(false),
		libp2p.WithDialTimeout(n.opts.DialTimeout),
	)
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("peers: start host: %w", err)
	}
	n.h = h
	h.Network().Notify(&network.NotifyBundle{DisconnectedF: n.forgetUsage})
	return n, nil
}

// newNode checks the options and makes a Node without its host: the
// parsed listen addresses (a server's) and the host key come with it.
func newNode(o Options, server bool) (*Node, []multiaddr.Multiaddr, crypto.PrivKey, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, nil, nil, err
	}
	boot, err := parseBootstrap(o.Bootstrap)
	if err != nil {
		return nil, nil, nil, err
	}
	var listen []multiaddr.Multiaddr
	if server {
		for _, s := range o.Listen {
			a, err := ParseAddr(s)
			if err != nil {
				return nil, nil, nil, err
			}
			listen = append(listen, a)
		}
	}
	key, err := hostKey(o.Identity)
	if err != nil {
		return nil, nil, nil, err
	}
	n := &Node{id: o.Identity, opts: o, server: server, bootstrap: boot}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, listen, key, nil
}

func hostKey(id *keys.Identity) (crypto.PrivKey, error) {
	// The host keeps this copy for its lifetime (crypto.Ed25519PrivateKey
	// wraps a 64-byte key without copying it), so it is not zeroed here.
	k, err := crypto.UnmarshalEd25519PrivateKey(id.PrivateKey())
	if err != nil {
		return nil, fmt.Errorf("peers: host key: %w", err)
	}
	return k, nil
}

// parseBootstrap parses bootstrap multiaddrs (each with /p2p/<peer ID>),
// merging addresses of the same peer. Errors wrap ErrBadAddress.
func parseBootstrap(ss []string) ([]peer.AddrInfo, error) {
	var addrs []multiaddr.Multiaddr
	for _, s := range ss {
		a, err := ParseAddr(s)
		if err != nil {
			return nil, err
		}
		if _, err := peer.IDFromP2PAddr(a); err != nil {
			return nil, fmt.Errorf("peers: %w bootstrap %q: needs /p2p/<peer ID> at the end", ErrBadAddress, s)
		}
		addrs = append(addrs, a)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		return nil, fmt.Errorf("peers: %w bootstrap: %v", ErrBadAddress, err)
	}
	return infos, nil
}

// serverResources is libp2p's default resource manager (with its limits for
// its own services: relay, hole punching, AutoNAT) with room for bursts of
// one-shot commands from one agent (perPeerConns) and for the agents behind
// one NAT (perIPConns).
func serverResources() (network.ResourceManager, error) {
	defaults := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&defaults)
	limits := rcmgr.PartialLimitConfig{
		PeerDefault: rcmgr.ResourceLimits{Conns: perPeerConns, ConnsInbound: perPeerConns, FD: perPeerConns},
	}.Build(defaults.AutoScale())
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits), rcmgr.WithLimitPerSubnet(
		[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 32, ConnCount: perIPConns}},
		[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 56, ConnCount: perIPConns}, {PrefixLength: 48, ConnCount: 8 * perIPConns}},
	))
	if err != nil {
		return nil, fmt.Errorf("peers: resource manager: %w", err)
	}
	return rm, nil
}
