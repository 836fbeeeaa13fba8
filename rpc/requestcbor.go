package rpc

import (
	"bytes"
	"encoding/binary"
	"math"
)

// CBOR major types (RFC 8949 §3.1), in the top 3 bits of a head.
const (
	cborUint  = 0 << 5
	cborNeg   = 1 << 5
	cborBytes = 2 << 5
	cborText  = 3 << 5
	cborMap   = 5 << 5
)

// maxHeadSize is the longest CBOR head: initial byte and 8-byte argument.
const maxHeadSize = 9

// appendHead appends a CBOR head of this major type and argument, in its
// shortest form.
func appendHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= math.MaxUint8:
		return append(b, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), n)
}

// appendRequest appends detcbor.Marshal(r), written by hand so that the
// payload is copied once: core deterministic encoding (RFC 8949 §4.2.1)
// makes a Request a map whose keys are the small integers 1 to 6, in that
// order, each value with the shortest head, the omitempty fields (3, 4, 5)
// left out when empty. It returns where in the result the payload's bytes
// start. Without payload, it appends the same but for the payload's bytes
// (its key and head stay). TestRequestEncodingByHand and FuzzDecodeRequest
// hold it to detcbor.EncMode.
func appendRequest(b []byte, r *Request, payload bool) (_ []byte, at int) {
	fields := uint64(3)
	for _, present := range []bool{r.Function != "", len(r.Payload) > 0, len(r.Secret) > 0} {
		if present {
			fields++
		}
	}
	b = appendHead(b, cborMap, fields)
	b = appendHead(append(b, 1), cborUint, r.ID)
	b = append(appendHead(append(b, 2), cborText, uint64(len(r.Kind))), r.Kind...)
	if r.Function != "" {
		b = append(appendHead(append(b, 3), cborText, uint64(len(r.Function))), r.Function...)
	}
	if len(r.Payload) > 0 {
		b = appendHead(append(b, 4), cborBytes, uint64(len(r.Payload)))
	}
	at = len(b)
	if len(r.Payload) > 0 {
		if payload {
			b = append(b, r.Payload...)
		}
	}
	if len(r.Secret) > 0 {
		b = append(appendHead(append(b, 5), cborBytes, uint64(len(r.Secret))), r.Secret...)
	}
	b = append(b, 6)
	if r.Deadline < 0 {
		return appendHead(b, cborNeg, uint64(^r.Deadline)), at // -1-Deadline
	}
	return appendHead(b, cborUint, uint64(r.Deadline)), at
}

// isCanonicalRequest reports whether b is detcbor.Marshal(r), comparing the payload
// in place instead of encoding it again.
func isCanonicalRequest(b []byte, r *Request) bool {
	var buf [128]byte
	skel, at := appendRequest(buf[:0], r, false)
	if len(b) != len(skel)+len(r.Payload) {
		return false
	}
	return bytes.Equal(b[:at], skel[:at]) &&
		bytes.Equal(b[at:at+len(r.Payload)], r.Payload) &&
		bytes.Equal(b[at+len(r.Payload):], skel[at:])
}
