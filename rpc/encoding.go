package rpc

import (
	"bytes"

	"github.com/n2n-dev/n2n/internal/detcbor"
)

// Requests and responses are encoded by hand, in the core deterministic
// encoding detcbor.Marshal would give (RFC 8949 §4.2.1: keys in ascending
// order, shortest heads, the omitempty fields left out when empty, then the
// extension fields), so that the payload is copied once; and a received
// encoding is checked against them without copying its payload at all.
// TestEncodingByHand and FuzzDecodeRequest hold them to detcbor.EncMode.

// EncodeRequest is the canonical encoding of r.
func EncodeRequest(r *Request) []byte {
	b, _ := appendRequest(make([]byte, 0, 64+len(r.Function)+len(r.Payload)+len(r.Secret)), r, true)
	return b
}

// EncodeResponse is the canonical encoding of r.
func EncodeResponse(r *Response) []byte {
	b, _ := appendResponse(make([]byte, 0, 32+len(r.Payload)+len(r.Error)), r, true)
	return b
}

// appendRequest appends the encoding of r and returns where in the result
// the payload's bytes start. Without payload, it appends the same but for
// the payload's bytes (its key and head stay).
func appendRequest(b []byte, r *Request, payload bool) (_ []byte, at int) {
	fields := uint64(3 + len(r.Extensions))
	for _, present := range []bool{r.Function != "", len(r.Payload) > 0, len(r.Secret) > 0} {
		if present {
			fields++
		}
	}
	b = detcbor.AppendHead(b, detcbor.MajorMap, fields)
	b = detcbor.AppendHead(append(b, 1), detcbor.MajorUint, r.ID)
	b = append(detcbor.AppendHead(append(b, 2), detcbor.MajorText, uint64(len(r.Kind))), r.Kind...)
	if r.Function != "" {
		b = append(detcbor.AppendHead(append(b, 3), detcbor.MajorText, uint64(len(r.Function))), r.Function...)
	}
	if len(r.Payload) > 0 {
		b = detcbor.AppendHead(append(b, 4), detcbor.MajorBytes, uint64(len(r.Payload)))
	}
	at = len(b)
	if len(r.Payload) > 0 && payload {
		b = append(b, r.Payload...)
	}
	if len(r.Secret) > 0 {
		b = append(detcbor.AppendHead(append(b, 5), detcbor.MajorBytes, uint64(len(r.Secret))), r.Secret...)
	}
	b = detcbor.AppendHead(append(b, 7), detcbor.MajorUint, r.Timeout)
	return detcbor.AppendExtensionFields(b, r.Extensions), at
}

// appendResponse is appendRequest for a response.
func appendResponse(b []byte, r *Response, payload bool) (_ []byte, at int) {
	fields := uint64(2 + len(r.Extensions))
	for _, present := range []bool{len(r.Payload) > 0, r.Error != ""} {
		if present {
			fields++
		}
	}
	b = detcbor.AppendHead(b, detcbor.MajorMap, fields)
	b = detcbor.AppendHead(append(b, 1), detcbor.MajorUint, r.ID)
	b = append(detcbor.AppendHead(append(b, 2), detcbor.MajorText, uint64(len(r.Status))), r.Status...)
	if len(r.Payload) > 0 {
		b = detcbor.AppendHead(append(b, 3), detcbor.MajorBytes, uint64(len(r.Payload)))
	}
	at = len(b)
	if len(r.Payload) > 0 && payload {
		b = append(b, r.Payload...)
	}
	if r.Error != "" {
		b = append(detcbor.AppendHead(append(b, 4), detcbor.MajorText, uint64(len(r.Error))), r.Error...)
	}
	return detcbor.AppendExtensionFields(b, r.Extensions), at
}

// isCanonicalRequest reports whether b is the encoding of r, comparing the
// payload in place instead of encoding it again.
func isCanonicalRequest(b []byte, r *Request) bool {
	var buf [128]byte
	skel, at := appendRequest(buf[:0], r, false)
	return sameAround(b, skel, at, r.Payload)
}

// isCanonicalResponse is isCanonicalRequest for a response.
func isCanonicalResponse(b []byte, r *Response) bool {
	var buf [128]byte
	skel, at := appendResponse(buf[:0], r, false)
	return sameAround(b, skel, at, r.Payload)
}

// sameAround reports whether b is skel with the payload inserted at at.
func sameAround(b, skel []byte, at int, payload []byte) bool {
	if len(b) != len(skel)+len(payload) {
		return false
	}
	return bytes.Equal(b[:at], skel[:at]) &&
		bytes.Equal(b[at:at+len(payload)], payload) &&
		bytes.Equal(b[at+len(payload):], skel[at:])
}
