package detcbor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/fxamacker/cbor/v2"
)

// The maps of the protocol whose keys are integers (PROTOCOL.md §5.1, §12:
// requests, responses, the signed request, ticket bodies) have core keys,
// 1 to 23, which a decoder must know, and extension keys, MinExtensionKey and
// up, under which a later minor version adds optional fields: a decoder that
// does not know one keeps the field aside and otherwise ignores it.
const (
	// MinExtensionKey is the first extension key.
	MinExtensionKey = 24
	// MaxMapKeys bounds the keys of one such map, core and extension.
	MaxMapKeys = 16
	// MaxExtensionBytes bounds the encoded extension fields of one map,
	// keys and values together.
	MaxExtensionBytes = 4096
)

// extensionDecMode reads extension values, to check that they are
// canonical: the protocol's limits on them (PROTOCOL.md §8).
var extensionDecMode = DecMode(Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

// Extension is a field under an extension key that its decoder does not
// know: the key and the canonical encoding of its value. Kept, it lets a
// decoded message encode again to the bytes received.
type Extension struct {
	Key   uint64
	Value cbor.RawMessage // one CBOR data item, canonical
}

// CBOR major types (RFC 8949 §3.1), in the top 3 bits of a head.
const (
	MajorUint  = 0 << 5
	MajorNeg   = 1 << 5
	MajorBytes = 2 << 5
	MajorText  = 3 << 5
	MajorMap   = 5 << 5
)

// MaxHeadSize is the longest CBOR head: initial byte and 8-byte argument.
const MaxHeadSize = 9

// AppendHead appends a CBOR head of this major type and argument, in its
// shortest form.
func AppendHead(b []byte, major byte, n uint64) []byte {
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

// readHead reads a head of definite length in its shortest form.
func readHead(b []byte) (major byte, n uint64, rest []byte, err error) {
	if len(b) == 0 {
		return 0, 0, nil, errors.New("unexpected end of data")
	}
	major, info := b[0]&0xe0, b[0]&0x1f
	if info < 24 {
		return major, uint64(info), b[1:], nil
	}
	if info > 27 {
		return 0, 0, nil, errors.New("indefinite length or reserved head")
	}
	size := 1 << (info - 24)
	if len(b) < 1+size {
		return 0, 0, nil, errors.New("unexpected end of data")
	}
	for _, c := range b[1 : 1+size] {
		n = n<<8 | uint64(c)
	}
	if len(AppendHead(nil, major, n)) != 1+size {
		return 0, 0, nil, errors.New("head not in its shortest form")
	}
	return major, n, b[1+size:], nil
}

// AppendExtensions appends the extension fields ext, in ascending order of
// key, to m, the canonical encoding of a map with core keys only: the result
// is the canonical encoding of the map with both.
func AppendExtensions(m []byte, ext []Extension) []byte {
	if len(ext) == 0 {
		return m
	}
	_, n, rest, err := readHead(m)
	if err != nil {
		panic("detcbor: AppendExtensions: not the encoding of a map")
	}
	size := len(m) + MaxHeadSize
	for _, e := range ext {
		size += MaxHeadSize + len(e.Value)
	}
	out := AppendHead(make([]byte, 0, size), MajorMap, n+uint64(len(ext)))
	out = append(out, rest...)
	return AppendExtensionFields(out, ext)
}

// AppendExtensionFields appends the key and value of each extension field,
// for encoders that write a map's core fields by hand.
func AppendExtensionFields(b []byte, ext []Extension) []byte {
	for _, e := range ext {
		b = append(AppendHead(b, MajorUint, e.Key), e.Value...)
	}
	return b
}

// skipped takes a data item without decoding it.
type skipped struct{}

func (*skipped) UnmarshalCBOR([]byte) error { return nil }

// DecodeMap decodes b, one CBOR map with unsigned integer keys in ascending
// order, at most MaxMapKeys of them, and nothing after it. For a core key,
// field returns where to decode its value with dm (a pointer), or nil for a
// key the caller does not know, which is an error. The fields under
// extension keys are returned, each checked to be canonical and within the
// protocol's limits; their values alias b. The canonical form of the known
// fields' values and the presence of the keys the caller requires are the
// caller's to check, by encoding what it decoded and comparing.
func DecodeMap(dm cbor.DecMode, b []byte, field func(key uint64) any) ([]Extension, error) {
	major, n, rest, err := readHead(b)
	if err != nil {
		return nil, err
	}
	if major != MajorMap {
		return nil, errors.New("not a map")
	}
	if n > MaxMapKeys {
		return nil, fmt.Errorf("%d keys, limit %d", n, MaxMapKeys)
	}
	var ext []Extension
	extBytes := 0
	var prev uint64
	for i := range n {
		fieldStart := rest
		major, key, r, err := readHead(rest)
		if err != nil {
			return nil, fmt.Errorf("key %d of the map: %v", i+1, err)
		}
		if major != MajorUint {
			return nil, fmt.Errorf("key %d of the map is not an unsigned integer", i+1)
		}
		if i > 0 && key <= prev {
			return nil, fmt.Errorf("key %d after key %d: keys out of order, or repeated", key, prev)
		}
		prev = key
		if key < MinExtensionKey {
			dst := field(key)
			if dst == nil {
				return nil, fmt.Errorf("unknown core key %d", key)
			}
			if rest, err = dm.UnmarshalFirst(r, dst); err != nil {
				return nil, fmt.Errorf("key %d: %v", key, err)
			}
			continue
		}
		if rest, err = extensionDecMode().UnmarshalFirst(r, &skipped{}); err != nil {
			return nil, fmt.Errorf("extension key %d: %v", key, err)
		}
		if extBytes += len(fieldStart) - len(rest); extBytes > MaxExtensionBytes {
			return nil, fmt.Errorf("extension fields over %d bytes", MaxExtensionBytes)
		}
		value := r[:len(r)-len(rest)]
		var v any
		if err := extensionDecMode().Unmarshal(value, &v); err != nil {
			return nil, fmt.Errorf("extension key %d: %v", key, err)
		}
		if again, err := EncMode().Marshal(v); err != nil || !bytes.Equal(again, value) {
			return nil, fmt.Errorf("extension key %d: value not in canonical form", key)
		}
		ext = append(ext, Extension{Key: key, Value: value})
	}
	if len(rest) != 0 {
		return nil, errors.New("data after the map")
	}
	return ext, nil
}
