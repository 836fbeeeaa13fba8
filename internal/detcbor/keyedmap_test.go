package detcbor

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// message is a map with core keys 1 to 3, as a protocol message is.
type message struct {
	A uint64 `cbor:"1,keyasint"`
	B string `cbor:"2,keyasint,omitempty"`
	C []byte `cbor:"3,keyasint,omitempty"`
}

func (m *message) field(key uint64) any {
	switch key {
	case 1:
		return &m.A
	case 2:
		return &m.B
	case 3:
		return &m.C
	}
	return nil
}

var messageDecMode = DecMode(Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// TestDecodeMap: core keys are decoded or refused, extension fields kept
// when canonical and within the limits, and the map's own encoding checked;
// what is kept encodes again to the same bytes.
func TestDecodeMap(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ext      int // extension fields kept; -1: refused
	}{
		{"core only", "a1 01 05", 0},
		{"one extension", "a2 01 05 1818 01", 1},
		{"two extensions", "a3 01 05 1818 01 1819 82 01 02", 2},
		{"extension map, keys in order", "a2 01 05 1818 a2 6161 01 6162 02", 1},
		{"extension float, shortest", "a2 01 05 1818 f93c00", 1},
		{"large extension key", "a2 01 05 1b ffffffffffffffff 01", 1},
		{"unknown core key", "a2 01 05 04 01", -1},
		{"core key 23", "a2 01 05 17 01", -1},
		{"keys out of order", "a2 1818 01 01 05", -1},
		{"key repeated", "a3 01 05 1818 01 1818 02", -1},
		{"extension value not shortest", "a2 01 05 1818 1801", -1},
		{"extension float not shortest", "a2 01 05 1818 fa3f800000", -1},
		{"extension map keys out of order", "a2 01 05 1818 a2 6162 01 6161 02", -1},
		{"extension map key repeated", "a2 01 05 1818 a2 01 01 01 02", -1},
		{"extension tag", "a2 01 05 1818 c1 01", -1},
		{"extension undefined", "a2 01 05 1818 f7", -1},
		{"extension nested 5 deep", "a2 01 05 1818 8181818181 01", -1},
		{"extension key not shortest", "a2 01 05 1900 18 01", -1},
		{"text key", "a2 01 05 6161 01", -1},
		{"negative key", "a2 01 05 20 01", -1},
		{"map head not shortest", "b802 01 05 1818 01", -1},
		{"indefinite map", "bf 01 05 ff", -1},
		{"data after the map", "a1 01 05 00", -1},
		{"not a map", "82 01 05", -1},
		{"truncated", "a2 01 05 1818", -1},
		{"17 keys", "b1 01 05" + strings.Repeat(" 1818 01", 1) + func() string {
			var s string
			for k := 25; k < 40; k++ {
				s += " 18" + hex.EncodeToString([]byte{byte(k)}) + " 01"
			}
			return s
		}(), -1},
	} {
		var m message
		in := unhex(tc.in)
		ext, err := DecodeMap(messageDecMode(), in, m.field)
		if tc.ext < 0 {
			if err == nil {
				t.Errorf("%s: decoded", tc.name)
			}
			continue
		}
		if err != nil || len(ext) != tc.ext {
			t.Errorf("%s: %d extension fields, %v", tc.name, len(ext), err)
			continue
		}
		if again := AppendExtensions(Marshal(&m), ext); !bytes.Equal(again, in) {
			t.Errorf("%s: encodes again to %x", tc.name, again)
		}
	}
	// The extension fields' budget counts keys and values together.
	// Key 24 (2 bytes) and a byte string of 4 091 bytes (a 3-byte head).
	atLimit := append(unhex("a2 01 05 1818 59 0ffb"), make([]byte, MaxExtensionBytes-5)...)
	if _, err := DecodeMap(messageDecMode(), atLimit, new(message).field); err != nil {
		t.Errorf("extension fields of %d bytes: %v", MaxExtensionBytes, err)
	}
	over := append(unhex("a2 01 05 1818 59 0ffc"), make([]byte, MaxExtensionBytes-4)...)
	if _, err := DecodeMap(messageDecMode(), over, new(message).field); err == nil {
		t.Errorf("extension fields of %d bytes decoded", MaxExtensionBytes+1)
	}
}

// FuzzDecodeMap: whatever DecodeMap accepts encodes again, with its
// extension fields, to a map it decodes to the same fields.
func FuzzDecodeMap(f *testing.F) {
	f.Add(unhex("a3 01 05 1818 01 1819 82 01 02"))
	f.Add(unhex("a4 01 05 02 6161 03 41ff 1818 a2 6161 01 6162 02"))
	f.Add(unhex("a2 01 05 1818 f93c00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m message
		ext, err := DecodeMap(messageDecMode(), b, m.field)
		if err != nil {
			return
		}
		again := AppendExtensions(Marshal(&m), ext)
		var m2 message
		ext2, err := DecodeMap(messageDecMode(), again, m2.field)
		if err != nil || m2.A != m.A || m2.B != m.B || !bytes.Equal(m2.C, m.C) ||
			!slices.EqualFunc(ext, ext2, func(x, y Extension) bool { return x.Key == y.Key && bytes.Equal(x.Value, y.Value) }) {
			t.Fatalf("%x decodes, but its encoding %x decodes to other fields (%v)", b, again, err)
		}
	})
}
