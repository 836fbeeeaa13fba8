package peers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/n2n-dev/n2n/keys"
)

// Protocol constants.
const (
	// ProtocolID is the libp2p protocol of n2n sessions (DESIGN §6).
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
	// lookupTimeout bounds one DHT lookup (record and FindPeer together).
	lookupTimeout = 30 * time.Second
	// publishTimeout bounds one background publish.
	publishTimeout = 30 * time.Second
	// closeTimeout bounds Close.
	closeTimeout = 5 * time.Second
	// pollInterval is how often the routing table is looked at while
	// waiting for it to fill, on a host that does not signal additions to
	// it (a server).
	pollInterval = time.Millisecond
	// signalledPoll is that period on a host that signals them (a client),
	// in case a signal is ever missed.
	signalledPoll = 10 * time.Millisecond
	// clientAlpha is the lookup concurrency of a client's DHT: Kademlia's
	// classic 3 rather than kad-dht's 10. A one-shot client pays for every
	// new connection a lookup opens (dial, security and muxer handshakes,
	// identify); across 50 local servers a lookup takes about half as long
	// with 3 (2 to 4 are alike) as with 10. Servers keep the default.
	clientAlpha = 3
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

	// mdnsService replaces MDNSService (tests isolate themselves from any
	// other n2n server on the link with it).
	mdnsService string
}

// Errors for callers to map to exit codes.
var (
	// ErrUnreachable: the agent was not resolved, or none of its addresses
	// could be dialled.
	ErrUnreachable = errors.New("unreachable")
	// ErrWrongPeer: an address answered, but with another agent's key (the
	// transport handshake did not authenticate the agent asked for).
	ErrWrongPeer = errors.New("another agent answered at that address")
	// ErrSelf: the agent is this node's own.
	ErrSelf = errors.New("that is this node's own agent")
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("node closed")
)

// Node is a libp2p host with its DHT. Safe for concurrent use.
type Node struct {
	h         host.Host
	id        *keys.Identity
	opts      Options
	server    bool
	bootstrap []peer.AddrInfo

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

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

	rtAdded *rtSignal // nil on a server; see rtWatch
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

// NewServer starts the host of `n2n serve`: it listens (TCP and QUIC), runs
// a DHT server, connects to the bootstrap peers in the background, and
// publishes the agent record once the routing table has a peer, then every
// Options.Republish and whenever its addresses change. With Options.MDNS it
// also advertises itself over mDNS and connects to the servers it finds
// there; it fails if mDNS cannot start (no usable multicast interface). It
// returns once listening; use WaitRoutingTable to wait for the DHT. ctx is
// not retained: construction does not block on the network.
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
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.ResourceManager(rm),
		libp2p.ListenAddrs(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.DefaultSecurity,
		libp2p.DefaultMuxers,
		libp2p.DisableMetrics(),
		libp2p.WithDialTimeout(n.opts.DialTimeout),
		libp2p.EnableRelay(),
		libp2p.EnableRelayService(),
		libp2p.EnableHolePunching(),
		libp2p.EnableNATService(),
		libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates),
	)
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("peers: start host: %w", err)
	}
	n.h = h
	d, err := n.newDHT(dht.ModeServer)
	if err != nil {
		n.cancel()
		h.Close()
		return nil, fmt.Errorf("peers: start dht: %w", err)
	}
	n.dht = d
	sub, err := h.EventBus().Subscribe(new(event.EvtLocalAddressesUpdated))
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("peers: subscribe: %w", err)
	}
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		n.connectBootstrap(n.ctx)
	}()
	go n.republishLoop(d, sub)
	if n.opts.MDNS {
		// After the DHT: it adds the peers mDNS connects once identified.
		n.mdns = mdns.NewMdnsService(h, n.opts.mdnsService, mdnsNotifee{n})
		if err := n.mdns.Start(); err != nil {
			n.Close()
			return nil, fmt.Errorf("peers: start mdns: %w", err)
		}
	}
	return n, nil
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
	n.dhtMu.Lock()
	if n.closed {
		n.dhtMu.Unlock()
		return
	}
	n.wg.Add(1) // under dhtMu, so never after Close started waiting
	n.dhtMu.Unlock()
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, n.opts.DialTimeout)
		defer cancel()
		_ = n.h.Connect(ctx, ai) // retried only when reported again
	}()
}

