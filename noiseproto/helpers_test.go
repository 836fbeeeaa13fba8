package noiseproto

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/flynn/noise"
	"golang.org/x/crypto/curve25519"

	"github.com/n2n-dev/n2n/keys"
)

// stockDH is flynn/noise's own DH25519 (golang.org/x/crypto/curve25519,
// which parses the private key before every DH), given the other methods of
// dhFunc.
type stockDH struct{ noise.DHFunc }

func newStockDH() dhFunc { return stockDH{noise.DH25519} }

func (stockDH) keypair(priv []byte) (noise.DHKey, error) {
	pub, err := curve25519.X25519(priv, curve25519.Basepoint)
	return noise.DHKey{Private: priv, Public: pub}, err
}

func (stockDH) static(st *Static) (noise.DHKey, error) {
	priv, pub, _, err := st.use()
	return noise.DHKey{Private: priv, Public: pub}, err
}

func (stockDH) zero() {}

// newOwnDH is this package's DH function, dh25519 (crypto/ecdh, each private
// key parsed once).
func newOwnDH() dhFunc { return newDH25519() }

// identity is a fixed identity: seed = 32 bytes of b.
func identity(t testing.TB, b byte) *keys.Identity {
	t.Helper()
	id, err := keys.FromSeed(bytes.Repeat([]byte{b}, keys.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// mustX25519 is the X25519 form of the agent key k.
func mustX25519(t testing.TB, k keys.PublicKey) []byte {
	t.Helper()
	x, err := k.X25519()
	if err != nil {
		t.Fatal(err)
	}
	return x[:]
}

// mustStatic is NewStatic(id).
func mustStatic(t testing.TB, id *keys.Identity) *Static {
	t.Helper()
	st, err := NewStatic(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// isZero reports whether b is all zeros.
func isZero(b []byte) bool { return bytes.Equal(b, make([]byte, len(b))) }

// rw is an io.ReadWriter of separate halves, swappable between calls.
type rw struct {
	io.Reader
	io.Writer
}

// recorder copies everything written through it.
type recorder struct {
	io.ReadWriter
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.out.Write(p)
	r.mu.Unlock()
	return r.ReadWriter.Write(p)
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.out.Bytes())
}

type result struct {
	s   *Session
	err error
}

// handshakePair runs Initiate (cfgI, dialling remote, over a) and Accept
// (cfgR, over b) concurrently.
func handshakePair(a, b io.ReadWriter, cfgI, cfgR Config, remote keys.PublicKey, dhI, dhR dhFunc) (result, result) {
	acc := make(chan result, 1)
	go func() {
		s, err := accept(b, cfgR, dhR)
		acc <- result{s, err}
	}()
	s, err := initiate(a, cfgI, remote, dhI)
	return result{s, err}, <-acc
}

// sessionPair is a completed handshake between two fixed identities over
// net.Pipe; the ends are wrapped in rw so tests can swap them afterwards.
func sessionPair(t testing.TB, dhI, dhR dhFunc, maxFrame int) (ini, resp *Session, a, b *rw) {
	t.Helper()
	ca, cb := net.Pipe()
	t.Cleanup(func() { ca.Close(); cb.Close() })
	a, b = &rw{ca, ca}, &rw{cb, cb}
	i, r := identity(t, 1), identity(t, 2)
	ri, rr := handshakePair(a, b,
		Config{Local: i, MaxFrame: maxFrame}, Config{Local: r, MaxFrame: maxFrame},
		r.Public(), dhI, dhR)
	if ri.err != nil || rr.err != nil {
		t.Fatalf("handshake: initiator %v, responder %v", ri.err, rr.err)
	}
	return ri.s, rr.s, a, b
}

// pattern is n bytes that differ between frames and positions.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7+i>>8) ^ seed
	}
	return p
}

// wire is msg as sent: 2-byte big-endian length, then msg.
func wire(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = append(out, byte(len(m)>>8), byte(len(m)))
		out = append(out, m...)
	}
	return out
}

// splitWire splits a recorded stream back into messages.
func splitWire(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var msgs [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			t.Fatalf("stray byte in stream")
		}
		n := int(b[0])<<8 | int(b[1])
		if len(b) < 2+n {
			t.Fatalf("truncated message in stream")
		}
		msgs = append(msgs, b[2:2+n])
		b = b[2+n:]
	}
	return msgs
}
