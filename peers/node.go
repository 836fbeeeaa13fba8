package peers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	bhost "github.com/libp2p/go-libp2p/p2p/host/basic"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
)

// Protocol constants.
const (
	// ProtocolID is the libp2p protocol of n2n sessions (PROTOCOL.md §2).
	ProtocolID = "/n2n/1.0.0"
	// DHTPrefix is the protocol prefix of the n2n Kademlia DHT: its protocol
	// is "/n2n/kad/1.0.0", separate from the public IPFS DHT.
	DHTPrefix = "/n2n"
	// MDNSService is the mDNS service name servers advertise and browse
	// when Options.MDNS is set.
	MDNSService = "n2n"
)

// Implementation defaults.
const (
	// DefaultDialTimeout is how long a silent address is waited for.
	DefaultDialTimeout = 10 * time.Second
	// DefaultRepublish is how often a server republishes its agent record
	// (it also does when its addresses change).
	DefaultRepublish = 10 * time.Minute
	// closeTimeout bounds Close.
	closeTimeout = 5 * time.Second
)

// DefaultListen are the addresses a server listens on when Options.Listen
// is empty.
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}

// Options configure a Node.
type Options struct {
	// Identity is the agent key, which is also the libp2p host key. It must
	// stay valid (not zeroed) until Close: servers sign their record with it.
	Identity *keys.Identity
	// Listen are the multiaddrs a server listens on (default DefaultListen).
	// Ignored by NewClient.
	Listen []string
	// Bootstrap are DHT peers, multiaddrs ending in /p2p/<peer ID>.
	Bootstrap []string
	// MDNS advertises the server on the local network and connects to the
	// n2n servers found there, which thereby join the DHT routing table
	// (servers only).
	MDNS bool
	// DialTimeout bounds the dial of one set of addresses (default
	// DefaultDialTimeout). A refused address fails at once.
	DialTimeout time.Duration
	// Republish is the period of agent-record republishing (default
	// DefaultRepublish). Servers only.
	Republish time.Duration
	// Public declares a public node (serve --public): reachable at its
	// addresses (or Announce), it serves the DHT, runs its circuit relay
	// service at once with Relay's limits, whatever AutoNAT says, and
	// answers AutoNAT probes. Servers only.
	Public bool
	// Announce are the multiaddrs (without /p2p/) others should dial, in
	// place of the listen addresses: a node behind a 1:1 NAT, or on a
	// network of private addresses that others reach. Servers only.
	Announce []string
	// Relay are a public node's relay limits (default DefaultRelayLimits).
	Relay RelayLimits
	// BehindNAT makes a server that is not public take itself to be behind
	// a NAT whatever its addresses: it holds a relay reservation at once
	// and runs the DHT as a client. Unset, its addresses and its bootstrap
	// peers' decide (see NewServer).
	BehindNAT bool

	// mdnsService replaces MDNSService (tests isolate themselves from any
	// other n2n server on the link with it).
	mdnsService string
}

