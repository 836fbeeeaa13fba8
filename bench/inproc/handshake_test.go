package inproc

import (
	"crypto/ecdh"
	"crypto/rand"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/flynn/noise"

	"github.com/n2n-dev/n2n/noiseproto"
)

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per operation, all threads, since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkP7Handshake: the CPU of one whole Noise IK handshake, both
// sides. n2n: noiseproto.Initiate and Accept over net.Pipe, as a session
// starts in the daemon (each side's static key pair made once with
// noiseproto.NewStatic, as rpc's client and daemon keep it). floor:
// flynn/noise's HandshakeState alone, in memory, static key pairs made once,
// with a crypto/ecdh DH ("floor") or flynn/noise's stock DH25519 ("stock").
func BenchmarkP7Handshake(b *testing.B) {
	b.Run("n2n", func(b *testing.B) {
		ini, resp := newID(b), newID(b)
		si, err := noiseproto.NewStatic(ini)
		if err != nil {
			b.Fatal(err)
		}
		sr, err := noiseproto.NewStatic(resp)
		if err != nil {
			b.Fatal(err)
		}
		cfgI, cfgR := noiseproto.Config{Static: si}, noiseproto.Config{Static: sr}
		start := cpuTime()
		for b.Loop() {
			ca, cb := net.Pipe()
			done := make(chan error, 1)
			go func() {
				s, err := noiseproto.Accept(cb, cfgR)
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			s, err := noiseproto.Initiate(ca, cfgI, resp.Public())
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			ca.Close()
			cb.Close()
		}
		reportCPU(b, start)
	})
	for _, name := range []string{"floor", "stock"} {
		b.Run(name, func(b *testing.B) {
			// A fresh DH per handshake, as each side has its own; the floor's
			// remembers the parsed static keys, as a daemon parses its own once.
			dh := func(static ...noise.DHKey) noise.DHFunc {
				if name == "stock" {
					return noise.DH25519
				}
				d := &ecdhDH{parsed: map[string]*ecdh.PrivateKey{}}
				for _, k := range static {
					d.DH(k.Private, k.Public)
				}
				return d
			}
			suite := func(fn noise.DHFunc) noise.CipherSuite {
				return noise.NewCipherSuite(fn, noise.CipherChaChaPoly, noise.HashBLAKE2s)
			}
			si, _ := suite(dh()).GenerateKeypair(rand.Reader)
			sr, _ := suite(dh()).GenerateKeypair(rand.Reader)
			key := make([]byte, 32)
			start := cpuTime()
			for b.Loop() {
				hi, err := noise.NewHandshakeState(noise.Config{CipherSuite: suite(dh(si)), Pattern: noise.HandshakeIK, Initiator: true,
					Prologue: []byte("n2n/1"), StaticKeypair: si, PeerStatic: sr.Public})
				if err != nil {
					b.Fatal(err)
				}
				hr, err := noise.NewHandshakeState(noise.Config{CipherSuite: suite(dh(sr)), Pattern: noise.HandshakeIK,
					Prologue: []byte("n2n/1"), StaticKeypair: sr})
				if err != nil {
					b.Fatal(err)
				}
				m1, _, _, err := hi.WriteMessage(nil, key)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, _, err := hr.ReadMessage(nil, m1); err != nil {
					b.Fatal(err)
				}
				m2, _, _, err := hr.WriteMessage(nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, c1, _, err := hi.ReadMessage(nil, m2); err != nil || c1 == nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// ecdhDH is Noise's 25519 DH on crypto/ecdh that parses each private key
// once (the stock one parses it, a base-point multiplication, on every DH).
type ecdhDH struct{ parsed map[string]*ecdh.PrivateKey }

func (*ecdhDH) DHName() string { return "25519" }
func (*ecdhDH) DHLen() int     { return 32 }

func (d *ecdhDH) GenerateKeypair(r io.Reader) (noise.DHKey, error) {
	if r == nil {
		r = rand.Reader
	}
	k, err := ecdh.X25519().GenerateKey(r)
	if err != nil {
		return noise.DHKey{}, err
	}
	priv := k.Bytes()
	d.parsed[string(priv)] = k
	return noise.DHKey{Private: priv, Public: k.PublicKey().Bytes()}, nil
}

func (d *ecdhDH) DH(priv, pub []byte) ([]byte, error) {
	k, ok := d.parsed[string(priv)]
	if !ok {
		var err error
		if k, err = ecdh.X25519().NewPrivateKey(priv); err != nil {
			return nil, err
		}
		d.parsed[string(priv)] = k
	}
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return k.ECDH(p)
}
