// Package noiseproto owns n2n's session layer (PROTOCOL.md §3, §4): the
// Noise_IK_25519_ChaChaPoly_BLAKE2s handshake, on flynn/noise, over any
// io.ReadWriter, and the framing of application frames of any size up to a
// limit into Noise transport messages. It knows nothing of libp2p, requests
// or capabilities.
//
// # Wire format
//
// The prologue is "n2n/1". Every Noise message is sent as its length (2 bytes,
// big-endian) followed by the message, so no message exceeds Noise's 65535
// bytes. Static keys are the X25519 forms of Ed25519 agent keys.
//
//	-> e, es, s, ss   payload: the initiator's agent key (32 bytes)   128 bytes
//	<- e, ee, se      payload: empty                                   48 bytes
//
// An application frame of L bytes, 0 ≤ L ≤ the reader's limit, is one or more
// transport messages. The first one's plaintext is L (4 bytes, big-endian)
// followed by the frame's first min(L, 65515) bytes; each following one's
// plaintext is the next min(remaining, 65519) bytes. Every message of a frame
// but the last is therefore full, and the reader requires each to have exactly
// the length that follows from L; anything else is an error.
//
// # Guarantees
//
//   - The initiator dials an agent key; Initiate succeeds only if the
//     responder holds that key's X25519 private key.
//   - The responder learns the initiator's agent key from message 1 and
//     accepts only if the static key Noise authenticated is that key's X25519
//     form. Message 1 can be replayed, and the responder cannot tell: so
//     nothing rides in it but the key, and a responder must act only on
//     transport messages, which a replayer can neither read nor forge.
//   - HandshakeHash is equal on both sides and unique to the session; the rpc
//     layer signs it, with the request, to bind the request to the session
//     and to the caller's Ed25519 key.
//   - A reader never allocates for a frame over its limit: it refuses the
//     declared length first. Under the limit, a frame's buffer grows with
//     the messages that arrive (doubling, up to the declared length), so a
//     peer that declares a frame and stalls makes the reader hold about
//     twice what it sent at most. Config.Monitor sees each growth (and may
//     refuse it) and each wait for the stream, between frames or within
//     one. Transport messages are authenticated, in order, each once.
//   - Errors name no key material and no plaintext. Authentication failures
//     wrap ErrHandshake; frame limits ErrFrameTooLarge; rejected transport
//     messages ErrTransport.
//   - Private keys (the handshake's copies of the static and ephemeral keys)
//     and DH outputs are zeroed when the handshake ends and cipher keys on
//     Session.Close, as far as Go lets: crypto/ecdh's parsed keys,
//     flynn/noise's chaining key and golang.org/x/crypto's AEAD are left to
//     the garbage collector. Static.Zero drops a Static's private key.
//
// # Cost
//
// All X25519 arithmetic is crypto/ecdh's. A handshake costs each side one
// base-point multiplication (parsing its ephemeral private key, which gives
// the public key) and one scalar multiplication per DH: es, ss, ee and se,
// four. Without Config.Static, each side also derives its static key pair
// (SHA-512 and a second parse); with it, NewStatic parsed the pair once. The
// X25519 forms of agent keys (a point decompression and an inversion each)
// are cached process-wide, up to a bound; they are public.
//
// # Concurrency
//
// Initiate and Accept block on the stream; bound them with a deadline on it.
// A Session allows one WriteFrame and one ReadFrame at a time, concurrently
// with each other. Close waits for both to return.
package noiseproto
