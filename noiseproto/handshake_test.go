package noiseproto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/flynn/noise"
	"golang.org/x/crypto/curve25519"

	"github.com/n2n-dev/n2n/keys"
)

// rawInitiator is a flynn/noise IK initiator built by hand, independent of
// this package's handshake code, with static key static dialling the
// agent key responder.
func rawInitiator(t testing.TB, static *keys.Identity, responder keys.PublicKey, random io.Reader) *noise.HandshakeState {
	t.Helper()
	x := static.X25519()
	pub, err := curve25519.X25519(x[:], curve25519.Basepoint)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2s),
		Random:        random,
		Pattern:       noise.HandshakeIK,
		Initiator:     true,
		Prologue:      []byte("n2n/1"),
		StaticKeypair: noise.DHKey{Private: x[:], Public: pub},
		PeerStatic:    mustX25519(t, responder),
	})
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// rawResponder is rawInitiator's counterpart.
func rawResponder(t testing.TB, static *keys.Identity, random io.Reader) *noise.HandshakeState {
	t.Helper()
	x := static.X25519()
	pub, err := curve25519.X25519(x[:], curve25519.Basepoint)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2s),
		Random:        random,
		Pattern:       noise.HandshakeIK,
		Prologue:      []byte("n2n/1"),
		StaticKeypair: noise.DHKey{Private: x[:], Public: pub},
	})
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// acceptBytes runs Accept on stream, recording what it answers.
func acceptBytes(local *keys.Identity, stream []byte) (*Session, []byte, error) {
	var out bytes.Buffer
	s, err := Accept(&rw{bytes.NewReader(stream), &out}, Config{Local: local})
	return s, out.Bytes(), err
}

// TestWrongResponder: the initiator dials B but reaches C. C cannot read
// message 1 and hangs up without a word; both sides report ErrHandshake.
func TestWrongResponder(t *testing.T) {
	a, b, c := identity(t, 1), identity(t, 2), identity(t, 3)
	ca, cb := net.Pipe()
	defer ca.Close()
	rec := &recorder{ReadWriter: cb}
	accepted := make(chan error, 1)
	go func() {
		_, err := Accept(rec, Config{Local: c})
		cb.Close() // what the caller of Accept does on an error
		accepted <- err
	}()
	_, err := Initiate(ca, Config{Local: a}, b.Public())
	if !errors.Is(err, ErrHandshake) {
		t.Errorf("initiator: %v, want ErrHandshake", err)
	}
	if err := <-accepted; !errors.Is(err, ErrHandshake) {
		t.Errorf("responder: %v, want ErrHandshake", err)
	}
	if n := len(rec.bytes()); n != 0 {
		t.Errorf("responder answered a message 1 it could not read with %d bytes", n)
	}
}

