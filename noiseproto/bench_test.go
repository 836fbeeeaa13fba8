package noiseproto

import (
	"net"
	"testing"
)

// BenchmarkHandshake is one whole IK handshake, both sides, over net.Pipe.
// "own": this package's DH (dh25519: crypto/ecdh, each private key parsed
// once), each side deriving its static key from Config.Local; "stock": the
// same with flynn/noise's DH25519, which parses the private key before every
// DH; "own-static": this package's DH with static keys made once by
// NewStatic, as rpc's client and daemon run it.
func BenchmarkHandshake(b *testing.B) {
	for _, dh := range []struct {
		name string
		new  func() dhFunc
	}{{"own", newOwnDH}, {"stock", newStockDH}} {
		b.Run(dh.name, func(b *testing.B) {
			ini, resp := identity(b, 1), identity(b, 2)
			cfgI, cfgR := Config{Local: ini}, Config{Local: resp}
			b.ReportAllocs()
			for b.Loop() {
				ca, cb := net.Pipe()
				ri, rr := handshakePair(ca, cb, cfgI, cfgR, resp.Public(), dh.new(), dh.new())
				if ri.err != nil || rr.err != nil {
					b.Fatal(ri.err, rr.err)
				}
				ca.Close()
				cb.Close()
			}
		})
	}
	b.Run("own-static", func(b *testing.B) {
		ini, resp := identity(b, 1), identity(b, 2)
		cfgI, cfgR := Config{Static: mustStatic(b, ini)}, Config{Static: mustStatic(b, resp)}
		b.ReportAllocs()
		for b.Loop() {
			ca, cb := net.Pipe()
			ri, rr := handshakePair(ca, cb, cfgI, cfgR, resp.Public(), newOwnDH(), newOwnDH())
			if ri.err != nil || rr.err != nil {
				b.Fatal(ri.err, rr.err)
			}
			ca.Close()
			cb.Close()
		}
	})
}

// BenchmarkFrame is one frame written by one session and read by its peer.
func BenchmarkFrame(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"100B", 100}, {"1MiB", 1 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			ini, res, _, _ := sessionPair(b, newOwnDH(), newOwnDH(), 0)
			p := pattern(size.n, 1)
			done := make(chan error, 1)
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			b.ResetTimer()
			go func() {
				for range b.N {
					if _, err := res.ReadFrame(); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			for range b.N {
				if err := ini.WriteFrame(p); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		})
	}
}
