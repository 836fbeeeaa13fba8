package noiseproto

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/n2n-dev/n2n/keys"
)

// Static is an agent's Noise static key pair, derived once from its identity
// and shared by every handshake that sets Config.Static to it. Without it,
// each handshake derives the pair again: a SHA-512 of the seed and a
// fixed-base multiplication for the public half.
//
// A Static also remembers the static-static DH ("ss") with each agent a
// handshake using it has authenticated, as initiator or responder (the DH is
// the same either way), at most maxStaticDHs of them, as WireGuard
// precomputes it per peer: a later handshake with the same agent, either
// way, costs one scalar multiplication less. Nothing is remembered before
// the peer has proved it holds the key (message 2 for an initiator, message
// 1 for a responder), so a stranger can add only its own keys.
//
// A responder uses ss before message 1 has authenticated anything: taken
// from memory, it would show, in the time the responder takes to refuse a
// message 1 forged in another agent's name, that this agent talked with it
// lately. So a responder that refuses message 1 first computes every DH it
// took from memory, and a refusal costs the same either way. A replay of a
// message 1 that agent did send, which the responder accepts, can still
// tell whether ss was remembered; the replayer knew of that session already.
//
// A Static is safe for concurrent use. Zero overwrites its private key and
// the remembered DHs: handshakes in progress finish with their own copies,
// later ones derive the key from Config.Local again (or fail without it).
// Its String and Format name only the agent.
type Static struct {
	agent keys.PublicKey

	mu   sync.RWMutex
	priv []byte // X25519 private key; nil once zeroed
	pub  []byte // X25519 public key: never written after NewStatic
	dhs  map[[dhLen]byte][dhLen]byte
}

// maxStaticDHs bounds the static-static DHs a Static remembers (64 bytes and
// map overhead each, about 100 KiB in all). Past it an arbitrary one is
// forgotten.
const maxStaticDHs = 1024

// errStaticZeroed is returned by a handshake given a zeroed Static.
var errStaticZeroed = errors.New("noiseproto: Config.Static has been zeroed")

// NewStatic derives id's Noise static key pair: the X25519 form of its
// Ed25519 key, as every handshake without Config.Static derives it. id may
// be zeroed afterwards; the Static keeps its own copy, until Static.Zero.
func NewStatic(id *keys.Identity) (*Static, error) {
	if id == nil {
		return nil, errors.New("noiseproto: NewStatic: nil identity")
	}
	x := id.X25519()
	priv := make([]byte, dhLen)
	copy(priv, x[:])
	clear(x[:])
	pub, err := x25519Base(priv)
	if err != nil {
		clear(priv)
		return nil, fmt.Errorf("noiseproto: static key: %w", err)
	}
	return &Static{agent: id.Public(), priv: priv, pub: pub}, nil
}

// Agent is the agent key this Static belongs to.
func (s *Static) Agent() keys.PublicKey { return s.agent }

// Zero overwrites the private key and the remembered DHs. The Static is
// empty afterwards: handshakes given it derive the key from Config.Local.
func (s *Static) Zero() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.priv)
	s.priv = nil
	for k := range s.dhs {
		s.dhs[k] = [dhLen]byte{}
	}
	clear(s.dhs)
	s.dhs = nil
}

// String names the agent, never key material.
func (s *Static) String() string { return "noiseproto.Static(" + s.agent.String() + ")" }

// GoString is String, for %#v.
func (s *Static) GoString() string { return s.String() }

// Format prints String whatever the verb, so that no verb prints the
// fields.
func (s *Static) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// use returns a handshake's copy of the private key (the handshake zeroes
// it) and the shared public key.
func (s *Static) use() (priv, pub []byte, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.priv == nil {
		return nil, nil, errStaticZeroed
	}
	priv = make([]byte, dhLen)
	copy(priv, s.priv)
	return priv, s.pub, nil
}

// rememberedDH copies the DH with the static key pub to out and reports
// true, if remembered.
func (s *Static) rememberedDH(out *[dhLen]byte, pub []byte) bool {
	if len(pub) != dhLen {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	dh, ok := s.dhs[[dhLen]byte(pub)]
	if ok {
		*out = dh
	}
	return ok
}

// rememberDH keeps out, the DH of this static key with the static key pub.
func (s *Static) rememberDH(pub, out []byte) {
	if len(pub) != dhLen || len(out) != dhLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.priv == nil {
		return
	}
	if s.dhs == nil {
		s.dhs = make(map[[dhLen]byte][dhLen]byte)
	}
	if _, ok := s.dhs[[dhLen]byte(pub)]; !ok && len(s.dhs) >= maxStaticDHs {
		for k := range s.dhs {
			s.dhs[k] = [dhLen]byte{}
			delete(s.dhs, k)
			break
		}
	}
	s.dhs[[dhLen]byte(pub)] = [dhLen]byte(out)
}

// agentX25519 is k.X25519() (the X25519 form of an agent key, a point
// decompression and an inversion) through a small cache: a daemon meets the
// same agents again and again. It holds public keys only. Keys that are not
// curve points are not cached.
func agentX25519(k keys.PublicKey) ([dhLen]byte, error) {
	x25519Cache.Lock()
	x, ok := x25519Cache.m[k]
	x25519Cache.Unlock()
	if ok {
		return x, nil
	}
	x, err := k.X25519()
	if err != nil {
		return x, err
	}
	x25519Cache.Lock()
	if x25519Cache.m == nil {
		x25519Cache.m = make(map[keys.PublicKey][dhLen]byte)
	}
	if len(x25519Cache.m) >= maxAgentX25519 {
		for old := range x25519Cache.m {
			delete(x25519Cache.m, old)
			break
		}
	}
	x25519Cache.m[k] = x
	x25519Cache.Unlock()
	return x, nil
}

// maxAgentX25519 bounds the cache of agentX25519 (64 bytes and map overhead
// each). Past it an arbitrary entry is forgotten.
const maxAgentX25519 = 1024

var x25519Cache = struct {
	sync.Mutex
	m map[keys.PublicKey][dhLen]byte
}{}