// perPeerConns is how many connections one agent may hold to a server at
// once: each one-shot command of an agent brings its own connection (with
// the same peer ID), and libp2p's default of 8 refuses the ninth of a burst
// of parallel calls.
const perPeerConns = 256

// serverResources is libp2p's default resource manager with room for bursts
// of one-shot commands from one agent.
func serverResources() (network.ResourceManager, error) {
	limits := rcmgr.PartialLimitConfig{
		PeerDefault: rcmgr.ResourceLimits{Conns: perPeerConns, ConnsInbound: perPeerConns, FD: perPeerConns},
	}.Build(rcmgr.DefaultLimits.AutoScale())
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		return nil, fmt.Errorf("peers: resource manager: %w", err)
	}
	return rm, nil
}

// NewClient makes the host of a one-shot command: it does not listen, dials
// TCP, QUIC and relay addresses, uses no resource or connection manager
// (rtWatch only observes), and creates a DHT (client mode) only when a
// lookup needs it. ctx is not retained.
//
// QUIC and the relay transport cost about 0.6 ms of the 2.5 ms it takes to
// make and close the host (QUIC's TLS certificate most of it), but an agent
// may be reachable only over QUIC or through a relay, and transports cannot
// be chosen after the host is made without rebuilding what libp2p.New does.
func NewClient(ctx context.Context, o Options) (*Node, error) {
	n, _, key, err := newNode(o, false)
	if err != nil {
		return nil, err
	}
	n.rtAdded = newRTSignal()
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.NoListenAddrs,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.DefaultMuxers,
		libp2p.EnableRelay(), // dial /p2p-circuit addresses; no service
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.ConnectionManager(rtWatch{s: n.rtAdded}),
		libp2p.DisableMetrics(),
		libp2p.Ping(false),
		libp2p.WithDialTimeout(n.opts.DialTimeout),
	)
	if err != nil {
		n.cancel()
		return nil, fmt.Errorf("peers: start host: %w", err)
	}
	n.h = h
	return n, nil
}

func (n *Node) newDHT(mode dht.ModeOpt) (*dht.IpfsDHT, error) {
	opts := []dht.Option{
		dht.Mode(mode),
		dht.ProtocolPrefix(DHTPrefix),
		dht.Validator(record.NamespacedValidator{RecordNamespace: Validator{}}),
		dht.DisableProviders(),
	}
	if len(n.bootstrap) > 0 {
		opts = append(opts, dht.BootstrapPeers(n.bootstrap...))
	}
	if mode == dht.ModeClient {
		opts = append(opts, dht.DisableAutoRefresh(), dht.Concurrency(clientAlpha))
	}
	return dht.New(n.h, opts...)
}

// connectBootstrap dials every bootstrap peer at once and returns how many
// connected.
func (n *Node) connectBootstrap(ctx context.Context) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for _, ai := range n.bootstrap {
		if ai.ID == n.h.ID() {
			continue
		}
		wg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, n.opts.DialTimeout)
			defer cancel()
			if n.h.Connect(dctx, ai) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return ok
}

// currentDHT is the DHT if there is one yet.
func (n *Node) currentDHT() *dht.IpfsDHT {
	n.dhtMu.Lock()
	defer n.dhtMu.Unlock()
	return n.dht
}

