package vectors

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"

	"golang.org/x/crypto/blake2b"

	"github.com/n2n-dev/n2n/keys"
)

// ids.txt: agent IDs, peer IDs, X25519 forms and typed hashes.

const hashInput = "n2n test vector"

func buildIDs() *file {
	f := &file{name: "ids.txt"}
	f.comment(
		"n2n test vector: identities and text forms (PROTOCOL.md, \"Identity and text forms\").",
		"The two agents of noiseproto/testdata/vectors.txt. For each:",
		"  seed            input: the Ed25519 seed (RFC 8032 private key)",
		"  agent_key       the Ed25519 public key",
		"  blake2b_128     BLAKE2b with a 16-byte output, unkeyed, of agent_key",
		"  location        blake2b_128 XOR-folded to 4 bytes: location[i mod 4] ^= blake2b_128[i]",
		"  agent_id_bytes  84 20 24 ‖ agent_key ‖ location",
		"  agent_id        \"u\" ‖ base64url without padding of agent_id_bytes",
		"  peer_id_bytes   the libp2p peer ID: identity multihash 00 24 of the libp2p public key",
		"                  protobuf 08 01 12 20 ‖ agent_key",
		"  peer_id         base58btc (Bitcoin alphabet) of peer_id_bytes",
		"  x25519_private  SHA-512 of the seed, first 32 bytes, clamped: the Noise static private key",
		"  x25519_public   the Montgomery form of agent_key, equal to X25519(x25519_private, 9)",
		"Then a typed hash: hash_input (text, input) hashed with BLAKE2b-256, and its text forms",
		"with the action-hash prefix 84 29 24 and the entry-hash prefix 84 21 24.",
	)
	for _, side := range []struct {
		prefix string
		seed   []byte
	}{{"init_", initSeed}, {"resp_", respSeed}} {
		id := identity(side.seed)
		key := id.Public()
		sum := blake2b128(key[:])
		loc := fold(sum)
		raw := append(append([]byte{0x84, 0x20, 0x24}, key[:]...), loc...)
		xPriv := id.X25519()
		xPub, _ := key.X25519()
		f.blank()
		f.hex(side.prefix+"seed", side.seed)
		f.hex(side.prefix+"agent_key", key[:])
		f.hex(side.prefix+"blake2b_128", sum)
		f.hex(side.prefix+"location", loc)
		f.hex(side.prefix+"agent_id_bytes", raw)
		f.text(side.prefix+"agent_id", key.String())
		f.hex(side.prefix+"peer_id_bytes", key.PeerIDBytes())
		f.text(side.prefix+"peer_id", key.PeerID())
		f.hex(side.prefix+"x25519_private", xPriv[:])
		f.hex(side.prefix+"x25519_public", xPub[:])
	}
	h := keys.Sum256([]byte(hashInput))
	f.blank()
	f.text("hash_input", hashInput)
	f.hex("hash_blake2b_256", h[:])
	f.hex("hash_location", fold(blake2b128(h[:])))
	f.text("action_hash", h.ActionString())
	f.text("entry_hash", h.EntryString())
	return f
}

func checkIDs(p *fields) {
	for _, prefix := range []string{"init_", "resp_"} {
		seed := p.hex(prefix + "seed")
		if p.err != nil {
			return
		}
		id, err := keys.FromSeed(seed)
		p.check(prefix+"seed", err)
		if p.err != nil {
			return
		}
		key := id.Public()
		// Decoding: each text and binary form gives back the key.
		agentID := p.text(prefix + "agent_id")
		fromID, err := keys.ParseAgent(agentID)
		p.check(prefix+"agent_id", err)
		raw, err := base64.RawURLEncoding.Strict().DecodeString(agentID[min(1, len(agentID)):])
		p.check(prefix+"agent_id", err)
		p.equal(prefix+"agent_id_bytes", raw)
		peerID := p.text(prefix + "peer_id")
		fromPeer, err := keys.ParseAgent(peerID)
		p.check(prefix+"peer_id", err)
		p.equal(prefix+"peer_id_bytes", fromPeer.PeerIDBytes())
		if p.err == nil && (fromID != key || fromPeer != key || agentID[0] != 'u') {
			p.fail("%s: agent_id or peer_id is not the key of the seed", prefix)
		}
		// Encoding: each form of the seed's key.
		p.equal(prefix+"agent_key", key[:])
		sum := blake2b128(key[:])
		p.equal(prefix+"blake2b_128", sum)
		p.equal(prefix+"location", fold(sum))
		p.equal(prefix+"agent_id_bytes", append(append([]byte{0x84, 0x20, 0x24}, key[:]...), fold(sum)...))
		p.equalText(prefix+"agent_id", key.String())
		p.equalText(prefix+"peer_id", key.PeerID())
		xPriv := id.X25519()
		p.equal(prefix+"x25519_private", xPriv[:])
		xPub, err := key.X25519()
		p.check(prefix+"agent_key", err)
		p.equal(prefix+"x25519_public", xPub[:])
		if priv, err := ecdh.X25519().NewPrivateKey(xPriv[:]); err != nil || !bytes.Equal(priv.PublicKey().Bytes(), xPub[:]) {
			p.fail("%sx25519_public is not X25519(%sx25519_private, 9)", prefix, prefix)
		}
	}
	in := p.text("hash_input")
	h := keys.Sum256([]byte(in))
	p.equal("hash_blake2b_256", h[:])
	p.equal("hash_location", fold(blake2b128(h[:])))
	for _, x := range []struct {
		name string
		kind keys.Kind
	}{{"action_hash", keys.KindAction}, {"entry_hash", keys.KindEntry}} {
		core, err := keys.Decode(x.kind, p.text(x.name))
		p.check(x.name, err)
		if p.err == nil && core != h {
			p.fail("%s: decodes to %x, not hash_blake2b_256", x.name, core)
		}
	}
	p.equalText("action_hash", h.ActionString())
	p.equalText("entry_hash", h.EntryString())
}

func blake2b128(b []byte) []byte {
	h, _ := blake2b.New(16, nil)
	h.Write(b)
	return h.Sum(nil)
}

// fold XOR-folds a 16-byte digest into 4 bytes: the location.
func fold(sum []byte) []byte {
	out := make([]byte, 4)
	for i, b := range sum {
		out[i%4] ^= b
	}
	return out
}