func (o Options) withDefaults() (Options, error) {
	if o.Identity == nil {
		return o, errors.New("peers: no identity")
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.Republish <= 0 {
		o.Republish = DefaultRepublish
	}
	if len(o.Listen) == 0 {
		o.Listen = DefaultListen
	}
	if o.mdnsService == "" {
		o.mdnsService = MDNSService
	}
	return o, nil
}

// Errors for callers to map to exit codes.
var (
	// ErrUnreachable: the agent was not resolved, or none of its addresses
	// could be dialled. Connect and Resolve say why with an
	// *UnreachableError, which matches it.
	ErrUnreachable = errors.New("unreachable")
	// ErrWrongPeer: an address answered, but with another agent's key (the
	// transport handshake did not authenticate the agent asked for).
	ErrWrongPeer = errors.New("another agent answered at that address")
	// ErrSelf: the agent is this node's own.
	ErrSelf = errors.New("that is this node's own agent")
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("node closed")
)

// Node is a libp2p host with its DHT. Safe for concurrent use. NewServer
// and NewClient (host.go) make one.
type Node struct {
	h         host.Host
	id        *keys.Identity
	opts      Options
	server    bool
	bootstrap []peer.AddrInfo

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // background work (spawn), waited for by Close

	dhtMu  sync.Mutex
	dht    *dht.IpfsDHT // nil until needed, for a client
	closed bool         // no background work may start once set

	mdns mdns.Service // nil unless Options.MDNS; set before NewServer returns

	pubMu      sync.Mutex // serialises publishes: seq order = put order
	seq        uint64
	lastPub    time.Time
	lastPubErr error

	closeOnce sync.Once
	closeErr  error

	rtAdded  *rtSignal // see rtWatch
	refusals refusals  // refused TCP dials, for the dials in progress

	// Reaching across NATs (relay.go, punch.go, path.go); servers only,
	// except usage.
	hostReady    chan struct{}              // closed once h is set, for what libp2p runs before
	natted       bool                       // takes itself to be behind a NAT
	announce     []multiaddr.Multiaddr      // Options.Announce
	relays       *reservations              // relays AutoRelay holds; nil on a public node
	addrsChanged chan struct{}              // the relays held changed: publish the record
	hps          *holepunch.Service         // nil on a public node
	observed     bhost.ObservedAddrsManager // where peers saw the host; may be nil
	punchMu      sync.Mutex
	punching     map[peer.ID]bool // peers whose hole punch is retried
	usage        sync.Map         // network.Conn → *connUsage, relayed ones
}

// spawn runs f in a goroutine that Close waits for, unless the node is
// closed (ErrClosed).
func (n *Node) spawn(f func()) error {
	n.dhtMu.Lock()
	defer n.dhtMu.Unlock()
	if n.closed {
		return ErrClosed
	}
	n.wg.Add(1) // under dhtMu, so never after Close started waiting
	go func() {
		defer n.wg.Done()
		f()
	}()
	return nil
}

// currentDHT is the DHT if there is one yet.
func (n *Node) currentDHT() *dht.IpfsDHT {
	n.dhtMu.Lock()
	defer n.dhtMu.Unlock()
	return n.dht
}

// Agent is the node's own agent key.
func (n *Node) Agent() keys.PublicKey { return n.id.Public() }

// Addrs are the node's full listen multiaddrs, each ending in /p2p/<peer
// ID>, sorted. Empty for a client.
func (n *Node) Addrs() []string {
	suffix := "/p2p/" + n.h.ID().String()
	var out []string
	for _, a := range n.h.Addrs() {
		out = append(out, a.String()+suffix)
	}
	sort.Strings(out)
	return out
}

// Public tells whether the node is a public node (Options.Public).
func (n *Node) Public() bool { return n.opts.Public }

// ConnectedAgents are the agents this node has a live connection with,
// sorted by key.
func (n *Node) ConnectedAgents() []keys.PublicKey {
	var out []keys.PublicKey
	for _, p := range n.h.Network().Peers() {
		if k, err := agentOfPeer(p); err == nil {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	return out
}

// RoutingTableSize is the number of peers in the DHT routing table (0
// without a DHT).
func (n *Node) RoutingTableSize() int {
	if d := n.currentDHT(); d != nil {
		return d.RoutingTable().Size()
	}
	return 0
}

// Close stops the background work and closes the DHT and the host, waiting
// at most a few seconds. Calling it again returns the first result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		n.dhtMu.Lock()
		n.closed = true
		d := n.dht
		n.dhtMu.Unlock()
		done := make(chan error, 1)
		go func() {
			var errs []error
			if n.mdns != nil {
				errs = append(errs, n.mdns.Close())
			}
			if n.hps != nil {
				errs = append(errs, n.hps.Close()) // ends punches in progress
			}
			n.wg.Wait()
			if d != nil {
				errs = append(errs, d.Close())
			}
			errs = append(errs, n.h.Close())
			done <- errors.Join(errs...)
		}()
		select {
		case err := <-done:
			if err != nil {
				n.closeErr = fmt.Errorf("peers: close: %w", err)
			}
		case <-time.After(closeTimeout):
			n.closeErr = fmt.Errorf("peers: close: not done after %s", closeTimeout)
		}
	})
	return n.closeErr
}
