package rpc

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// signedRequest is the first frame a caller sends on a session
// (PROTOCOL.md §5.3): the request's encoding and the caller's Ed25519
// signature over SigningInput.
type signedRequest struct {
	Request    []byte      `cbor:"1,keyasint"`
	Signature  []byte      `cbor:"2,keyasint"`
	Extensions []Extension `cbor:"-"`
}

func (s *signedRequest) field(key uint64) any {
	switch key {
	case 1:
		return &s.Request
	case 2:
		return &s.Signature
	}
	return nil
}

const signContext = "n2n request v1"

// SigningInput is what the caller signs with its first request of a
// session: "n2n request v1" ‖ the session's handshake hash ‖
// BLAKE2b-256(request), request being the request's encoding.
func SigningInput(handshakeHash, request []byte) []byte {
	d := keys.Sum256(request)
	return append(append([]byte(signContext), handshakeHash...), d[:]...)
}

// SealRequest encodes and signs req as the first request of the session
// with this handshake hash: {1: EncodeRequest(req), 2: signature}, built by
// hand so that the payload is copied once, into the one buffer.
func SealRequest(id *keys.Identity, handshakeHash []byte, req *Request) []byte {
	var buf [128]byte
	skel, _ := appendRequest(buf[:0], req, false)
	n := len(skel) + len(req.Payload)
	b := make([]byte, 0, 2+detcbor.MaxHeadSize+n+2+2+ed25519.SignatureSize)
	b = detcbor.AppendHead(append(b, detcbor.MajorMap|2, 1), detcbor.MajorBytes, uint64(n))
	start := len(b)
	b, _ = appendRequest(b, req, true)
	sig := id.Sign(SigningInput(handshakeHash, b[start:]))
	b = detcbor.AppendHead(append(b, 2), detcbor.MajorBytes, uint64(len(sig)))
	return append(b, sig...)
}

// OpenRequest decodes the first request of a session and checks that
// caller signed it for the session with this handshake hash. It tells
// malformed input (ErrBadMessage) from a bad signature (ErrSignature).
func OpenRequest(b []byte, caller keys.PublicKey, handshakeHash []byte) (Request, error) {
	var sr signedRequest
	ext, err := detcbor.DecodeMap(decMode(), b, sr.field)
	if err != nil {
		return Request{}, fmt.Errorf("%w: signed request: %v", ErrBadMessage, err)
	}
	sr.Extensions = ext
	if !isCanonicalSigned(b, &sr) {
		return Request{}, fmt.Errorf("%w: signed request not canonical", ErrBadMessage)
	}
	if !caller.Verify(SigningInput(handshakeHash, sr.Request), sr.Signature) {
		return Request{}, ErrSignature
	}
	return DecodeRequest(sr.Request)
}

// isCanonicalSigned reports whether b is the encoding of s, comparing the
// request in place.
func isCanonicalSigned(b []byte, s *signedRequest) bool {
	head := detcbor.AppendHead(nil, detcbor.MajorMap, uint64(2+len(s.Extensions)))
	head = detcbor.AppendHead(append(head, 1), detcbor.MajorBytes, uint64(len(s.Request)))
	tail := detcbor.AppendHead([]byte{2}, detcbor.MajorBytes, uint64(len(s.Signature)))
	tail = detcbor.AppendExtensionFields(append(tail, s.Signature...), s.Extensions)
	return sameAround(b, append(head, tail...), len(head), s.Request)
}

// ErrSignature: the request is not signed by the session's caller for this
// session.
var ErrSignature = errors.New("request signature does not verify")
