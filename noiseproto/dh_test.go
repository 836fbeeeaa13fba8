package noiseproto

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/flynn/noise"

	"github.com/n2n-dev/n2n/keys"
)

func mustX25519(t testing.TB, k keys.PublicKey) []byte {
	t.Helper()
	x, err := k.X25519()
	if err != nil {
		t.Fatal(err)
	}
	return x[:]
}

// TestDHMatchesStock: same randomness, same key pairs; same DH outputs, in
// both directions; the same refusal of a low-order point.
func TestDHMatchesStock(t *testing.T) {
	for range 50 {
		seedA, seedB := make([]byte, 32), make([]byte, 32)
		rand.Read(seedA)
		rand.Read(seedB)
		ours := newDH25519()
		a, err := ours.GenerateKeypair(bytes.NewReader(seedA))
		if err != nil {
			t.Fatal(err)
		}
		b, err := noise.DH25519.GenerateKeypair(bytes.NewReader(seedB))
		if err != nil {
			t.Fatal(err)
		}
		stockA, _ := noise.DH25519.GenerateKeypair(bytes.NewReader(seedA))
		if !bytes.Equal(a.Public, stockA.Public) || !bytes.Equal(a.Private, stockA.Private) {
			t.Fatal("GenerateKeypair differs from noise.DH25519 for the same randomness")
		}
		ab, err := ours.DH(a.Private, b.Public)
		if err != nil {
			t.Fatal(err)
		}
		ba, err := noise.DH25519.DH(b.Private, a.Public)
		if err != nil {
			t.Fatal(err)
		}
		// A private key ours did not make: parsed on the spot.
		ba2, err := ours.DH(b.Private, a.Public)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ab, ba) || !bytes.Equal(ba, ba2) || len(ab) != 32 {
			t.Fatal("DH differs from noise.DH25519")
		}
	}
	lowOrder := make([]byte, 32) // the point 0
	priv := make([]byte, 32)
	priv[0] = 1
	if _, err := newDH25519().DH(priv, lowOrder); err == nil {
		t.Fatal("DH accepted a low-order point")
	}
	if _, err := noise.DH25519.DH(priv, lowOrder); err == nil {
		t.Fatal("noise.DH25519 accepted a low-order point (the test's premise)")
	}
	if d := newDH25519(); d.DHName() != noise.DH25519.DHName() || d.DHLen() != noise.DH25519.DHLen() {
		t.Fatal("name or length differs from noise.DH25519")
	}
}

// TestOneScalarMultPerDH: a whole handshake parses each side's private keys
// once (static, ephemeral), not once per DH.
func TestOneScalarMultPerDH(t *testing.T) {
	dhI, dhR := newDH25519(), newDH25519()
	sessionPair(t, dhI, dhR, 0)
	if dhI.parses != 2 || dhR.parses != 2 {
		t.Fatalf("private keys parsed: initiator %d, responder %d; want 2 each", dhI.parses, dhR.parses)
	}
}
