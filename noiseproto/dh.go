package noiseproto

import (
	"crypto/ecdh"
	"crypto/rand"
	"io"

	"github.com/flynn/noise"
)

// dhFunc is a Noise DH function that can also make the key pair of a given
// private key (the local static key, which comes from the agent identity),
// take the pair from a Static, and zero the DH outputs it returned.
type dhFunc interface {
	noise.DHFunc
	// keypair returns the key pair of priv. The pair's Private is priv itself,
	// not a copy, so that zeroing priv zeroes the pair.
	keypair(priv []byte) (noise.DHKey, error)
	// static returns the key pair of st, with a private key of the
	// handshake's own (zeroing it leaves st alone).
	static(st *Static) (noise.DHKey, error)
	// zero overwrites the DH outputs returned to flynn/noise, which has
	// mixed them into its chaining key and keeps no reference to them.
	zero()
}

// dh25519 is the Noise "25519" DH function (X25519, RFC 7748) on
// crypto/ecdh. It computes what noise.DH25519 computes, and is named the
// same, so the two interoperate; but it parses each private key once, when
// its key pair is made (a Static's in NewStatic), where noise.DH25519
// parses it, a base-point multiplication, before every DH.
//
// A dh25519 serves one handshake. It knows that handshake's private keys by
// the identity of the slices it handed to flynn/noise, which passes the same
// slices back to DH; any other private key is parsed on each call.
type dh25519 struct {
	parsed []parsedKey // the handshake's static and ephemeral keys
	parses int         // private keys parsed (base-point multiplications), for tests
	dhs    int         // DHs computed, for tests
	outs   [][]byte    // DH outputs returned, zeroed by zero
}

// parsedKey is a private key as flynn/noise holds it (raw) and parsed.
type parsedKey struct {
	raw []byte
	key *ecdh.PrivateKey
}

func newDH25519() *dh25519 { return &dh25519{parsed: make([]parsedKey, 0, 2)} }

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

func (d *dh25519) keypair(priv []byte) (noise.DHKey, error) {
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		return noise.DHKey{}, err
	}
	d.parses++
	d.parsed = append(d.parsed, parsedKey{raw: priv, key: k})
	return noise.DHKey{Private: priv, Public: k.PublicKey().Bytes()}, nil
}

func (d *dh25519) static(st *Static) (noise.DHKey, error) {
	priv, pub, key, err := st.use()
	if err != nil {
		return noise.DHKey{}, err
	}
	d.parsed = append(d.parsed, parsedKey{raw: priv, key: key})
	return noise.DHKey{Private: priv, Public: pub}, nil
}

// DH is X25519(priv, pub). Like noise.DH25519 it fails when the result is
// all zeros (pub is a low-order point).
func (d *dh25519) DH(priv, pub []byte) ([]byte, error) {
	k := d.lookup(priv)
	if k == nil {
		var err error
		if k, err = ecdh.X25519().NewPrivateKey(priv); err != nil {
			return nil, err
		}
		d.parses++
	}
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	out, err := k.ECDH(p)
	if err != nil {
		return nil, err
	}
	d.dhs++
	d.outs = append(d.outs, out)
	return out, nil
}

func (d *dh25519) lookup(priv []byte) *ecdh.PrivateKey {
	for _, p := range d.parsed {
		if sameSlice(priv, p.raw) {
			return p.key
		}
	}
	return nil
}

func (d *dh25519) zero() {
	for _, out := range d.outs {
		clear(out)
	}
	d.outs, d.parsed = nil, nil
}

// sameSlice reports whether a and b are the same non-empty slice.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
