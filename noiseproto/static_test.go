package noiseproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/n2n-dev/n2n/keys"
)

// TestStaticIsDerivedKey: a Static holds what a handshake without one
// derives: the clamped SHA-512 half of the seed, and the X25519 form of the
// agent key as its public half.
func TestStaticIsDerivedKey(t *testing.T) {
	id := identity(t, 7)
	st := mustStatic(t, id)
	x := id.X25519()
	if !bytes.Equal(st.key.Bytes(), x[:]) || !bytes.Equal(st.pub, mustX25519(t, id.Public())) || st.Agent() != id.Public() {
		t.Fatal("Static differs from the derived key pair")
	}
	if _, err := NewStatic(nil); err == nil {
		t.Fatal("NewStatic(nil) succeeded")
	}
}

// TestStaticConfig: Static alone is enough on either side; Local and Static
// of different agents are refused.
func TestStaticConfig(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	ri, rr := handshakePair(ca, cb, Config{Static: mustStatic(t, ini)}, Config{Static: mustStatic(t, resp)}, resp.Public(), newOwnDH(), newOwnDH())
	if ri.err != nil || rr.err != nil {
		t.Fatal(ri.err, rr.err)
	}
	if rr.s.RemoteKey() != ini.Public() || ri.s.RemoteKey() != resp.Public() {
		t.Fatal("remote keys")
	}
	if !bytes.Equal(ri.s.HandshakeHash(), rr.s.HandshakeHash()) {
		t.Fatal("handshake hashes differ")
	}
	go ri.s.WriteFrame([]byte("hello"))
	if p, err := rr.s.ReadFrame(); err != nil || string(p) != "hello" {
		t.Fatalf("frame: %q %v", p, err)
	}

	bad := Config{Local: ini, Static: mustStatic(t, resp)}
	if _, err := Initiate(&rw{bytes.NewReader(nil), io.Discard}, bad, resp.Public()); err == nil {
		t.Error("Initiate accepted a Static of another agent")
	}
	if _, err := Accept(&rw{bytes.NewReader(nil), io.Discard}, bad); err == nil {
		t.Error("Accept accepted a Static of another agent")
	}
}

// TestStaticZero: Zero drops the private key; handshakes with a zeroed
// Static and no Local fail and send nothing; with Local they derive the key
// as without a Static.
func TestStaticZero(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	stI, stR := mustStatic(t, ini), mustStatic(t, resp)
	sessionWith(t, stI, stR, resp.Public())
	for _, st := range []*Static{stI, stR} {
		st.Zero()
		if st.key != nil {
			t.Fatal("Zero kept the private key")
		}
	}
	stI.Zero() // twice is fine
	var out bytes.Buffer
	if _, err := Initiate(&rw{bytes.NewReader(nil), &out}, Config{Static: stI}, resp.Public()); !errors.Is(err, errStaticZeroed) || out.Len() != 0 {
		t.Fatalf("Initiate with a zeroed Static: %v, %d bytes sent", err, out.Len())
	}
	if _, err := Accept(&rw{bytes.NewReader(nil), &out}, Config{Static: stR}); !errors.Is(err, errStaticZeroed) {
		t.Fatalf("Accept with a zeroed Static: %v", err)
	}
	// With Local too, the handshake derives the key from Local instead.
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	ri, rr := handshakePair(ca, cb, Config{Local: ini, Static: stI}, Config{Local: resp, Static: stR}, resp.Public(), newOwnDH(), newOwnDH())
	if ri.err != nil || rr.err != nil {
		t.Fatalf("zeroed Static with Local: %v, %v", ri.err, rr.err)
	}
	if stI.key != nil || stR.key != nil {
		t.Fatal("a zeroed Static was filled again")
	}
}

// sessionWith completes one handshake over net.Pipe with these Statics.
func sessionWith(t *testing.T, stI, stR *Static, remote keys.PublicKey) {
	t.Helper()
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	ri, rr := handshakePair(ca, cb, Config{Static: stI}, Config{Static: stR}, remote, newOwnDH(), newOwnDH())
	if ri.err != nil || rr.err != nil {
		t.Fatal(ri.err, rr.err)
	}
}

