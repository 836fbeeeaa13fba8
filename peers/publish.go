package peers

import (
	"context"
	"errors"
	"fmt"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Publishing constants.
const (
	// publishTimeout bounds one background publish.
	publishTimeout = 30 * time.Second
	// retryFirst is the wait before the first retry of a failed publish;
	// it doubles with each failure up to retryMax.
	retryFirst = time.Second
	retryMax   = time.Minute
)

// republishLoop publishes the agent record of a server once its routing
// table has a peer, then every Options.Republish and whenever addresses
// change (sub, and addrsChanged for the relays held), until Close. A failed
// publish is retried after retryFirst, doubling up to retryMax. While the routing table is empty the loop waits
// for a peer to enter it (rtAdded) rather than looking on a timer: a server
// alone never wakes for it.
func (n *Node) republishLoop(d *dht.IpfsDHT, sub event.Subscription) {
	defer sub.Close()
	period := time.NewTicker(n.opts.Republish)
	defer period.Stop()
	retry := time.NewTimer(retryMax)
	retry.Stop()
	backoff := retryFirst
	due := true
	for {
		var added <-chan struct{}
		if due {
			added = n.rtAdded.next() // before looking: no addition is missed
			if d.RoutingTable().Size() > 0 {
				added = nil
				ctx, cancel := context.WithTimeout(n.ctx, publishTimeout)
				err := n.PublishRecord(ctx)
				cancel()
				if due = err != nil; due {
					retry.Reset(backoff)
					backoff = min(2*backoff, retryMax)
				} else {
					retry.Stop()
					backoff = retryFirst
				}
			}
		}
		select {
		case <-n.ctx.Done():
			return
		case <-sub.Out():
			due = true
		case <-n.addrsChanged:
			due = true
		case <-period.C:
			due = true
		case <-added:
		case <-retry.C:
		}
	}
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

// LastPublish is when the agent record was last published, and the error of
// that attempt (zero time if never tried).
func (n *Node) LastPublish() (time.Time, error) {
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	return n.lastPub, n.lastPubErr
}
