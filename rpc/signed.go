package rpc

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/n2n-dev/n2n/keys"
)

// signedRequest is the first transport message of a session: the request
// encoding and the caller's Ed25519 signature over
// "n2n request v1" ‖ handshake hash ‖ BLAKE2b-256(request encoding).
type signedRequest struct {
	Request   []byte `cbor:"1,keyasint"`
	Signature []byte `cbor:"2,keyasint"`
}

const signContext = "n2n request v1"

func signingInput(handshakeHash, request []byte) []byte {
	d := keys.Sum256(request)
	return append(append([]byte(signContext), handshakeHash...), d[:]...)
}

// sealRequest encodes and signs req for the session with this handshake
// hash: detcbor.Marshal(&signedRequest{detcbor.Marshal(req), signature}),
// built by hand so that the payload is copied once, into the one buffer
// (detcbor.Marshal copies it twice per level).
func sealRequest(id *keys.Identity, handshakeHash []byte, req *Request) []byte {
	var buf [128]byte
	skel, _ := appendRequest(buf[:0], req, false)
	n := len(skel) + len(req.Payload)
	b := make([]byte, 0, 2+maxHeadSize+n+2+2+ed25519.SignatureSize)
	b = appendHead(append(b, cborMap|2, 1), cborBytes, uint64(n))
	start := len(b)
	b, _ = appendRequest(b, req, true)
	sig := id.Sign(signingInput(handshakeHash, b[start:]))
	b = appendHead(append(b, 2), cborBytes, uint64(len(sig)))
	return append(b, sig...)
}

// openRequest decodes a sealed request and checks the signature of caller.
// It distinguishes malformed input (ErrBadMessage) from a bad signature
// (ErrSignature).
func openRequest(b []byte, caller keys.PublicKey, handshakeHash []byte) (Request, error) {
	var sr signedRequest
	if err := decMode().Unmarshal(b, &sr); err != nil {
		return Request{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if !caller.Verify(signingInput(handshakeHash, sr.Request), sr.Signature) {
		return Request{}, ErrSignature
	}
	return DecodeRequest(sr.Request)
}

// ErrSignature: the request is not signed by the session's caller for this
// session.
var ErrSignature = errors.New("request signature does not verify")
