package keys

import (
	"crypto/rand"
	"crypto/sha512"

	"filippo.io/edwards25519"
)

// VerifyBatch reports whether each sigs[i] is k's Ed25519 signature of
// msgs[i]. For the many signatures of one chain (one key) it is several
// times faster than a Verify per signature: one multi-scalar multiplication
// checks a random linear combination of all the verification equations.
//
// It uses the cofactored equation, which accepts every signature Verify
// accepts; a signature that only it accepts can be made only with the
// private key. A false result says only that at least one signature is bad:
// Verify each to find which.
func (k PublicKey) VerifyBatch(msgs, sigs [][]byte) bool {
	n := len(msgs)
	if n != len(sigs) {
		return false
	}
	if n == 0 {
		return true
	}
	A, err := new(edwards25519.Point).SetBytes(k[:])
	if err != nil {
		return false
	}
	// z_i: independent random 128-bit multipliers.
	zs := make([]byte, 16*n)
	if _, err := rand.Read(zs); err != nil {
		return false
	}
	scalars := make([]*edwards25519.Scalar, 0, n+2)
	points := make([]*edwards25519.Point, 0, n+2)
	sumS := edwards25519.NewScalar() // Σ z_i·s_i
	sumK := edwards25519.NewScalar() // Σ z_i·k_i
	var wide [64]byte
	for i, sig := range sigs {
		if len(sig) != 64 {
			return false
		}
		R, err := new(edwards25519.Point).SetBytes(sig[:32])
		if err != nil {
			return false
		}
		s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
		if err != nil {
			return false
		}
		h := sha512.New()
		h.Write(sig[:32])
		h.Write(k[:])
		h.Write(msgs[i])
		ki, _ := new(edwards25519.Scalar).SetUniformBytes(h.Sum(wide[:0]))
		clear(wide[:])
		copy(wide[:16], zs[16*i:])
		z, _ := new(edwards25519.Scalar).SetUniformBytes(wide[:])
		sumS.MultiplyAdd(z, s, sumS)
		sumK.MultiplyAdd(z, ki, sumK)
		scalars = append(scalars, z)
		points = append(points, R)
	}
	// [8]·(Σ z_i·R_i + (Σ z_i·k_i)·A − (Σ z_i·s_i)·B) must be the identity.
	scalars = append(scalars, sumK, edwards25519.NewScalar().Negate(sumS))
	points = append(points, A, edwards25519.NewGeneratorPoint())
	v := new(edwards25519.Point).VarTimeMultiScalarMult(scalars, points)
	v.MultByCofactor(v)
	return v.Equal(edwards25519.NewIdentityPoint()) == 1
}
