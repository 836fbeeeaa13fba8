// Package keys owns an agent's identity: the Ed25519 key pair, the text
// forms of agent IDs and typed hashes (Holochain's "u" + base64url form with
// a 4-byte location checksum), the libp2p peer-ID form of an agent key, the
// Ed25519→X25519 conversion used for Noise static keys, and the derivation of
// the at-rest encryption key from a passphrase.
//
// Every decoder rejects malformed input with an error wrapping ErrMalformed or
// ErrChecksum; nothing here prints or exits. Values are immutable after
// construction and safe for concurrent use, except Identity.Zero.
package keys
