package peers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
)

// lookupTimeout bounds one DHT lookup (record and FindPeer together).
const lookupTimeout = 30 * time.Second

// Source is the resolution step that connected.
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
// DefaultTTL, unless it came from book and the entry is still fresh (see
// AddrBook.confirm). Errors wrap ErrUnreachable, except for a cancelled ctx
// (context.Canceled) and ErrSelf.
func (n *Node) Connect(ctx context.Context, agent keys.PublicKey, book *AddrBook) (Source, error) {
	_, src, err := n.Resolve(ctx, agent, book)
	return src, err
}

// Resolve is Connect that also returns the addresses the successful step
// produced: those of the live connections, the address book's, or those of
// the DHT lookup that connected first (the agent record's or FindPeer's).
func (n *Node) Resolve(ctx context.Context, agent keys.PublicKey, book *AddrBook) ([]multiaddr.Multiaddr, Source, error) {
	addrs, src, err := n.resolve(ctx, agent, book)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			err = fmt.Errorf("peers: connect %s: %w", agent, ctx.Err()) // interrupted, not unreachable
		}
		return nil, SourceNone, err
	}
	return addrs, src, nil
}

func (n *Node) resolve(ctx context.Context, agent keys.PublicKey, book *AddrBook) ([]multiaddr.Multiaddr, Source, error) {
	if agent == n.id.Public() {
		return nil, SourceNone, fmt.Errorf("peers: connect %s: %w", agent, ErrSelf)
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
			stepBegins(ctx, SourceAddrBook)
			err := n.dial(ctx, pid, addrs)
			if err == nil {
				n.remember(book, agent, pid, SourceAddrBook)
				return addrs, SourceAddrBook, nil
			}
			errs = append(errs, fmt.Errorf("address book: %w", err))
		}
	}

	stepBegins(ctx, SourceDHT)
	d, err := n.routing(ctx)
	if err != nil {
		reason := ReasonFailed
		if errors.Is(err, ErrUnreachable) {
			reason = ReasonNoPeers
		}
		errs = append(errs, &UnreachableError{Reason: reason, Err: fmt.Errorf("dht: %w", err)})
		return nil, SourceNone, combine(agent, errs)
	}
	addrs, err := n.lookup(ctx, d, agent, pid)
	if err != nil {
		return nil, SourceNone, combine(agent, append(errs, fmt.Errorf("dht: %w", err)))
	}
	n.remember(book, agent, pid, SourceDHT)
	return addrs, SourceDHT, nil
}

// remember writes the addresses of the live connections to book, which
// found them (src). What came from the book is written only if the entry
// needs it (AddrBook.confirm).
func (n *Node) remember(book *AddrBook, agent keys.PublicKey, pid peer.ID, src Source) {
	if book == nil {
		return
	}
	addrs := n.connAddrs(pid)
	if len(addrs) == 0 {
		return
	}
	// A failure to write is not a failure to connect.
	if src == SourceAddrBook {
		_, _ = book.confirm(agent, addrs, DefaultTTL)
	} else {
		_ = book.add(agent, addrs, DefaultTTL, true)
	}
}

// lookup asks the DHT for agent's record and runs FindPeer at the same
// time. Each dials the addresses it finds as soon as it has them, and the
// first to connect wins: the other is cancelled, and lookup returns the
// addresses that connected. The record is used only once verified
// (validRecord); a forged or stale one at worst costs a failed dial, and a
// connection is only ever made to pid, which the transport authenticates.
func (n *Node) lookup(ctx context.Context, d *dht.IpfsDHT, agent keys.PublicKey, pid peer.ID) ([]multiaddr.Multiaddr, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	type result struct {
		addrs []multiaddr.Multiaddr
		err   error
	}
	// The loser winds down in the background once cancelled (Close waits
	// for it): waiting here would add a few hundred microseconds.
	results := make(chan result, 2)
	err := n.spawn(func() {
		addrs, err := n.viaRecord(ctx, d, agent, pid)
		results <- result{addrs, err}
	})
	if err != nil {
		return nil, err
	}
	if err := n.spawn(func() {
		addrs, err := n.viaFindPeer(ctx, d, pid)
		results <- result{addrs, err}
	}); err != nil {
		results <- result{nil, err}
	}
	var errs []error
	for range 2 {
		r := <-results
		if r.err == nil {
			cancel()
			return r.addrs, nil
		}
		errs = append(errs, r.err)
	}
	return nil, errors.Join(errs...)
}

// viaRecord looks agent's record up and dials its addresses as soon as a
// valid record arrives. The search goes on meanwhile, and each better
// (higher Seq) record it still finds is dialled too, so a stale record with
// silent addresses does not hold up a good one.
func (n *Node) viaRecord(ctx context.Context, d *dht.IpfsDHT, agent keys.PublicKey, pid peer.ID) ([]multiaddr.Multiaddr, error) {
	key := RecordKey(agent)
	// Quorum: stop after a few answers instead of walking to the end.
	vals, err := d.SearchValue(ctx, key, dht.Quorum(3))
	if err != nil {
		return nil, fmt.Errorf("record: %w", lookupFailure(err))
	}
	type dialed struct {
		addrs []multiaddr.Multiaddr
		err   error
	}
	dials := make(chan dialed)
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { // stop the dials still running
		close(done)
		cancel()
		wg.Wait()
	}()
	var errs []error
	found, pending := false, 0
	for vals != nil || pending > 0 {
		select {
		case v, ok := <-vals:
			if !ok {
				vals = nil
				continue
			}
			r, err := validRecord(key, v) // never use an unverified record
			if err != nil {
				errs = append(errs, fmt.Errorf("record: %w", err))
				continue
			}
			found = true
			if len(r.Addrs) == 0 {
				continue
			}
			pending++
			wg.Go(func() {
				err := n.dial(dctx, pid, r.Addrs)
				select {
				case dials <- dialed{r.Addrs, err}:
				case <-done:
				}
			})
		case dl := <-dials:
			pending--
			if dl.err == nil {
				return dl.addrs, nil
			}
			errs = append(errs, fmt.Errorf("record: %w", dl.err))
		}
	}
	switch {
	case ctx.Err() != nil:
		errs = append(errs, fmt.Errorf("record: %w", lookupFailure(ctx.Err())))
	case !found:
		errs = append(errs, fmt.Errorf("record: %w", lookupFailure(routing.ErrNotFound)))
	case len(errs) == 0:
		errs = append(errs, fmt.Errorf("record: %w", lookupFailure(errors.New("no addresses in it"))))
	}
	return nil, errors.Join(errs...)
}

// viaFindPeer runs FindPeer and dials what it finds. FindPeer stops once
// connected to pid, so the dial is mostly already done.
func (n *Node) viaFindPeer(ctx context.Context, d *dht.IpfsDHT, pid peer.ID) ([]multiaddr.Multiaddr, error) {
	ai, err := d.FindPeer(ctx, pid)
	if err != nil {
		ue := lookupFailure(err)
		if errors.Is(err, kb.ErrLookupFailure) { // an empty routing table
			ue.Reason = ReasonNoPeers
		}
		return nil, fmt.Errorf("find peer: %w", ue)
	}
	if len(ai.Addrs) == 0 {
		return nil, fmt.Errorf("find peer: %w", lookupFailure(errors.New("no addresses")))
	}
	if err := n.dial(ctx, pid, ai.Addrs); err != nil {
		return nil, fmt.Errorf("find peer: %w", err)
	}
	return ai.Addrs, nil
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
