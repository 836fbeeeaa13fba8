package noiseproto

import (
	"bytes"
	"crypto/rand"
	"net"
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
		// A private key ours did not make.
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

// TestOneScalarMultPerDH: without Config.Static, a whole handshake costs
// each side two fixed-base multiplications (its static and ephemeral public
// keys) and one ladder per DH (es, ss, ee, se), nothing more.
func TestOneScalarMultPerDH(t *testing.T) {
	dhI, dhR := newDH25519(), newDH25519()
	sessionPair(t, dhI, dhR, 0)
	if dhI.baseMults != 2 || dhR.baseMults != 2 || dhI.dhs != 4 || dhR.dhs != 4 {
		t.Fatalf("initiator %d fixed-base, %d DHs; responder %d, %d; want 2 and 4 each", dhI.baseMults, dhI.dhs, dhR.baseMults, dhR.dhs)
	}
}

// TestStaticScalarMults: with Config.Static, a handshake makes only its
// ephemeral public key; the initiator computes ss once per responder and then
// takes it from the Static; the responder always computes it.
func TestStaticScalarMults(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	stI, stR := mustStatic(t, ini), mustStatic(t, resp)
	for round, wantI := range []int{4, 3, 3} {
		dhI, dhR := newDH25519(), newDH25519()
		ca, cb := net.Pipe()
		ri, rr := handshakePair(ca, cb, Config{Static: stI}, Config{Static: stR}, resp.Public(), dhI, dhR)
		ca.Close()
		cb.Close()
		if ri.err != nil || rr.err != nil {
			t.Fatal(ri.err, rr.err)
		}
		if dhI.baseMults != 1 || dhR.baseMults != 1 {
			t.Fatalf("round %d: fixed-base multiplications: initiator %d, responder %d; want 1 each", round, dhI.baseMults, dhR.baseMults)
		}
		if dhI.dhs != wantI || dhR.dhs != 4 {
			t.Fatalf("round %d: DHs computed: initiator %d, responder %d; want %d and 4", round, dhI.dhs, dhR.dhs, wantI)
		}
	}
	if len(stR.dhs) != 0 {
		t.Fatal("the responder's Static remembered a DH")
	}
	if len(stI.dhs) != 1 {
		t.Fatalf("the initiator's Static remembers %d DHs, want 1 (ss; not se)", len(stI.dhs))
	}
}
