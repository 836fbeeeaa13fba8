package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"strings"

	"filippo.io/edwards25519"
	"github.com/mr-tron/base58"
)

// PublicKey is an agent's Ed25519 public key: the agent's identity.
type PublicKey [32]byte

// String is the agent ID: "uhCAk…".
func (k PublicKey) String() string { return Encode(KindAgent, k) }

// PeerID is the libp2p peer ID of this key (an identity multihash of the
// protobuf-encoded key, base58btc: "12D3KooW…").
func (k PublicKey) PeerID() string { return base58.Encode(peerIDBytes(k)) }

// PeerIDBytes is the binary libp2p peer ID.
func (k PublicKey) PeerIDBytes() []byte { return peerIDBytes(k) }

// peerIDHeader is multihash identity (0x00), length 36, then the libp2p
// PublicKey protobuf: field 1 KeyType=Ed25519 (0x08 0x01), field 2 32 bytes.
var peerIDHeader = []byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}

func peerIDBytes(k PublicKey) []byte {
	return append(append([]byte{}, peerIDHeader...), k[:]...)
}

// Verify reports whether sig is k's Ed25519 signature of msg.
func (k PublicKey) Verify(msg, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(k[:], msg, sig)
}

// X25519 is the Montgomery form of the key (the birational map), used as the
// agent's Noise static public key.
func (k PublicKey) X25519() ([32]byte, error) {
	var out [32]byte
	p, err := new(edwards25519.Point).SetBytes(k[:])
	if err != nil {
		return out, fmt.Errorf("keys: %w agent key: not a curve point", ErrMalformed)
	}
	copy(out[:], p.BytesMontgomery())
	return out, nil
}

// ParseAgent accepts an agent ID ("uhCAk…") or a libp2p peer ID of an Ed25519
// key ("12D3KooW…"), surrounding white space ignored.
func ParseAgent(s string) (PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "12D3KooW") {
		return parsePeerID(s)
	}
	core, err := Decode(KindAgent, s)
	return PublicKey(core), err
}

func parsePeerID(s string) (PublicKey, error) {
	var k PublicKey
	b, err := base58.Decode(s)
	if err != nil || len(b) != len(peerIDHeader)+32 || !bytes.Equal(b[:len(peerIDHeader)], peerIDHeader) {
		return k, &SyntaxError{What: "peer ID", Text: s, Reason: "not an Ed25519 libp2p peer ID", Err: ErrMalformed}
	}
	copy(k[:], b[len(peerIDHeader):])
	return k, nil
}

// Identity is an agent's private key. It can sign and derive its Noise key.
type Identity struct {
	priv ed25519.PrivateKey
	pub  PublicKey
}

// SeedSize is the length of the stored private key (an Ed25519 seed).
const SeedSize = ed25519.SeedSize

// Generate makes a new identity from crypto/rand.
func Generate() (*Identity, error) {
	seed := make([]byte, SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	id, err := FromSeed(seed)
	clear(seed)
	return id, err
}

// FromSeed rebuilds an identity from its 32-byte seed (copied).
func FromSeed(seed []byte) (*Identity, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("keys: %w seed: %d bytes", ErrMalformed, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	id := &Identity{priv: priv}
	copy(id.pub[:], priv[32:])
	return id, nil
}

// Public is the agent key.
func (id *Identity) Public() PublicKey { return id.pub }

// Seed returns a copy of the 32-byte seed, for storage. Zero it after use.
func (id *Identity) Seed() []byte { return append([]byte{}, id.priv.Seed()...) }

// Sign is an Ed25519 signature of msg.
func (id *Identity) Sign(msg []byte) []byte { return ed25519.Sign(id.priv, msg) }

// X25519 is the Noise static private key: SHA-512 of the seed, first half,
// clamped (as libsodium's crypto_sign_ed25519_sk_to_curve25519 and age do).
func (id *Identity) X25519() [32]byte {
	h := sha512.Sum512(id.priv.Seed())
	var out [32]byte
	copy(out[:], h[:32])
	clear(h[:])
	out[0] &= 248
	out[31] &= 127
	out[31] |= 64
	return out
}

// Zero overwrites the private key. The identity is unusable afterwards.
func (id *Identity) Zero() { clear(id.priv) }

// PrivateKey returns a copy of the Ed25519 private key, for libraries that
// need it in that form (the libp2p host identity). Zero it after use.
func (id *Identity) PrivateKey() ed25519.PrivateKey {
	return append(ed25519.PrivateKey{}, id.priv...)
}
