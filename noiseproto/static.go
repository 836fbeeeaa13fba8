package noiseproto

import (
	"crypto/ecdh"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/n2n-dev/n2n/keys"
)

// Static is an agent's Noise static key pair, derived and parsed once from
// its identity and shared by every handshake that sets Config.Static to it.
// Without it, each handshake derives the pair again: a SHA-512 of the seed
// and a base-point multiplication for the public half.
//
// A Static is safe for concurrent use. Zero drops its private key:
// handshakes in progress finish, later ones derive the key from
// Config.Local again (or fail without it). Its String and Format name only
// the agent.
type Static struct {
	agent keys.PublicKey

	mu  sync.RWMutex
	key *ecdh.PrivateKey // X25519 private key; nil once zeroed
	pub []byte           // X25519 public key: never written after NewStatic
}

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
	key, err := ecdh.X25519().NewPrivateKey(x[:])
	clear(x[:])
	if err != nil {
		return nil, fmt.Errorf("noiseproto: static key: %w", err)
	}
	return &Static{agent: id.Public(), key: key, pub: key.PublicKey().Bytes()}, nil
}

// Agent is the agent key this Static belongs to.
func (s *Static) Agent() keys.PublicKey { return s.agent }

// Zero drops the private key: handshakes given the Static afterwards derive
// the key from Config.Local. crypto/ecdh offers no way to overwrite its copy
// of the key, which the garbage collector reclaims.
func (s *Static) Zero() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = nil
}

// String names the agent, never key material.
func (s *Static) String() string { return "noiseproto.Static(" + s.agent.String() + ")" }

// GoString is String, for %#v.
func (s *Static) GoString() string { return s.String() }

// Format prints String whatever the verb, so that no verb prints the
// fields.
func (s *Static) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// use returns a handshake's copy of the private key (the handshake zeroes
// it), the shared public key, and the parsed private key.
func (s *Static) use() (priv, pub []byte, key *ecdh.PrivateKey, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.key == nil {
		return nil, nil, nil, errStaticZeroed
	}
	return s.key.Bytes(), s.pub, s.key, nil
}

// agentX25519 is k.X25519() (the X25519 form of an agent key, a point
// decompression and an inversion) through a small cache: a caller dials the
// same agents again and again. It holds public keys only. Keys that are not
// curve points are not cached. Only the initiator uses it, for the agent it
// chose to dial: a responder's use would be a timing oracle (handshake.go).
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
