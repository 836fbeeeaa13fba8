package noiseproto

import (
	"crypto/subtle"
	"errors"

	"filippo.io/edwards25519"
	fe "filippo.io/edwards25519/field"
)

// errLowOrder is X25519's all-zero output: the peer's public key is a point
// of small order, whose DH is the same for every private key.
var errLowOrder = errors.New("noiseproto: X25519 with a low-order point")

// x25519Base is X25519(priv, 9), the public key of priv, by a fixed-base
// multiplication on the Edwards form of the curve, whose base point maps to
// u = 9: precomputed tables make it cost about half the Montgomery ladder
// crypto/ecdh runs. The clamped scalar is reduced modulo the order ℓ of the
// base point, which changes nothing, and is never a multiple of ℓ (it is a
// multiple of 8 below 2²⁵⁵ < 8ℓ, and ℓ is an odd prime), so the result is
// never the identity. It is constant-time in priv, and zeroes its copy of
// the scalar.
func x25519Base(priv []byte) ([]byte, error) {
	s, err := edwards25519.NewScalar().SetBytesWithClamping(priv)
	if err != nil {
		return nil, err
	}
	var p edwards25519.Point
	out := p.ScalarBaseMult(s).BytesMontgomery()
	*s = edwards25519.Scalar{}
	p = edwards25519.Point{}
	return out, nil
}

// x25519 sets out to X25519(priv, pub) (RFC 7748, section 5): the
// Montgomery ladder crypto/ecdh runs, step for step, on
// filippo.io/edwards25519's copy of the same field arithmetic; constant-time
// in priv. It fails, as crypto/ecdh does, when the result is all zeros (pub
// is of small order). Unlike crypto/ecdh it needs no parsed private key,
// whose making costs a second ladder (for a public key that a handshake
// already has), and it zeroes its copy of the scalar and the ladder's state
// before it returns.
func x25519(out *[dhLen]byte, priv, pub []byte) error {
	if len(priv) != dhLen || len(pub) != dhLen {
		return errors.New("noiseproto: X25519: bad key length")
	}
	var e [dhLen]byte
	copy(e[:], priv)
	e[0] &= 248
	e[31] &= 127
	e[31] |= 64

	var x1, x2, z2, x3, z3, t0, t1 fe.Element
	if _, err := x1.SetBytes(pub); err != nil {
		return err
	}
	x2.One()
	x3.Set(&x1)
	z3.One()

	swap := 0
	for pos := 254; pos >= 0; pos-- {
		b := int(e[pos/8]>>uint(pos&7)) & 1
		swap ^= b
		x2.Swap(&x3, swap)
		z2.Swap(&z3, swap)
		swap = b

		t0.Subtract(&x3, &z3)
		t1.Subtract(&x2, &z2)
		x2.Add(&x2, &z2)
		z2.Add(&x3, &z3)
		z3.Multiply(&t0, &x2)
		z2.Multiply(&z2, &t1)
		t0.Square(&t1)
		t1.Square(&x2)
		x3.Add(&z3, &z2)
		z2.Subtract(&z3, &z2)
		x2.Multiply(&t1, &t0)
		t1.Subtract(&t1, &t0)
		z2.Square(&z2)

		z3.Mult32(&t1, 121666)
		x3.Square(&x3)
		t0.Add(&t0, &z3)
		z3.Multiply(&x1, &z2)
		z2.Multiply(&t1, &t0)
	}
	x2.Swap(&x3, swap)
	z2.Swap(&z3, swap)

	z2.Invert(&z2)
	x2.Multiply(&x2, &z2)
	copy(out[:], x2.Bytes())

	clear(e[:])
	x2, z2, x3, z3, t0, t1 = fe.Element{}, fe.Element{}, fe.Element{}, fe.Element{}, fe.Element{}, fe.Element{}
	if subtle.ConstantTimeCompare(out[:], make([]byte, dhLen)) == 1 {
		return errLowOrder
	}
	return nil
}
