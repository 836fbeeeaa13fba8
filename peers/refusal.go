package peers

import (
	"context"
	"errors"
	"slices"
	"sync"
	"syscall"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/transport"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/p2p/transport/tcpreuse"
	"github.com/multiformats/go-multiaddr"
)

// refusals tells the dials in progress which of their addresses refused the
// connection, as it happens. libp2p says so only once every address of a
// dial has failed, and a QUIC address never does (a closed UDP port's ICMP
// answer does not reach quic-go's unconnected socket): a dial of a stopped
// daemon's TCP and QUIC addresses would wait for the dial timeout. With a
// watch (refusals.watch), a dial ends as soon as each of its addresses has
// refused, a UDP address counting as refused once a TCP address on the same
// IP has (the same host answered that nothing listens there). Relay and DNS
// addresses never count: a dial that has any waits for them. The dials of
// one peer in progress at once share a watch, as the swarm has them share
// one dial: a refusal the first saw counts for one that joins it later.
// Safe for concurrent use.
type refusals struct {
	mu      sync.Mutex
	watches map[peer.ID]*refusalWatch
}

// refusalWatch follows the dials of one peer in progress (under
// refusals.mu).
type refusalWatch struct {
	refs    int                            // dials sharing it
	pending map[string]multiaddr.Multiaddr // by netKey: addresses that have not refused
	seen    []tried                        // the refused ones, observed or inferred
	ips     map[string]bool                // IPs whose TCP addresses refused
	endless bool                           // an address that cannot refuse: never done
	done    chan struct{}                  // closed once nothing is pending
	closed  bool                           // done is closed; a new address renews it
}

// watch starts following a dial of p at addrs (every address the swarm will
// dial); done is closed once every one of them refused. stop must be called
// when the dial ends.
func (r *refusals) watch(p peer.ID, addrs []multiaddr.Multiaddr) (w *refusalWatch, done <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.watches == nil {
		r.watches = map[peer.ID]*refusalWatch{}
	}
	w = r.watches[p]
	if w == nil {
		w = &refusalWatch{pending: map[string]multiaddr.Multiaddr{}, ips: map[string]bool{}, done: make(chan struct{})}
		r.watches[p] = w
	}
	w.refs++
	direct := 0
	for _, a := range addrs {
		k, ok := netKey(a)
		switch {
		case ok:
			direct++
			w.add(k, a)
		case isCircuit(a) || isDNS(a):
			w.endless = true
		}
	}
	if direct == 0 {
		w.endless = true
	}
	w.settle()
	return w, w.done
}

// stop ends a dial's use of w and returns the addresses seen refused so far
// (all of them when w.done is closed).
func (r *refusals) stop(p peer.ID, w *refusalWatch) []tried {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w.refs--; w.refs == 0 && r.watches[p] == w {
		delete(r.watches, p)
	}
	return slices.Clone(w.seen)
}

// report: a TCP dial of p at a was refused.
func (r *refusals) report(p peer.ID, a multiaddr.Multiaddr) {
	k, ok := netKey(a)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.watches[p]; w != nil {
		w.refused(k, a)
		w.settle()
	}
}

// add follows the address a (key k), unless it already counts as refused.
func (w *refusalWatch) add(k string, a multiaddr.Multiaddr) {
	for _, t := range w.seen {
		if kt, _ := netKey(t.addr); kt == k {
			return
		}
	}
	if isUDP(a) && w.ips[ipOf(a)] {
		w.seen = append(w.seen, tried{addr: a, reason: ReasonRefused, inferred: true})
		return
	}
	if _, ok := w.pending[k]; !ok && w.closed { // an address no earlier dial had
		w.done, w.closed = make(chan struct{}), false
	}
	w.pending[k] = a
}

// refused marks the TCP address a (key k) and the UDP addresses on its IP.
func (w *refusalWatch) refused(k string, a multiaddr.Multiaddr) {
	if _, ok := w.pending[k]; !ok {
		return
	}
	delete(w.pending, k)
	w.seen = append(w.seen, tried{addr: a, reason: ReasonRefused})
	ip := ipOf(a)
	if w.ips[ip] {
		return
	}
	w.ips[ip] = true
	for pk, pa := range w.pending {
		if ipOf(pa) == ip && isUDP(pa) {
			delete(w.pending, pk)
			w.seen = append(w.seen, tried{addr: pa, reason: ReasonRefused, inferred: true})
		}
	}
}

// settle closes done once nothing is pending.
func (w *refusalWatch) settle() {
	if len(w.pending) == 0 && !w.endless && !w.closed {
		w.closed = true
		close(w.done)
	}
}

// netKey identifies a direct TCP or UDP address by transport, IP and port;
// ok is false for any other address.
func netKey(a multiaddr.Multiaddr) (string, bool) {
	if isCircuit(a) || len(a) < 2 {
		return "", false
	}
	ip, port := a[0], a[1]
	if (ip.Code() != multiaddr.P_IP4 && ip.Code() != multiaddr.P_IP6) ||
		(port.Code() != multiaddr.P_TCP && port.Code() != multiaddr.P_UDP) {
		return "", false
	}
	return port.Protocol().Name + " " + ip.Value() + " " + port.Value(), true
}

func ipOf(a multiaddr.Multiaddr) string { return a[0].Value() }

func isUDP(a multiaddr.Multiaddr) bool { return len(a) > 1 && a[1].Code() == multiaddr.P_UDP }

func isDNS(a multiaddr.Multiaddr) bool {
	if len(a) == 0 {
		return false
	}
	switch a[0].Code() {
	case multiaddr.P_DNS, multiaddr.P_DNS4, multiaddr.P_DNS6, multiaddr.P_DNSADDR:
		return true
	}
	return false
}

// refusingTCP is libp2p's TCP transport that reports refused dials.
type refusingTCP struct {
	*tcp.TcpTransport
	r *refusals
}

// tcpTransport returns a libp2p.Transport constructor of libp2p's TCP
// transport (its parameters are what libp2p injects) whose refused dials are
// reported to r.
func tcpTransport(r *refusals) func(transport.Upgrader, network.ResourceManager, *tcpreuse.ConnMgr) (*refusingTCP, error) {
	return func(up transport.Upgrader, rm network.ResourceManager, shared *tcpreuse.ConnMgr) (*refusingTCP, error) {
		t, err := tcp.NewTCPTransport(up, rm, shared)
		if err != nil {
			return nil, err
		}
		return &refusingTCP{TcpTransport: t, r: r}, nil
	}
}

// Dial implements transport.Transport.
func (t *refusingTCP) Dial(ctx context.Context, raddr multiaddr.Multiaddr, p peer.ID) (transport.CapableConn, error) {
	return t.DialWithUpdates(ctx, raddr, p, nil)
}

// DialWithUpdates implements transport.DialUpdater.
func (t *refusingTCP) DialWithUpdates(ctx context.Context, raddr multiaddr.Multiaddr, p peer.ID, updates chan<- transport.DialUpdate) (transport.CapableConn, error) {
	c, err := t.TcpTransport.DialWithUpdates(ctx, raddr, p, updates)
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
		t.r.report(p, raddr)
	}
	return c, err
}
