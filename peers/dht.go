package peers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	record "github.com/libp2p/go-libp2p-record"
)

// Implementation constants of the DHT.
const (
	// clientAlpha is the lookup concurrency of a client's DHT: Kademlia's
	// classic 3 rather than kad-dht's 10. A one-shot client pays for every
	// connection a lookup opens; across 50 local servers a lookup takes
	// about half as long with 3 (2 to 4 are alike) as with 10. Servers keep
	// the default.
	clientAlpha = 3
	// signalledPoll is how often the routing table is looked at while
	// waiting for it to fill, in case a signal of the host (rtWatch) is
	// ever missed.
	signalledPoll = 10 * time.Millisecond
)

// newDHT makes the n2n DHT on the node's host, in server or client mode.
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
	return dht.New(queryHost{Host: n.h, n: n}, opts...)
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

// waitRT blocks until d's routing table holds at least min peers, ctx ends,
// or fail (if not nil) yields an error; a nil from fail is ignored. The
// host signals each peer the table takes in (rtWatch).
func (n *Node) waitRT(ctx context.Context, d *dht.IpfsDHT, min int, fail <-chan error) error {
	var t *time.Ticker
	for {
		added := n.rtAdded.next() // before looking: no addition is missed
		if d.RoutingTable().Size() >= min {
			return nil
		}
		if t == nil {
			t = time.NewTicker(signalledPoll)
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