// routing returns the DHT, creating a client-mode one on first use and
// waiting until its routing table has a peer. The bootstrap peers are
// dialled at once in the background, and the wait ends with the first of
// them to enter the routing table: a silent one holds nothing up.
func (n *Node) routing(ctx context.Context) (*dht.IpfsDHT, error) {
	n.dhtMu.Lock()
	if n.closed {
		n.dhtMu.Unlock()
		return nil, ErrClosed
	}
	d, created := n.dht, false
	if d == nil {
		if len(n.bootstrap) == 0 {
			n.dhtMu.Unlock()
			return nil, fmt.Errorf("%w: no bootstrap peers for a DHT lookup", ErrUnreachable)
		}
		var err error
		if d, err = n.newDHT(dht.ModeClient); err != nil {
			n.dhtMu.Unlock()
			return nil, fmt.Errorf("start dht: %w", err)
		}
		n.dht, created = d, true
	}
	n.dhtMu.Unlock()
	if d.RoutingTable().Size() > 0 {
		return d, nil
	}
	var booted <-chan error // the bootstrap dials' outcome; nil if none started
	alone := len(n.h.Network().Peers()) == 0
	if alone || created {
		if alone && len(n.bootstrap) == 0 {
			return nil, fmt.Errorf("%w: no DHT peers and no bootstrap peers to ask", ErrUnreachable)
		}
		var err error
		if booted, err = n.connectBootstrapAsync(alone); err != nil {
			return nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, n.opts.DialTimeout)
	defer cancel()
	if err := n.waitRT(wctx, d, 1, booted); err != nil {
		if errors.Is(err, ErrUnreachable) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: no DHT peer answered: %v", ErrUnreachable, err)
	}
	return d, nil
}

// connectBootstrapAsync runs connectBootstrap in the background, bounded by
// the node's life. Once every bootstrap peer was tried, the channel it
// returns gets an error wrapping ErrUnreachable if none connected and
// needOne is set, nil otherwise.
func (n *Node) connectBootstrapAsync(needOne bool) (<-chan error, error) {
	ch := make(chan error, 1)
	err := n.spawn(func() {
		var err error
		if n.connectBootstrap(n.ctx) == 0 && needOne {
			err = fmt.Errorf("%w: no bootstrap peer could be reached", ErrUnreachable)
		}
		ch <- err
	})
	return ch, err
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

// waitRT blocks until d's routing table holds at least min peers, ctx ends,
// or fail (if not nil) yields an error; a nil from fail is ignored. A client
// host signals each peer the table takes in (rtWatch); a server's table is
// polled every pollInterval.
func (n *Node) waitRT(ctx context.Context, d *dht.IpfsDHT, min int, fail <-chan error) error {
	poll := pollInterval
	var added <-chan struct{}
	if n.rtAdded != nil {
		poll = signalledPoll
	}
	var t *time.Ticker
	for {
		if n.rtAdded != nil {
			added = n.rtAdded.next() // before looking: no addition is missed
		}
		if d.RoutingTable().Size() >= min {
			return nil
		}
		if t == nil {
			t = time.NewTicker(poll)
			defer t.Stop()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-added:
		case <-t.C:
		case err := <-fail:
			if err != nil {
				return err
			}
			fail = nil
		}
	}
}

// rtSignal wakes every goroutine waiting for the next signal.
type rtSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newRTSignal() *rtSignal { return &rtSignal{ch: make(chan struct{})} }

// next is closed at the next signal after the call.
func (s *rtSignal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *rtSignal) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.ch)
	s.ch = make(chan struct{})
}

// rtWatch is a client host's connection manager: none (NullConnMgr), except
// that it signals whenever a peer is tagged or protected. kad-dht has no
// event for a peer entering its routing table, but it tags or protects
// every such peer in the host's connection manager (its RoutingTable's
// PeerAdded), so a wait for the table wakes at once instead of at the next
// tick. Other tags only cause a spurious wake-up.
type rtWatch struct {
	connmgr.NullConnMgr
	s *rtSignal
}

// TagPeer implements connmgr.ConnManager.
func (w rtWatch) TagPeer(peer.ID, string, int) { w.s.signal() }

// Protect implements connmgr.ConnManager.
func (w rtWatch) Protect(peer.ID, string) { w.s.signal() }

