package detcbor

import (
	"bytes"
	"testing"
)

type pair struct {
	A int    `cbor:"1,keyasint"`
	B []byte `cbor:"2,keyasint,omitempty"`
}

// TestEncodingIsCoreDeterministic: map keys sorted, shortest heads,
// omitempty fields left out.
func TestEncodingIsCoreDeterministic(t *testing.T) {
	got := Marshal(map[string]int{"b": 1, "a": 300})
	want := []byte{0xa2, 0x61, 'a', 0x19, 0x01, 0x2c, 0x61, 'b', 0x01}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	if got := Marshal(&pair{A: 1}); !bytes.Equal(got, []byte{0xa1, 0x01, 0x01}) {
		t.Fatalf("omitempty: got %x", got)
	}
}

// TestDecodingIsStrict: what no n2n encoding contains is refused, and the
// limits given are kept.
func TestDecodingIsStrict(t *testing.T) {
	dec := DecMode(Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})
	var p pair
	if err := dec().Unmarshal([]byte{0xa2, 0x01, 0x01, 0x02, 0x41, 'x'}, &p); err != nil || p.A != 1 || string(p.B) != "x" {
		t.Fatalf("plain map: %+v %v", p, err)
	}
	for name, b := range map[string][]byte{
		"duplicate key":    {0xa2, 0x01, 0x01, 0x01, 0x02},
		"unknown field":    {0xa2, 0x01, 0x01, 0x03, 0x01},
		"indefinite map":   {0xbf, 0x01, 0x01, 0xff},
		"indefinite bytes": {0xa1, 0x02, 0x5f, 0x41, 'x', 0xff},
		"tag":              {0xa1, 0x02, 0xd8, 0x18, 0x41, 'x'},
	} {
		if err := dec().Unmarshal(b, new(pair)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	var m map[int]int
	big := []byte{0xb1} // 17 pairs: one over the limit
	for k := range 17 {
		big = append(big, byte(k), 0x01)
	}
	if err := dec().Unmarshal(big, &m); err == nil {
		t.Error("a map over MaxMapPairs decoded")
	}
	if err := dec().Unmarshal(append([]byte{0xb0}, big[1:33]...), &m); err != nil || len(m) != 16 {
		t.Errorf("a map at MaxMapPairs: %v %v", m, err)
	}
	if dec() != dec() {
		t.Error("the mode is built again on each call")
	}
}
