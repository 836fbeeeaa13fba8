package detcbor

import (
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// EncMode is the one encoding mode: core deterministic encoding.
var EncMode = sync.OnceValue(func() cbor.EncMode {
	m, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err) // fixed options: cannot fail
	}
	return m
})

// Marshal encodes v with EncMode. It panics if v cannot be encoded: n2n's
// encoded types hold only plain fields, so that is a programming error.
func Marshal(v any) []byte {
	b, err := EncMode().Marshal(v)
	if err != nil {
		panic("detcbor: encode: " + err.Error())
	}
	return b
}

// Limits bound what one decoder accepts: nesting depth, elements of an
// array and pairs of a map. Zero is the cbor package's default.
type Limits struct {
	MaxNestedLevels  int
	MaxArrayElements int
	MaxMapPairs      int
}

// DecMode returns a function that builds the strict decoding mode with
// these limits on its first call and returns the same mode on every call.
func DecMode(l Limits) func() cbor.DecMode {
	return sync.OnceValue(func() cbor.DecMode {
		m, err := cbor.DecOptions{
			DupMapKey:         cbor.DupMapKeyEnforcedAPF,
			ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
			IndefLength:       cbor.IndefLengthForbidden,
			TagsMd:            cbor.TagsForbidden,
			MaxNestedLevels:   l.MaxNestedLevels,
			MaxArrayElements:  l.MaxArrayElements,
			MaxMapPairs:       l.MaxMapPairs,
		}.DecMode()
		if err != nil {
			panic(err) // limits are constants of their decoders: a programming error
		}
		return m
	})
}