// WaitRoutingTable blocks until the DHT routing table holds at least min
// peers, or ctx ends. A client's DHT is created (and bootstrapped) here if
// it did not exist yet.
func (n *Node) WaitRoutingTable(ctx context.Context, min int) error {
	d := n.currentDHT()
	if d == nil {
		var err error
		if d, err = n.routing(ctx); err != nil {
			return fmt.Errorf("peers: wait for DHT: %w", err)
		}
	}
	if err := n.waitRT(ctx, d, min, nil); err != nil {
		return fmt.Errorf("peers: wait for DHT: %d of %d peers: %w", d.RoutingTable().Size(), min, err)
	}
	return nil
}

// relayCandidates feeds AutoRelay with DHT peers.
func (n *Node) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo, max(num, 0))
	defer close(ch)
	d := n.currentDHT()
	if d == nil {
		return ch
	}
	for _, p := range d.RoutingTable().ListPeers() {
		if len(ch) == cap(ch) {
			break
		}
		ch <- n.h.Peerstore().PeerInfo(p)
	}
	return ch
}

func (n *Node) republishLoop(d *dht.IpfsDHT, sub event.Subscription) {
	defer n.wg.Done()
	defer sub.Close()
	check := time.NewTicker(time.Second)
	defer check.Stop()
	period := time.NewTicker(n.opts.Republish)
	defer period.Stop()
	due := true
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-sub.Out():
			due = true
		case <-period.C:
			due = true
		case <-check.C:
		}
		if due && d.RoutingTable().Size() > 0 {
			ctx, cancel := context.WithTimeout(n.ctx, publishTimeout)
			due = n.PublishRecord(ctx) != nil
			cancel()
		}
	}
}

// recordAddrs are the addresses put in the agent record: the host's
// addresses, loopback ones only if there is nothing else.
func (n *Node) recordAddrs() []multiaddr.Multiaddr {
	all := n.h.Addrs()
	var out []multiaddr.Multiaddr
	for _, a := range all {
		if !manet.IsIPLoopback(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = all
	}
	return out
}

// PublishRecord signs a fresh agent record with the node's current
// addresses and puts it in the DHT. Servers only.
func (n *Node) PublishRecord(ctx context.Context) error {
	d := n.currentDHT()
	if !n.server || d == nil {
		return errors.New("peers: publish: only a server publishes its record")
	}
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	err := n.publish(ctx, d)
	n.lastPub, n.lastPubErr = time.Now(), err
	return err
}

func (n *Node) publish(ctx context.Context, d *dht.IpfsDHT) error {
	addrs := n.recordAddrs()
	if len(addrs) == 0 {
		return errors.New("peers: publish: no addresses")
	}
	n.seq = max(uint64(time.Now().UnixMicro()), n.seq+1)
	r, err := SignRecord(n.id, addrs, n.seq)
	if err != nil {
		return fmt.Errorf("peers: publish: %w", err)
	}
	v, err := r.Encode()
	if err != nil {
		return fmt.Errorf("peers: publish: %w", err)
	}
	if err := d.PutValue(ctx, RecordKey(n.id.Public()), v); err != nil {
		return fmt.Errorf("peers: publish: %w", err)
	}
	return nil
}

// LastPublish is when the agent record was last published, and the error of
// that attempt (zero time if never tried).
func (n *Node) LastPublish() (time.Time, error) {
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	return n.lastPub, n.lastPubErr
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

// peerIDOf is agent's libp2p peer ID.
func peerIDOf(agent keys.PublicKey) peer.ID { return peer.ID(agent.PeerIDBytes()) }

// agentOfPeer extracts the Ed25519 agent key from a peer ID.
func agentOfPeer(p peer.ID) (keys.PublicKey, error) {
	pub, err := p.ExtractPublicKey()
	if err != nil {
		return keys.PublicKey{}, err
	}
	return agentOfKey(pub)
}

func agentOfKey(pub crypto.PubKey) (keys.PublicKey, error) {
	var k keys.PublicKey
	if pub == nil || pub.Type() != crypto.Ed25519 {
		return k, errors.New("peers: remote key is not Ed25519")
	}
	raw, err := pub.Raw()
	if err != nil || len(raw) != len(k) {
		return k, errors.New("peers: remote key is not Ed25519")
	}
	copy(k[:], raw)
	return k, nil
}
