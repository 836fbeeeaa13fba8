// Command dhtlookup is the floor of a cold DHT resolve: in one process it
// starts -nodes Kademlia DHT servers (plain libp2p hosts on 127.0.0.1 with
// go-libp2p-kad-dht, no n2n layer), wired like peers.BenchmarkResolve50's
// network (node i bootstraps from node i-1 and node (7i) mod (i-1)). Then,
// -runs times after -warmup, a fresh client host with a client-mode DHT
// bootstrapped from one node finds another node with FindPeer and connects
// to it; each run, from creating the host to closing it, is timed. It prints
// one JSON object: runs, mean_ns, median_ns, p90_ns.
//
//	dhtlookup [-nodes 50] [-runs 20] [-warmup 2]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/n2n-dev/n2n/bench/internal/floor"
	"github.com/n2n-dev/n2n/keys"
)

const prefix = "/n2n-floor"

func main() {
	nodes := flag.Int("nodes", 50, "DHT servers to start")
	runs := flag.Int("runs", 20, "timed lookups")
	warmup := flag.Int("warmup", 2, "untimed lookups first")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := run(ctx, *nodes, *runs, *warmup); err != nil {
		fmt.Fprintln(os.Stderr, "dhtlookup: error:", err)
		os.Exit(1)
	}
}

type node struct {
	h host.Host
	d *dht.IpfsDHT
}

func (n node) close() { n.d.Close(); n.h.Close() }

func newDHT(h host.Host, mode dht.ModeOpt, boot []peer.AddrInfo) (*dht.IpfsDHT, error) {
	opts := []dht.Option{dht.Mode(mode), dht.ProtocolPrefix(prefix), dht.DisableProviders(), dht.DisableValues()}
	if len(boot) > 0 {
		opts = append(opts, dht.BootstrapPeers(boot...))
	}
	if mode == dht.ModeClient {
		opts = append(opts, dht.DisableAutoRefresh())
	}
	return dht.New(h, opts...)
}

func waitRT(ctx context.Context, d *dht.IpfsDHT, poll time.Duration) error {
	for d.RoutingTable().Size() < 1 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
	return nil
}

func info(h host.Host) peer.AddrInfo { return peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()} }

func run(ctx context.Context, size, runs, warmup int) error {
	var net []node
	defer func() {
		for _, n := range net {
			n.close()
		}
	}()
	for i := range size {
		id, err := keys.Generate()
		if err != nil {
			return err
		}
		h, err := floor.NewServerHost(id, "/ip4/127.0.0.1/tcp/0")
		if err != nil {
			return err
		}
		var boot []peer.AddrInfo
		if i > 0 {
			boot = append(boot, info(net[i-1].h))
		}
		if i > 1 {
			boot = append(boot, info(net[(i*7)%(i-1)].h))
		}
		d, err := newDHT(h, dht.ModeServer, boot)
		if err != nil {
			h.Close()
			return err
		}
		net = append(net, node{h, d})
		for _, b := range boot {
			if err := h.Connect(ctx, b); err != nil {
				return err
			}
		}
	}
	for i, n := range net {
		if err := waitRT(ctx, n.d, 10*time.Millisecond); err != nil {
			return fmt.Errorf("node %d: routing table: %w", i, err)
		}
	}
	// Let the servers fill their tables the way a network that has been up
	// a little while has them (each refreshes once at start).
	for _, n := range net {
		<-n.d.RefreshRoutingTable()
	}

	var times []time.Duration
	for i := range warmup + runs {
		boot := net[i%size]
		target := net[(i*17+5)%size]
		if target.h.ID() == boot.h.ID() {
			target = net[(i*17+6)%size]
		}
		start := time.Now()
		if err := lookup(ctx, info(boot.h), target.h.ID()); err != nil {
			return fmt.Errorf("lookup %d: %w", i, err)
		}
		if i >= warmup {
			times = append(times, time.Since(start))
		}
	}
	return json.NewEncoder(os.Stdout).Encode(summarise(times))
}

// lookup is one cold resolve: new host, client DHT, bootstrap, FindPeer,
// connect, close.
func lookup(ctx context.Context, boot peer.AddrInfo, target peer.ID) error {
	id, err := keys.Generate()
	if err != nil {
		return err
	}
	h, err := floor.NewClientHost(id)
	if err != nil {
		return err
	}
	defer h.Close()
	d, err := newDHT(h, dht.ModeClient, []peer.AddrInfo{boot})
	if err != nil {
		return err
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.Connect(ctx, boot); err != nil {
		return err
	}
	if err := waitRT(ctx, d, time.Millisecond); err != nil {
		return err
	}
	ai, err := d.FindPeer(ctx, target)
	if err != nil {
		return err
	}
	if len(ai.Addrs) == 0 {
		return errors.New("no addresses found")
	}
	return h.Connect(ctx, ai)
}

type summary struct {
	Runs     int   `json:"runs"`
	MeanNs   int64 `json:"mean_ns"`
	MedianNs int64 `json:"median_ns"`
	P90Ns    int64 `json:"p90_ns"`
}

func summarise(ts []time.Duration) summary {
	slices.Sort(ts)
	var sum time.Duration
	for _, t := range ts {
		sum += t
	}
	n := len(ts)
	return summary{Runs: n, MeanNs: int64(sum) / int64(n), MedianNs: int64(ts[n/2]), P90Ns: int64(ts[min(n-1, (n*9+9)/10-1)])}
}
