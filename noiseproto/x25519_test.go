package noiseproto

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"testing"
)

// x25519Slice is x25519 returning the result, as crypto/ecdh does.
func x25519Slice(priv, pub []byte) ([]byte, error) {
	var out [dhLen]byte
	if err := x25519(&out, priv, pub); err != nil {
		return nil, err
	}
	return out[:], nil
}

// ecdhX25519 is X25519(priv, pub) by crypto/ecdh, the reference.
func ecdhX25519(t testing.TB, priv, pub []byte) ([]byte, error) {
	t.Helper()
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k.ECDH(p)
}

// le is n as 32 bytes, little-endian (n < 2²⁵⁶).
func le(n *big.Int) []byte {
	b := n.FillBytes(make([]byte, dhLen))
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// edgeScalars are private keys at the edges of clamping and of the
// reduction modulo the group order ℓ that x25519Base does: zero, all ones,
// the bits clamping clears or sets, and multiples of ℓ and 2²⁵⁵ - 19 with
// their neighbours.
func edgeScalars() [][]byte {
	one := big.NewInt(1)
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	p := new(big.Int).Sub(new(big.Int).Lsh(one, 255), big.NewInt(19))
	top := new(big.Int).Lsh(one, 256)
	var ns []*big.Int
	for _, base := range []*big.Int{big.NewInt(0), l, p, new(big.Int).Lsh(one, 252), new(big.Int).Lsh(one, 254), new(big.Int).Lsh(one, 255)} {
		for m := int64(1); m <= 16; m++ {
			c := new(big.Int).Mul(base, big.NewInt(m))
			for _, d := range []int64{-8, -1, 0, 1, 7, 8} {
				ns = append(ns, new(big.Int).Add(c, big.NewInt(d)))
			}
		}
	}
	var out [][]byte
	for _, n := range ns {
		if n.Sign() >= 0 && n.Cmp(top) < 0 {
			out = append(out, le(n))
		}
	}
	out = append(out, bytes.Repeat([]byte{0xff}, dhLen), bytes.Repeat([]byte{0x07}, dhLen), bytes.Repeat([]byte{0x80}, dhLen))
	return out
}

// TestX25519BaseMatchesECDH: the fixed-base public key is the one crypto/ecdh
// derives (a ladder from u = 9), for random private keys and at the edges of
// clamping; and it is x25519 of the base point.
func TestX25519BaseMatchesECDH(t *testing.T) {
	keys := edgeScalars()
	for range 500 {
		k := make([]byte, dhLen)
		rand.Read(k)
		keys = append(keys, k)
	}
	basePoint := make([]byte, dhLen)
	basePoint[0] = 9
	for _, k := range keys {
		got, err := x25519Base(k)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ecdh.X25519().NewPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.PublicKey().Bytes()) {
			t.Fatalf("x25519Base(%x) = %x, crypto/ecdh %x", k, got, want.PublicKey().Bytes())
		}
		if ladder, err := x25519Slice(k, basePoint); err != nil || !bytes.Equal(ladder, got) {
			t.Fatalf("x25519(%x, 9) = %x, %v; x25519Base %x", k, ladder, err, got)
		}
	}
	if _, err := x25519Base(make([]byte, 31)); err == nil {
		t.Fatal("x25519Base accepted a 31-byte key")
	}
}

// TestX25519MatchesECDH: the ladder answers what crypto/ecdh answers, result
// or refusal, for random keys, random 32-byte strings as public keys (half of
// them on the twist), non-canonical and high-bit encodings, and the points of
// small order.
func TestX25519MatchesECDH(t *testing.T) {
	pubs := [][]byte{
		// Of small order: both refuse.
		make([]byte, dhLen), // 0
		le(big.NewInt(1)),
		mustHex(t, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"), // order 8
		mustHex(t, "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"), // order 8
		mustHex(t, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // p - 1, order 2
		mustHex(t, "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // p, non-canonical 0
		mustHex(t, "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // p + 1, non-canonical 1
		// Encodings the ladder reads modulo p, ignoring the top bit.
		mustHex(t, "0000000000000000000000000000000000000000000000000000000000000080"), // 0 with the high bit
		mustHex(t, "0900000000000000000000000000000000000000000000000000000000000080"), // 9 with the high bit
		bytes.Repeat([]byte{0xff}, dhLen),
	}
	for range 64 {
		p := make([]byte, dhLen)
		rand.Read(p)
		pubs = append(pubs, p)
	}
	privs := edgeScalars()
	for range 20 {
		k := make([]byte, dhLen)
		rand.Read(k)
		privs = append(privs, k)
	}
	for i, pub := range pubs {
		for j, priv := range privs {
			if i < 10 && j%5 != 0 && j%7 != 0 || i >= 10 && j%20 != 0 { // a sample of the keys, a smaller one for random points
				continue
			}
			got, err := x25519Slice(priv, pub)
			want, wantErr := ecdhX25519(t, priv, pub)
			if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
				t.Fatalf("x25519(%x, %x) = %x, %v; crypto/ecdh %x, %v", priv, pub, got, err, want, wantErr)
			}
		}
	}
	if _, err := x25519Slice(make([]byte, dhLen), make([]byte, dhLen-1)); err == nil {
		t.Fatal("x25519 accepted a 31-byte public key")
	}
	if _, err := x25519Slice(make([]byte, dhLen+1), make([]byte, dhLen)); err == nil {
		t.Fatal("x25519 accepted a 33-byte private key")
	}
}

// TestX25519RFC7748 is RFC 7748's section 5.2 and 6.1 examples.
func TestX25519RFC7748(t *testing.T) {
	for _, v := range []struct{ priv, pub, out string }{
		{"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
		{"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
		{"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
		{"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
	} {
		out, err := x25519Slice(mustHex(t, v.priv), mustHex(t, v.pub))
		if err != nil || hex.EncodeToString(out) != v.out {
			t.Fatalf("X25519(%s, %s) = %x, %v; want %s", v.priv, v.pub, out, err, v.out)
		}
	}
	// Section 6.1: the public keys.
	for priv, pub := range map[string]string{
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a": "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
		"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	} {
		if out, err := x25519Base(mustHex(t, priv)); err != nil || hex.EncodeToString(out) != pub {
			t.Fatalf("X25519(%s, 9) = %x, %v; want %s", priv, out, err, pub)
		}
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzX25519 compares the ladder and the fixed-base public key with
// crypto/ecdh on arbitrary keys.
func FuzzX25519(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, dhLen), bytes.Repeat([]byte{9}, dhLen))
	f.Add(edgeScalars()[0], make([]byte, dhLen))
	f.Fuzz(func(t *testing.T, priv, pub []byte) {
		if len(priv) != dhLen || len(pub) != dhLen {
			return
		}
		got, err := x25519Slice(priv, pub)
		want, wantErr := ecdhX25519(t, priv, pub)
		if (err == nil) != (wantErr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("x25519(%x, %x) = %x, %v; crypto/ecdh %x, %v", priv, pub, got, err, want, wantErr)
		}
		k, _ := ecdh.X25519().NewPrivateKey(priv)
		if base, err := x25519Base(priv); err != nil || !bytes.Equal(base, k.PublicKey().Bytes()) {
			t.Fatalf("x25519Base(%x) = %x, %v; crypto/ecdh %x", priv, base, err, k.PublicKey().Bytes())
		}
	})
}