// TestClaimedKeyMismatch: message 1 made with Y's static key but claiming
// agent key X is refused; the same message claiming Y is accepted.
func TestClaimedKeyMismatch(t *testing.T) {
	x, y, resp := identity(t, 1), identity(t, 4), identity(t, 2)
	for _, tc := range []struct {
		name    string
		claim   keys.PublicKey
		wantErr bool
	}{
		{"claims another key", x.Public(), true},
		{"claims the responder's key", resp.Public(), true},
		{"claims its own key", y.Public(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := rawInitiator(t, y, resp.Public(), nil)
			msg1, _, _, err := hs.WriteMessage(nil, tc.claim[:])
			if err != nil {
				t.Fatal(err)
			}
			s, answer, err := acceptBytes(resp, wire(msg1))
			if !tc.wantErr {
				if err != nil || s.RemoteKey() != y.Public() {
					t.Fatalf("honest message 1 refused: %v", err)
				}
				// And the hand-made initiator completes the handshake.
				if _, cs1, _, err := hs.ReadMessage(nil, splitWire(t, answer)[0]); err != nil || cs1 == nil {
					t.Fatalf("message 2: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("Accept: %v, want ErrHandshake", err)
			}
			if len(answer) != 0 {
				t.Fatal("responder answered a refused message 1")
			}
			noSecrets(t, err, x, y, resp)
		})
	}
}

// noSecrets fails if err's text shows any form of the identities' keys.
func noSecrets(t *testing.T, err error, ids ...*keys.Identity) {
	t.Helper()
	msg := strings.ToLower(err.Error())
	for _, id := range ids {
		x := id.X25519()
		pub := id.Public()
		for _, b := range [][]byte{id.Seed(), x[:], pub[:]} {
			for _, s := range []string{hex.EncodeToString(b[:8]), base64.RawURLEncoding.EncodeToString(b[:8])} {
				if strings.Contains(msg, strings.ToLower(s)) {
					t.Fatalf("error shows key material: %q", msg)
				}
			}
		}
		if strings.Contains(err.Error(), pub.String()[5:15]) {
			t.Fatalf("error shows an agent ID: %q", msg)
		}
	}
}

// TestMessage1Exact: message 1 is exactly 128 bytes: a payload of any other
// length, trailing bytes, or a truncated message are refused.
func TestMessage1Exact(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	pub := ini.Public()
	for _, tc := range []struct {
		name   string
		stream func() []byte
	}{
		{"payload 33 bytes", func() []byte {
			m, _, _, _ := rawInitiator(t, ini, resp.Public(), nil).WriteMessage(nil, append(pub[:], 0))
			return wire(m)
		}},
		{"payload 31 bytes", func() []byte {
			m, _, _, _ := rawInitiator(t, ini, resp.Public(), nil).WriteMessage(nil, pub[:31])
			return wire(m)
		}},
		{"empty payload", func() []byte {
			m, _, _, _ := rawInitiator(t, ini, resp.Public(), nil).WriteMessage(nil, nil)
			return wire(m)
		}},
		{"trailing byte", func() []byte {
			m, _, _, _ := rawInitiator(t, ini, resp.Public(), nil).WriteMessage(nil, pub[:])
			return wire(append(m, 0))
		}},
		{"flipped bit", func() []byte {
			m, _, _, _ := rawInitiator(t, ini, resp.Public(), nil).WriteMessage(nil, pub[:])
			m[100] ^= 0x10
			return wire(m)
		}},
		{"wrong prologue", func() []byte {
			hs, _ := noise.NewHandshakeState(noise.Config{
				CipherSuite: noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashBLAKE2s),
				Pattern:     noise.HandshakeIK, Initiator: true, Prologue: []byte("n2n/2"),
				StaticKeypair: func() noise.DHKey {
					x := ini.X25519()
					p, _ := curve25519.X25519(x[:], curve25519.Basepoint)
					return noise.DHKey{Private: x[:], Public: p}
				}(),
				PeerStatic: mustX25519(t, resp.Public()),
			})
			m, _, _, _ := hs.WriteMessage(nil, pub[:])
			return wire(m)
		}},
		{"low-order ephemeral", func() []byte {
			m, _, _, _ := rawInitiator(t, ini, resp.Public(), nil).WriteMessage(nil, pub[:])
			clear(m[:32])
			return wire(m)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, answer, err := acceptBytes(resp, tc.stream())
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("Accept: %v, want ErrHandshake", err)
			}
			if len(answer) != 0 {
				t.Fatal("responder answered")
			}
		})
	}
	// Truncated: an I/O error, not an authentication failure.
	m, _, _, _ := rawInitiator(t, ini, resp.Public(), nil).WriteMessage(nil, pub[:])
	for _, stream := range [][]byte{nil, wire(m)[:1], wire(m)[:2], wire(m)[:129]} {
		_, _, err := acceptBytes(resp, stream)
		if err == nil || errors.Is(err, ErrHandshake) {
			t.Fatalf("truncated message 1 (%d bytes): %v", len(stream), err)
		}
	}
}

