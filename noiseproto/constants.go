package noiseproto

import (
	"math"

	"github.com/flynn/noise"
)

// Protocol constants: fixed by the wire format (PROTOCOL.md). Changing one
// makes this side unable to talk to peers that did not change it too.
const (
	protocolName = "Noise_IK_25519_ChaChaPoly_BLAKE2s" // the Noise protocol name, hashed into h
	prologue     = "n2n/1"                             // mixed into h before message 1

	dhLen        = 32 // X25519 public key, private key and DH output
	tagSize      = 16 // ChaCha20-Poly1305 authentication tag
	agentKeySize = 32 // Ed25519 public key: message 1's whole payload

	lengthSize     = 2               // big-endian length sent before every Noise message
	maxMessageSize = noise.MaxMsgLen // 65535: Noise's limit on one message, tag included

	message1Size = dhLen + (dhLen + tagSize) + (agentKeySize + tagSize) // -> e, es, s, ss; payload: 128 bytes
	message2Size = dhLen + tagSize                                      // <- e, ee, se; empty payload: 48 bytes

	frameHeaderSize = 4                              // big-endian frame length, first in a frame's first message
	maxChunkSize    = maxMessageSize - tagSize       // 65519: plaintext of one full transport message
	firstChunkSize  = maxChunkSize - frameHeaderSize // 65515: frame bytes in a frame's first message
	maxFrameLimit   = math.MaxUint32                 // largest length the frame header can declare
)

// Implementation constants: choices of this implementation, not of the
// protocol. A peer with other values still interoperates, within its limits.
const (
	// DefaultMaxFrame is the largest application frame a Session writes or
	// accepts when Config.MaxFrame is 0: the 16 MiB payload limit of
	// PROTOCOL.md §8 plus 64 KiB for the request envelope around it.
	DefaultMaxFrame = 16<<20 + 64<<10

	// minBufferSize is the smallest send or receive buffer a Session
	// allocates; buffers grow on demand up to lengthSize+maxMessageSize.
	minBufferSize = 512
)
