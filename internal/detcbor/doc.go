// Package detcbor builds the CBOR modes every n2n encoding uses, in one
// place: one encoding mode, core deterministic (RFC 8949 §4.2.1), so that a
// value has one encoding that can be hashed and signed; and strict decoding
// modes, which refuse duplicate map keys, unknown fields, indefinite lengths
// and tags (no n2n encoding has any of them), within limits each decoder
// gives for what it reads.
//
// It also reads the integer-keyed maps of the protocol (DecodeMap):
// core keys 1 to 23 that a decoder must know, extension keys from 24 that
// a later minor version adds and an older decoder keeps aside (Extension),
// each checked to be canonical (PROTOCOL.md §12).
//
// The modes are built on first use, not at package init, so a command that
// never encodes or decodes (version, help) does not pay for them. They are
// safe for concurrent use.
package detcbor
