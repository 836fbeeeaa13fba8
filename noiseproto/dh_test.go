package noiseproto

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
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
// ephemeral public key; each side with a Static computes ss the first time
// it meets the other agent and then takes it from the Static, whichever side
// the Static was on before. Both Statics remember ss alone (not es or se),
// and the same value.
func TestStaticScalarMults(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	for _, tc := range []struct {
		name       string
		stI, stR   bool
		wantI      []int // DHs computed, round by round
		wantR      []int
		baseI, bsR int // fixed-base multiplications per round
	}{
		{"both", true, true, []int{4, 3, 3}, []int{4, 3, 3}, 1, 1},
		{"initiator", true, false, []int{4, 3, 3}, []int{4, 4, 4}, 1, 2},
		{"responder", false, true, []int{4, 4, 4}, []int{4, 3, 3}, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfgI, cfgR := Config{Local: ini}, Config{Local: resp}
			if tc.stI {
				cfgI = Config{Static: mustStatic(t, ini)}
			}
			if tc.stR {
				cfgR = Config{Static: mustStatic(t, resp)}
			}
			for round := range tc.wantI {
				dhI, dhR := newDH25519(), newDH25519()
				ca, cb := net.Pipe()
				ri, rr := handshakePair(ca, cb, cfgI, cfgR, resp.Public(), dhI, dhR)
				ca.Close()
				cb.Close()
				if ri.err != nil || rr.err != nil {
					t.Fatal(ri.err, rr.err)
				}
				if dhI.baseMults != tc.baseI || dhR.baseMults != tc.bsR {
					t.Fatalf("round %d: fixed-base multiplications: initiator %d, responder %d; want %d and %d", round, dhI.baseMults, dhR.baseMults, tc.baseI, tc.bsR)
				}
				if dhI.dhs != tc.wantI[round] || dhR.dhs != tc.wantR[round] {
					t.Fatalf("round %d: DHs computed: initiator %d, responder %d; want %d and %d", round, dhI.dhs, dhR.dhs, tc.wantI[round], tc.wantR[round])
				}
				if !bytes.Equal(ri.s.HandshakeHash(), rr.s.HandshakeHash()) {
					t.Fatalf("round %d: handshake hashes differ", round)
				}
			}
			var remembered [][dhLen]byte
			for _, st := range []*Static{cfgI.Static, cfgR.Static} {
				if st == nil {
					continue
				}
				if len(st.dhs) != 1 {
					t.Fatalf("a Static remembers %d DHs, want 1 (ss; not es or se)", len(st.dhs))
				}
				for _, out := range st.dhs {
					remembered = append(remembered, out)
				}
			}
			x := ini.X25519()
			want, err := noise.DH25519.DH(x[:], mustX25519(t, resp.Public()))
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range remembered {
				if !bytes.Equal(out[:], want) {
					t.Fatal("the DH remembered is not ss")
				}
			}
		})
	}
}

// TestRefusalCostsTheSame: a responder refusing a message 1 forged in an
// agent's name computes as many DHs whether or not its Static remembers ss
// with that agent, also when the forger sends the agent's static key as its
// ephemeral one (es then comes from memory); and it remembers nothing new.
func TestRefusalCostsTheSame(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	victim := mustX25519(t, ini.Public())
	for _, tc := range []struct {
		name string
		eph  bool // the victim's static key as the forger's ephemeral key
		want int  // DHs: es and ss; es alone when s does not decrypt
	}{{"claimed static", false, 2}, {"claimed ephemeral", true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, met := range []bool{false, true} {
				stR := mustStatic(t, resp)
				if met {
					sessionWith(t, mustStatic(t, ini), stR, resp.Public())
				}
				msg1 := forgedMessage1(t, victim, mustX25519(t, resp.Public()), tc.eph)
				dhR := newDH25519()
				_, err := accept(&rw{bytes.NewReader(wire(msg1)), io.Discard}, Config{Static: stR}, dhR)
				if !errors.Is(err, ErrHandshake) {
					t.Fatalf("forged message 1 (met %v): %v", met, err)
				}
				if dhR.dhs != tc.want {
					t.Fatalf("met %v: refusal computed %d DHs, want %d", met, dhR.dhs, tc.want)
				}
				if len(stR.dhs) != map[bool]int{false: 0, true: 1}[met] {
					t.Fatalf("met %v: the Static remembers %d DHs", met, len(stR.dhs))
				}
			}
		})
	}
}

// fakeEphemeral is noise.DH25519 whose ephemeral public key is pub.
type fakeEphemeral struct {
	noise.DHFunc
	pub []byte
}

func (f fakeEphemeral) GenerateKeypair(r io.Reader) (noise.DHKey, error) {
	k, err := f.DHFunc.GenerateKeypair(r)
	k.Public = f.pub
	return k, err
}

// forgedMessage1 is a message 1 to responder rs that claims the static key
// victim without its private key; with eph, it also sends victim as its
// ephemeral key.
func forgedMessage1(t *testing.T, victim, rs []byte, eph bool) []byte {
	t.Helper()
	var dh noise.DHFunc = noise.DH25519
	if eph {
		dh = fakeEphemeral{noise.DH25519, victim}
	}
	own, err := noise.DH25519.GenerateKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noise.NewCipherSuite(dh, noise.CipherChaChaPoly, noise.HashBLAKE2s),
		Pattern:       noise.HandshakeIK,
		Initiator:     true,
		Prologue:      []byte(prologue),
		StaticKeypair: noise.DHKey{Private: own.Private, Public: victim},
		PeerStatic:    rs,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, _, _, err := hs.WriteMessage(nil, make([]byte, agentKeySize))
	if err != nil || len(msg) != message1Size {
		t.Fatal(err)
	}
	return msg
}

// TestDHOutputsZeroed: once a handshake is over, the DH outputs it handed
// to flynn/noise are zeros.
func TestDHOutputsZeroed(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	stI, stR := mustStatic(t, ini), mustStatic(t, resp)
	for round := range 2 {
		dhI, dhR := newDH25519(), newDH25519()
		ca, cb := net.Pipe()
		ri, rr := handshakePair(ca, cb, Config{Static: stI}, Config{Static: stR}, resp.Public(), dhI, dhR)
		ca.Close()
		cb.Close()
		if ri.err != nil || rr.err != nil {
			t.Fatal(ri.err, rr.err)
		}
		for _, d := range []*dh25519{dhI, dhR} {
			if d.nOuts != 4 || len(d.extra) != 0 {
				t.Fatalf("round %d: %d+%d DH outputs, want 4", round, d.nOuts, len(d.extra))
			}
			for _, out := range d.outs {
				if !isZero(out[:]) {
					t.Fatalf("round %d: a DH output survived the handshake", round)
				}
			}
		}
	}
	for _, st := range []*Static{stI, stR} {
		for _, out := range st.dhs {
			if isZero(out[:]) {
				t.Fatal("zeroing the handshake's outputs zeroed the Static's")
			}
		}
	}
}
