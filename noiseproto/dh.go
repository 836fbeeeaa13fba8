package noiseproto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"

	"github.com/flynn/noise"
)

// dhFunc is a Noise DH function that can also make the key pair of a given
// private key (the local static key, which comes from the agent identity),
// and that serves one handshake, which tells it how that handshake went.
type dhFunc interface {
	noise.DHFunc
	// keypair returns the key pair of priv. The pair's Private is priv itself,
	// not a copy, so that zeroing priv zeroes the pair.
	keypair(priv []byte) (noise.DHKey, error)
	// static returns the key pair of st, with a private key of the
	// handshake's own (zeroing it leaves st alone). DHs of that private key
	// may then come from what st remembers.
	static(st *Static) (noise.DHKey, error)
	// authenticated says the handshake has proved that the peer holds the
	// static key peer: the DH with it, if this handshake computed it, goes
	// to the Static.
	authenticated(peer []byte)
	// refused says the responder refuses message 1: each DH taken from the
	// Static is computed now, so that the refusal takes as long as if none
	// had been remembered.
	refused()
	// zero overwrites the DH outputs returned to flynn/noise, which has
	// mixed them into its chaining key and keeps no reference to them.
	zero()
}

// dh25519 is the Noise "25519" DH function (X25519, RFC 7748). It computes
// what noise.DH25519 computes, and is named the same, so the two
// interoperate, at less cost: a public key is one fixed-base multiplication
// (x25519Base) where noise.DH25519 runs a Montgomery ladder, and a DH is one
// ladder (x25519) where noise.DH25519 runs two (curve25519.X25519 parses the
// private key with crypto/ecdh, which derives its public key, before every
// DH).
//
// A dh25519 serves one handshake. With a Static, it takes a DH of the
// static private key (the handshake's copy, known by the identity of the
// slice flynn/noise passes back) with a key the Static remembers from the
// Static, and gives the Static the static-static DH ("ss") once the peer
// has authenticated: see Static for when that is, and why refused exists.
type dh25519 struct {
	baseMults int // fixed-base multiplications (public keys made), for tests
	dhs       int // variable-base multiplications (DHs computed, not taken from the Static), for tests

	st     *Static
	stPriv []byte
	taken  [][dhLen]byte // public keys whose DH with stPriv came from st
	made   []staticDH    // DHs with stPriv computed here

	// The DH outputs returned, zeroed by zero: a handshake's four in outs,
	// any more (none in IK) on the heap.
	outs  [4][dhLen]byte
	nOuts int
	extra [][]byte
}

// staticDH is X25519(static private key, pub) = outs[out].
type staticDH struct {
	pub [dhLen]byte
	out int
}

func newDH25519() *dh25519 { return &dh25519{} }

func (*dh25519) DHName() string { return "25519" }
func (*dh25519) DHLen() int     { return dhLen }

// GenerateKeypair reads a 32-byte private key from random (nil: crypto/rand),
// as noise.DH25519 does, so that injected randomness gives the same keys.
func (d *dh25519) GenerateKeypair(random io.Reader) (noise.DHKey, error) {
	if random == nil {
		random = rand.Reader
	}
	priv := make([]byte, dhLen)
	if _, err := io.ReadFull(random, priv); err != nil {
		return noise.DHKey{}, err
	}
	kp, err := d.keypair(priv)
	if err != nil {
		clear(priv)
	}
	return kp, err
}

func (d *dh25519) static(st *Static) (noise.DHKey, error) {
	priv, pub, err := st.use()
	if err != nil {
		return noise.DHKey{}, err
	}
	d.st, d.stPriv = st, priv
	return noise.DHKey{Private: priv, Public: pub}, nil
}

func (d *dh25519) keypair(priv []byte) (noise.DHKey, error) {
	pub, err := x25519Base(priv)
	if err != nil {
		return noise.DHKey{}, err
	}
	d.baseMults++
	return noise.DHKey{Private: priv, Public: pub}, nil
}

// DH is X25519(priv, pub). Like noise.DH25519 it fails when the result is
// all zeros (pub is a low-order point).
func (d *dh25519) DH(priv, pub []byte) ([]byte, error) {
	if len(pub) != dhLen {
		return nil, errors.New("noiseproto: X25519: bad key length")
	}
	static := d.st != nil && sameSlice(priv, d.stPriv)
	var out *[dhLen]byte
	if d.nOuts < len(d.outs) {
		out = &d.outs[d.nOuts]
	} else {
		out = new([dhLen]byte)
		d.extra = append(d.extra, out[:])
	}
	if static && d.st.rememberedDH(out, pub) {
		d.taken = append(d.taken, [dhLen]byte(pub))
		d.nOuts++
		return out[:], nil
	}
	if err := x25519(out, priv, pub); err != nil {
		return nil, err
	}
	d.dhs++
	if static && d.nOuts < len(d.outs) {
		d.made = append(d.made, staticDH{pub: [dhLen]byte(pub), out: d.nOuts})
	}
	d.nOuts++
	return out[:], nil
}

func (d *dh25519) authenticated(peer []byte) {
	for _, m := range d.made {
		if bytes.Equal(m.pub[:], peer) {
			d.st.rememberDH(m.pub[:], d.outs[m.out][:])
		}
	}
	d.taken = nil
}

func (d *dh25519) refused() {
	var out [dhLen]byte
	for _, pub := range d.taken {
		x25519(&out, d.stPriv, pub[:])
		d.dhs++
	}
	clear(out[:])
	d.taken = nil
}

func (d *dh25519) zero() {
	clear(d.outs[:])
	for _, out := range d.extra {
		clear(out)
	}
	d.made, d.taken = nil, nil
	d.st, d.stPriv = nil, nil
}

// sameSlice reports whether a and b are the same non-empty slice.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
