package noiseproto

import (
	"bytes"
	"crypto/rand"
	"net"
	"testing"

	"github.com/flynn/noise"
)

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

// TestKeysParsedOnce: a handshake parses each private key once (a
// base-point multiplication: its public key) and computes each DH once (es,
// ss, ee, se). Without Config.Static a side parses its static and its
// ephemeral key; with it, only the ephemeral one (NewStatic parsed the
// static key), in every handshake.
func TestKeysParsedOnce(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	for _, tc := range []struct {
		name           string
		stI, stR       bool
		parsesI, parsR int
	}{
		{"neither", false, false, 2, 2},
		{"both", true, true, 1, 1},
		{"initiator", true, false, 1, 2},
		{"responder", false, true, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfgI, cfgR := Config{Local: ini}, Config{Local: resp}
			if tc.stI {
				cfgI = Config{Static: mustStatic(t, ini)}
			}
			if tc.stR {
				cfgR = Config{Static: mustStatic(t, resp)}
			}
			for round := range 2 {
				dhI, dhR := newDH25519(), newDH25519()
				ca, cb := net.Pipe()
				ri, rr := handshakePair(ca, cb, cfgI, cfgR, resp.Public(), dhI, dhR)
				ca.Close()
				cb.Close()
				if ri.err != nil || rr.err != nil {
					t.Fatal(ri.err, rr.err)
				}
				if dhI.parses != tc.parsesI || dhR.parses != tc.parsR {
					t.Fatalf("round %d: keys parsed: initiator %d, responder %d; want %d and %d", round, dhI.parses, dhR.parses, tc.parsesI, tc.parsR)
				}
				if dhI.dhs != 4 || dhR.dhs != 4 {
					t.Fatalf("round %d: DHs: initiator %d, responder %d; want 4 each", round, dhI.dhs, dhR.dhs)
				}
				if !bytes.Equal(ri.s.HandshakeHash(), rr.s.HandshakeHash()) {
					t.Fatalf("round %d: handshake hashes differ", round)
				}
			}
		})
	}
}

// outputsDH is dh25519 keeping every DH output it returns, to look at later.
type outputsDH struct {
	*dh25519
	outs [][]byte
}

func (d *outputsDH) DH(priv, pub []byte) ([]byte, error) {
	out, err := d.dh25519.DH(priv, pub)
	if err == nil {
		d.outs = append(d.outs, out)
	}
	return out, err
}

// TestDHOutputsZeroed: once a handshake is over, the DH outputs it handed
// to flynn/noise are zeros, with or without Statics.
func TestDHOutputsZeroed(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	for _, cfg := range []struct {
		name     string
		ini, res Config
	}{
		{"local", Config{Local: ini}, Config{Local: resp}},
		{"static", Config{Static: mustStatic(t, ini)}, Config{Static: mustStatic(t, resp)}},
	} {
		dhI, dhR := &outputsDH{dh25519: newDH25519()}, &outputsDH{dh25519: newDH25519()}
		ca, cb := net.Pipe()
		ri, rr := handshakePair(ca, cb, cfg.ini, cfg.res, resp.Public(), dhI, dhR)
		ca.Close()
		cb.Close()
		if ri.err != nil || rr.err != nil {
			t.Fatal(ri.err, rr.err)
		}
		for _, d := range []*outputsDH{dhI, dhR} {
			if len(d.outs) != 4 {
				t.Fatalf("%s: %d DH outputs, want 4", cfg.name, len(d.outs))
			}
			for _, out := range d.outs {
				if len(out) != dhLen || !isZero(out) {
					t.Fatalf("%s: a DH output survived the handshake", cfg.name)
				}
			}
		}
	}
}
