package peers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/core/sec"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
)

// Source is the resolution step (DESIGN §7) that connected.
type Source int

// The steps, in the order they are tried.
const (
	SourceNone      Source = iota
	SourceConnected        // a live connection already existed
	SourceAddrBook         // an address from the address book
	SourceDHT              // the agent record or FindPeer in the DHT
)

func (s Source) String() string {
	switch s {
	case SourceConnected:
		return "connection"
	case SourceAddrBook:
		return "address book"
	case SourceDHT:
		return "dht"
	}
	return "none"
}

// Connect makes sure there is a connection to agent, trying in order a live
// connection, the address book (book may be nil) and the DHT, and stops at
// the first that connects. The address that worked is written to book for
// DefaultTTL. Errors wrap ErrUnreachable, except for a cancelled ctx
// (context.Canceled) and ErrSelf.
func (n *Node) Connect(ctx context.Context, agent keys.PublicKey, book *AddrBook) (Source, error) {
	_, src, err := n.Resolve(ctx, agent, book)
	return src, err
}

// Resolve is Connect that also returns the addresses the successful step
// produced: those of the live connections, the address book's, or the
// union of the agent record's and FindPeer's.
func (n *Node) Resolve(ctx context.Context, agent keys.PublicKey, book *AddrBook) ([]multiaddr.Multiaddr, Source, error) {
	addrs, src, err := n.resolve(ctx, agent, book)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			err = ctx.Err() // interrupted, not unreachable
		}
		return nil, SourceNone, fmt.Errorf("peers: connect %s: %w", agent, err)
	}
	return addrs, src, nil
}

func (n *Node) resolve(ctx context.Context, agent keys.PublicKey, book *AddrBook) ([]multiaddr.Multiaddr, Source, error) {
	if agent == n.id.Public() {
		return nil, SourceNone, ErrSelf
	}
	pid := peerIDOf(agent)
	if addrs := n.connAddrs(pid); len(addrs) > 0 {
		return addrs, SourceConnected, nil
	}
	// An explicit request dials again what failed before in this process:
	// the swarm's backoff (5 s and more after a failure) is meant for
	// background redials, not for a user who just started the peer.
	n.clearBackoff(pid)

	var errs []error
	if book != nil {
		addrs, err := book.Lookup(agent)
		if err != nil {
			errs = append(errs, err)
		}
		if len(addrs) > 0 {
			err := n.dial(ctx, pid, addrs)
			if err == nil {
				n.remember(book, agent, pid)
				return addrs, SourceAddrBook, nil
			}
			errs = append(errs, fmt.Errorf("address book: %w", err))
		}
	}

	d, err := n.routing(ctx)
	if err != nil {
		return nil, SourceNone, stepErrors(append(errs, fmt.Errorf("dht: %w", err)))
	}
	addrs, err := n.lookup(ctx, d, agent, pid)
	if err != nil {
		return nil, SourceNone, stepErrors(append(errs, fmt.Errorf("dht: %w", err)))
	}
	if err := n.dial(ctx, pid, addrs); err != nil {
		return nil, SourceNone, stepErrors(append(errs, fmt.Errorf("dht: %w", err)))
	}
	n.remember(book, agent, pid)
	return addrs, SourceDHT, nil
}

// stepErrors joins the failures of the steps under ErrUnreachable.
func stepErrors(errs []error) error {
	err := errors.Join(errs...)
	if errors.Is(err, ErrUnreachable) || errors.Is(err, ErrWrongPeer) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
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

// dial connects to pid at addrs (and any address the peerstore already
// has), bounded by DialTimeout. A refused TCP address fails at once.
func (n *Node) dial(ctx context.Context, pid peer.ID, addrs []multiaddr.Multiaddr) error {
	ctx, cancel := context.WithTimeout(ctx, n.opts.DialTimeout)
	defer cancel()
	ctx = network.WithDialPeerTimeout(ctx, n.opts.DialTimeout)
	if err := n.h.Connect(ctx, peer.AddrInfo{ID: pid, Addrs: addrs}); err != nil {
		var mismatch sec.ErrPeerIDMismatch
		var mismatchp *sec.ErrPeerIDMismatch
		if errors.As(err, &mismatch) || errors.As(err, &mismatchp) {
			return fmt.Errorf("%w: %w", ErrWrongPeer, err)
		}
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return nil
}

// remember writes the addresses of the live connections to book.
func (n *Node) remember(book *AddrBook, agent keys.PublicKey, pid peer.ID) {
	if book == nil {
		return
	}
	if addrs := n.connAddrs(pid); len(addrs) > 0 {
		// A failure to write is not a failure to connect.
		_ = book.add(agent, addrs, DefaultTTL, true)
	}
}

// lookup asks the DHT for agent's record and runs FindPeer, at the same
// time, and returns the union of the addresses found.
func (n *Node) lookup(ctx context.Context, d *dht.IpfsDHT, agent keys.PublicKey, pid peer.ID) ([]multiaddr.Multiaddr, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var (
		wg              sync.WaitGroup
		recAddrs, found []multiaddr.Multiaddr
		recErr, findErr error
	)
	wg.Go(func() {
		r, err := findRecord(ctx, d, agent)
		if err != nil {
			recErr = err
			return
		}
		recAddrs = r.Addrs
	})
	wg.Go(func() {
		ai, err := d.FindPeer(ctx, pid)
		if err != nil {
			findErr = fmt.Errorf("find peer: %w", err)
			return
		}
		found = ai.Addrs
	})
	wg.Wait()
	addrs := unionAddrs(recAddrs, found)
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: not found: %w", ErrUnreachable, errors.Join(recErr, findErr))
	}
	return addrs, nil
}

func unionAddrs(lists ...[]multiaddr.Multiaddr) []multiaddr.Multiaddr {
	seen := map[string]bool{}
	var out []multiaddr.Multiaddr
	for _, l := range lists {
		for _, a := range l {
			if k := string(a.Bytes()); !seen[k] {
				seen[k] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// FindRecord looks agent's record up in the DHT and verifies it.
func (n *Node) FindRecord(ctx context.Context, agent keys.PublicKey) (*Record, error) {
	d, err := n.routing(ctx)
	if err != nil {
		return nil, fmt.Errorf("peers: find record of %s: %w", agent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	r, err := findRecord(ctx, d, agent)
	if err != nil {
		return nil, fmt.Errorf("peers: find %w", err)
	}
	return r, nil
}

func findRecord(ctx context.Context, d *dht.IpfsDHT, agent keys.PublicKey) (*Record, error) {
	// Quorum: stop after a few answers instead of walking to the end.
	v, err := d.GetValue(ctx, RecordKey(agent), dht.Quorum(3))
	if err != nil {
		if errors.Is(err, routing.ErrNotFound) {
			err = fmt.Errorf("%w: %w", ErrUnreachable, err)
		}
		return nil, fmt.Errorf("record: %w", err)
	}
	r, err := validRecord(RecordKey(agent), v)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return r, nil
}
