package inproc

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/bench/internal/floor"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

const loopback = "/ip4/127.0.0.1/tcp/0"

var payload100 = bytes.Repeat([]byte("0123456789"), 10)

func newID(b testing.TB) *keys.Identity {
	id, err := keys.Generate()
	if err != nil {
		b.Fatal(err)
	}
	return id
}

func bctx(b testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	b.Cleanup(cancel)
	return ctx
}

// n2nPair is a callee daemon (daemon.Daemon on a peers server node, with a
// home) and a caller (rpc.Client on a peers client node) connected over
// 127.0.0.1: what `n2n serve` on both sides holds once warm.
type n2nPair struct {
	client *rpc.Client
	callee keys.PublicKey
}

func newN2NPair(b testing.TB, fns map[string]string) *n2nPair {
	ctx := bctx(b)
	home := b.TempDir()
	id := newID(b)
	c, err := chain.Init(ctx, home, id, chain.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	srv, err := peers.NewServer(ctx, peers.Options{Identity: id, Listen: []string{loopback}, DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	d := daemon.New(c, srv, daemon.NewFunctions(home, fns, 64, []string{"PATH=/usr/bin:/bin"}))
	// P4 stores b.N messages from one sender: room for all of them (what is
	// measured is storing, not the quota that refuses past it).
	d.Quotas.InboxMessages, d.Quotas.SenderMessages = 1<<30, 1<<30
	d.Quotas.InboxBytes, d.Quotas.SenderBytes = 1<<40, 1<<40
	dctx, stop := context.WithCancel(context.Background())
	d.Start(dctx)
	b.Cleanup(func() { stop(); d.Wait() })

	cid := newID(b)
	cli, err := peers.NewClient(ctx, peers.Options{Identity: cid, DialTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cli.Close() })
	book := &peers.AddrBook{Store: &peers.MemStore{}}
	for _, s := range srv.Addrs() {
		a, err := peers.ParseAddr(s)
		if err != nil {
			b.Fatal(err)
		}
		if err := book.Add(id.Public(), []multiaddr.Multiaddr{a}, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	ep := &rpc.Endpoint{ID: cid, Node: cli, Book: book}
	b.Cleanup(ep.Close)
	p := &n2nPair{client: ep.Client(5*time.Second, 30*time.Second), callee: id.Public()}
	p.do(b, rpc.KindPing, "", payload100) // connect: the session is warm from here on
	return p
}

// do makes one request and checks it was answered ok.
func (p *n2nPair) do(b testing.TB, kind rpc.Kind, fn string, payload []byte) rpc.Response {
	resp, _, err := p.client.Do(context.Background(), p.callee, &rpc.Request{Kind: kind, Function: fn, Payload: payload})
	if err != nil {
		b.Fatal(err)
	}
	if resp.Status != rpc.StatusOK {
		b.Fatalf("status %s: %s", resp.Status, resp.Error)
	}
	return resp
}

// rawPair is two plain libp2p hosts (the floor's: TCP, libp2p Noise, yamux)
// with one open stream, the server side running serve on it.
func rawPair(b testing.TB, serve func(network.Stream)) network.Stream {
	ctx := bctx(b)
	srv, err := floor.NewServerHost(newID(b), loopback)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	srv.SetStreamHandler("/bench/raw/1.0.0", func(s network.Stream) {
		defer s.Close()
		serve(s)
	})
	cli, err := floor.NewClientHost(newID(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cli.Close() })
	if err := cli.Connect(ctx, peer.AddrInfo{ID: srv.ID(), Addrs: srv.Addrs()}); err != nil {
		b.Fatal(err)
	}
	st, err := cli.NewStream(ctx, srv.ID(), "/bench/raw/1.0.0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Reset() })
	return st
}

// echo100 answers each 100-byte message with itself.
func echo100(s network.Stream) {
	buf := make([]byte, len(payload100))
	for {
		if _, err := io.ReadFull(s, buf); err != nil {
			return
		}
		if _, err := s.Write(buf); err != nil {
			return
		}
	}
}

// BenchmarkP3RoundTrip: one 100 B request and its answer on a warm
// session. n2n: rpc.Client.Do of a ping carrying 100 B to a daemon.Daemon, on
// the session the client keeps with it (plain CBOR request in a Noise
// transport message, response; the handler is not run); n2n-send-cat: the
// same as a send to a `receive=cat` function, which adds the handler
// process. raw: a 100 B echo on an open libp2p stream.
func BenchmarkP3RoundTrip(b *testing.B) {
	b.Run("n2n", func(b *testing.B) {
		p := newN2NPair(b, nil)
		for b.Loop() {
			p.do(b, rpc.KindPing, "", payload100)
		}
	})
	b.Run("n2n-send-cat", func(b *testing.B) {
		p := newN2NPair(b, map[string]string{"receive": "cat"})
		for b.Loop() {
			if r := p.do(b, rpc.KindSend, "", payload100); !bytes.Equal(r.Payload, payload100) {
				b.Fatalf("reply %q", r.Payload)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		st := rawPair(b, echo100)
		buf := make([]byte, len(payload100))
		for b.Loop() {
			if _, err := st.Write(payload100); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(st, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// pipeline sends n requests made by req on p's session the way send --lines
// does: in order from one goroutine, up to window waiting for their answer
// at once, every answer checked.
func (p *n2nPair) pipeline(b *testing.B, n, window int, req func() *rpc.Request) {
	calls := make(chan *rpc.Call, window)
	done := make(chan error, 1)
	go func() {
		var failed error
		for c := range calls {
			resp, _, err := c.Wait()
			if err == nil {
				err = resp.Err()
			}
			if failed == nil {
				failed = err
			}
		}
		done <- failed
	}()
	ctx := context.Background()
	for range n {
		calls <- p.client.Go(ctx, p.callee, req())
	}
	close(calls)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkP4Messages: 100 B messages, every one acknowledged, as many per
// second as the layer allows. n2n: what `send --lines` does, in process:
// sends to the daemon's inbox (each message stored, then acknowledged by its
// receipt) pipelined on one session, 256 awaiting their receipt at once;
// n2n-ping: the same with pings, which store nothing. raw: one libp2p
// stream, the sender writing messages back to back while the receiver
// acknowledges each with one byte.
func BenchmarkP4Messages(b *testing.B) {
	b.Run("n2n", func(b *testing.B) {
		p := newN2NPair(b, nil)
		b.ResetTimer()
		p.pipeline(b, b.N, 1024, func() *rpc.Request { return &rpc.Request{Kind: rpc.KindSend, Payload: payload100} })
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("n2n-ping", func(b *testing.B) {
		p := newN2NPair(b, nil)
		b.ResetTimer()
		p.pipeline(b, b.N, 256, func() *rpc.Request { return &rpc.Request{Kind: rpc.KindPing, Payload: payload100} })
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("raw", func(b *testing.B) {
		st := rawPair(b, func(s network.Stream) {
			r := bufio.NewReaderSize(s, 64<<10)
			w := bufio.NewWriterSize(s, 4<<10)
			buf := make([]byte, len(payload100))
			for {
				if _, err := io.ReadFull(r, buf); err != nil {
					return
				}
				w.WriteByte(1)
				if r.Buffered() < len(buf) { // nothing more queued: send the acks
					if w.Flush() != nil {
						return
					}
				}
			}
		})
		b.ResetTimer()
		done := make(chan error, 1)
		go func() {
			w := bufio.NewWriterSize(st, 64<<10)
			for range b.N {
				if _, err := w.Write(payload100); err != nil {
					done <- err
					return
				}
			}
			done <- w.Flush()
		}()
		acks := make([]byte, 64<<10)
		for got := 0; got < b.N; {
			n, err := st.Read(acks[:min(len(acks), b.N-got)])
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkP5Throughput: 1 MiB per request, acknowledged. n2n: a ping
// carrying 1 MiB on the session the client keeps (the answer is empty). raw:
// 1 MiB written on an open libp2p stream, answered by one byte.
func BenchmarkP5Throughput(b *testing.B) {
	mib := bytes.Repeat([]byte{0xa5}, 1<<20)
	b.Run("n2n", func(b *testing.B) {
		p := newN2NPair(b, nil)
		b.SetBytes(int64(len(mib)))
		for b.Loop() {
			p.do(b, rpc.KindPing, "", mib)
		}
	})
	b.Run("raw", func(b *testing.B) {
		st := rawPair(b, func(s network.Stream) {
			buf := make([]byte, len(mib))
			for {
				if _, err := io.ReadFull(s, buf); err != nil {
					return
				}
				if _, err := s.Write([]byte{1}); err != nil {
					return
				}
			}
		})
		ack := make([]byte, 1)
		b.SetBytes(int64(len(mib)))
		for b.Loop() {
			if _, err := st.Write(mib); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(st, ack); err != nil {
				b.Fatal(err)
			}
		}
	})
}