// TestStaticConcurrent: many handshakes share two Statics at once, one of
// them zeroed midway (run with -race). Before Zero every one succeeds;
// after it they fail cleanly.
func TestStaticConcurrent(t *testing.T) {
	ini, resp := identity(t, 1), identity(t, 2)
	stI, stR := mustStatic(t, ini), mustStatic(t, resp)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				ca, cb := net.Pipe()
				acc := make(chan error, 1)
				go func() {
					_, err := Accept(cb, Config{Static: stR})
					acc <- err
				}()
				_, errI := Initiate(ca, Config{Static: stI}, resp.Public())
				ca.Close()
				cb.Close()
				for _, err := range []error{errI, <-acc} {
					if err != nil && !errors.Is(err, errStaticZeroed) && !errors.Is(err, io.ErrClosedPipe) && !errors.Is(err, io.EOF) && !errors.Is(err, ErrHandshake) {
						t.Errorf("handshake %d: %v", i, err)
					}
				}
			}
		}()
		if i == 12 {
			stI.Zero()
		}
	}
	wg.Wait()
}

// TestHandshakeZeroesOwnCopy: the handshake zeroes its copy of the Static's
// private key, not the Static's.
func TestHandshakeZeroesOwnCopy(t *testing.T) {
	st := mustStatic(t, identity(t, 1))
	h, err := newHandshake(Config{Static: st}, newDH25519(), true, mustX25519(t, identity(t, 2).Public()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.createMessage1(); err != nil {
		t.Fatal(err)
	}
	mine := h.static.Private
	if !bytes.Equal(mine, st.key.Bytes()) {
		t.Fatal("the handshake's static key is not the Static's")
	}
	h.zero()
	if !isZero(mine) || isZero(st.key.Bytes()) {
		t.Fatal("zero() did not zero the handshake's copy, or zeroed the Static")
	}
}

// TestStaticPrintsNoSecrets: whatever the verb, a Static prints as its
// agent.
func TestStaticPrintsNoSecrets(t *testing.T) {
	id := identity(t, 9)
	st := mustStatic(t, id)
	sessionWith(t, mustStatic(t, identity(t, 1)), st, id.Public())
	x := id.X25519()
	secrets := []string{hex.EncodeToString(x[:8]), strings.Trim(fmt.Sprint(x[:6]), "[]"), hex.EncodeToString(id.Seed()[:8])}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		for _, arg := range []any{st, []*Static{st}, struct{ S *Static }{st}} {
			out := fmt.Sprintf(verb, arg)
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(out), s) {
					t.Fatalf("%s of a Static shows key material: %s", verb, out)
				}
			}
		}
	}
	if got := fmt.Sprint(st); !strings.Contains(got, id.Public().String()) {
		t.Fatalf("Static prints as %q", got)
	}
}

// TestAgentX25519: the cache answers what keys.PublicKey.X25519 answers,
// does not keep keys that are not points, and stays bounded.
func TestAgentX25519(t *testing.T) {
	for i := range maxAgentX25519 + 10 {
		id, err := keys.Generate()
		if err != nil {
			t.Fatal(err)
		}
		k := id.Public()
		for range 2 {
			got, err := agentX25519(k)
			want, _ := k.X25519()
			if err != nil || got != want {
				t.Fatalf("key %d: %v", i, err)
			}
		}
	}
	notAPoint := keys.PublicKey{2} // y = 2: no x satisfies the curve equation
	if _, err := agentX25519(notAPoint); !errors.Is(err, keys.ErrMalformed) {
		t.Fatalf("not a point: %v", err)
	}
	x25519Cache.Lock()
	defer x25519Cache.Unlock()
	if _, ok := x25519Cache.m[notAPoint]; ok || len(x25519Cache.m) > maxAgentX25519 {
		t.Fatalf("cache holds %d keys (limit %d), or a non-point", len(x25519Cache.m), maxAgentX25519)
	}
}

// TestResponderLearnsNoAgents: accepting a session does not put the
// initiator's key in agentX25519's cache, so how fast a responder refuses a
// claimed key cannot say whether it met that agent before; the initiator's
// key of the agent it dialled is cached.
func TestResponderLearnsNoAgents(t *testing.T) {
	x25519Cache.Lock()
	x25519Cache.m = nil
	x25519Cache.Unlock()
	sessionPair(t, newOwnDH(), newOwnDH(), 0)
	x25519Cache.Lock()
	defer x25519Cache.Unlock()
	if _, ok := x25519Cache.m[identity(t, 1).Public()]; ok {
		t.Error("the responder cached the initiator's key")
	}
	if _, ok := x25519Cache.m[identity(t, 2).Public()]; !ok {
		t.Error("the initiator did not cache the key of the agent it dialled")
	}
}
