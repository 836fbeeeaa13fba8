package noiseproto

import (
	"bytes"
	"crypto/rand"
	"io"

	"github.com/flynn/noise"
)

// dhFunc is a Noise DH function that can also make the key pair of a given
// private key (the local static key, which comes from the agent identity).
type dhFunc interface {
	noise.DHFunc
	// keypair returns the key pair of priv. The pair's Private is priv itself,
	// not a copy, so that zeroing priv zeroes the pair.
	keypair(priv []byte) (noise.DHKey, error)
	// static returns the key pair of st, with a private key of the
	// handshake's own (zeroing it leaves st alone). With peer (the
	// initiator's responder), the DH of st with peer may come from, and goes
	// to, what st remembers.
	static(st *Static, peer []byte) (noise.DHKey, error)
}

// dh25519 is the Noise "25519" DH function (X25519, RFC 7748). It computes
// what noise.DH25519 computes, and is named the same, so the two
// interoperate, at less cost: a public key is one fixed-base multiplication
// (x25519Base) where noise.DH25519 runs a Montgomery ladder, and a DH is one
// ladder (x25519) where noise.DH25519 runs two (curve25519.X25519 parses the
// private key with crypto/ecdh, which derives its public key, before every
// DH).
//
// A dh25519 serves one handshake.
type dh25519 struct {
	baseMults int // fixed-base multiplications (public keys made), for tests
	dhs       int // variable-base multiplications (DHs computed, not remembered), for tests

	// An initiator with a Static: the DH of the static private key (the
	// handshake's copy, known by identity) with the responder's static key
	// is ss's, which st remembers.
	st     *Static
	stPriv []byte
	stPeer []byte
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

func (d *dh25519) static(st *Static, peer []byte) (noise.DHKey, error) {
	priv, pub, err := st.use()
	if err != nil {
		return noise.DHKey{}, err
	}
	if len(peer) == dhLen {
		d.st, d.stPriv, d.stPeer = st, priv, peer
	}
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
	ss := d.st != nil && sameSlice(priv, d.stPriv) && bytes.Equal(pub, d.stPeer)
	if ss {
		if out, ok := d.st.rememberedDH(pub); ok {
			return out, nil
		}
	}
	out, err := x25519(priv, pub)
	if err != nil {
		return nil, err
	}
	d.dhs++
	if ss {
		d.st.rememberDH(pub, out)
	}
	return out, nil
}

// sameSlice reports whether a and b are the same non-empty slice.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