// TestMessage2Exact: the initiator refuses a message 2 with a payload or
// that does not authenticate.
func TestMessage2Exact(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	for _, tc := range []struct {
		name    string
		payload []byte
		mangle  func([]byte) []byte
	}{
		{"payload 1 byte", []byte{0}, nil},
		{"flipped bit", nil, func(m []byte) []byte { m[40] ^= 1; return m }},
		{"trailing byte", nil, func(m []byte) []byte { return append(m, 0) }},
		{"low-order ephemeral", nil, func(m []byte) []byte { clear(m[:32]); return m }},
		{"honest", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, cb := net.Pipe()
			defer ca.Close()
			defer cb.Close()
			hs := rawResponder(t, resp, nil)
			go func() {
				msgs, err := readOne(cb)
				if err != nil {
					return
				}
				if _, _, _, err := hs.ReadMessage(nil, msgs); err != nil {
					return
				}
				m, _, _, _ := hs.WriteMessage(nil, tc.payload)
				if tc.mangle != nil {
					m = tc.mangle(m)
				}
				cb.Write(wire(m))
			}()
			s, err := Initiate(ca, Config{Local: ini}, resp.Public())
			if tc.name == "honest" {
				if err != nil || s.RemoteKey() != resp.Public() {
					t.Fatalf("honest message 2 refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("Initiate: %v, want ErrHandshake", err)
			}
		})
	}
}

func readOne(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	m := make([]byte, int(n[0])<<8|int(n[1]))
	_, err := io.ReadFull(r, m)
	return m, err
}

// TestReplay: everything an initiator sent in a session, replayed to a
// fresh responder, completes the handshake (message 1 replays) but the
// transport frame does not decrypt: the responder's new ephemeral key
// changed every transport key.
func TestReplay(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	rec := &recorder{ReadWriter: ca}
	ri, rr := handshakePair(rec, cb, Config{Local: ini}, Config{Local: resp}, resp.Public(), newOwnDH(), newOwnDH())
	if ri.err != nil || rr.err != nil {
		t.Fatal(ri.err, rr.err)
	}
	go ri.s.WriteFrame([]byte("transfer 100 to mallory"))
	if p, err := rr.s.ReadFrame(); err != nil || string(p) != "transfer 100 to mallory" {
		t.Fatalf("original session: %q %v", p, err)
	}
	sent := rec.bytes()
	if msgs := splitWire(t, sent); len(msgs) != 2 || len(msgs[0]) != message1Size {
		t.Fatalf("recorded %d messages", len(msgs))
	}

	s, _, err := acceptBytes(resp, sent)
	if err != nil {
		t.Fatalf("replayed message 1: %v (the test expects IK's message 1 to replay)", err)
	}
	p, err := s.ReadFrame()
	if !errors.Is(err, ErrTransport) {
		t.Fatalf("replayed transport frame: %q, %v; want ErrTransport", p, err)
	}
}

func TestConfigErrors(t *testing.T) {
	id := identity(t, 1)
	for _, cfg := range []Config{{}, {Local: id, MaxFrame: -1}, {Local: id, MaxFrame: maxFrameLimit + 1}} {
		if _, err := Initiate(&rw{bytes.NewReader(nil), io.Discard}, cfg, id.Public()); err == nil {
			t.Errorf("Initiate accepted %+v", cfg.MaxFrame)
		}
		if _, err := Accept(&rw{bytes.NewReader(nil), io.Discard}, cfg); err == nil {
			t.Errorf("Accept accepted %+v", cfg.MaxFrame)
		}
	}
	var notAPoint keys.PublicKey
	for i := range notAPoint {
		notAPoint[i] = 0xff
	}
	notAPoint[31] = 0x7f // y = 2^255-1, not a curve point
	if _, err := notAPoint.X25519(); err == nil {
		t.Skip("test key is a point after all")
	}
	var out bytes.Buffer
	_, err := Initiate(&rw{bytes.NewReader(nil), &out}, Config{Local: id}, notAPoint)
	if !errors.Is(err, keys.ErrMalformed) || out.Len() != 0 {
		t.Fatalf("dialling a non-point: %v, %d bytes sent", err, out.Len())
	}
}

// TestPeerHangsUp: a stream that fails mid-handshake is an I/O error, not
// an authentication failure, except the responder hanging up on message 1.
func TestPeerHangsUp(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	_, err := Initiate(&rw{bytes.NewReader(nil), io.Discard}, Config{Local: ini}, resp.Public())
	if !errors.Is(err, ErrHandshake) || !errors.Is(err, io.EOF) {
		t.Fatalf("responder hung up: %v", err)
	}
	_, err = Initiate(&rw{bytes.NewReader([]byte{0, 48, 1}), io.Discard}, Config{Local: ini}, resp.Public())
	if errors.Is(err, ErrHandshake) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("message 2 cut short: %v", err)
	}
	_, err = Initiate(&rw{bytes.NewReader(nil), failWriter{}}, Config{Local: ini}, resp.Public())
	if errors.Is(err, ErrHandshake) || !errors.Is(err, errBroken) {
		t.Fatalf("write failed: %v", err)
	}
}
