package keys

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// Protocol constants: the 3-byte type prefixes of Holochain's HoloHash and the
// text form. They are frozen: changing one changes every ID ever printed.
const (
	textPrefix  = "u" // multibase tag for base64url without padding
	coreLen     = 32  // key or digest
	locationLen = 4   // XOR-fold of BLAKE2b-128(core)
	rawLen      = 3 + coreLen + locationLen
	// TextLen is the length of every typed ID in text form.
	TextLen = 1 + (rawLen*8+5)/6
	// MinPrefix is the shortest abbreviation accepted after the type prefix.
	MinPrefix = 8
)

// Kind is the type of a typed hash: it fixes the 3-byte prefix.
type Kind uint8

// The kinds of typed hash this program prints.
const (
	KindAgent  Kind = iota // uhCAk… an agent's Ed25519 public key
	KindAction             // uhCkk… BLAKE2b-256 of an action
	KindEntry              // uhCEk… BLAKE2b-256 of an entry
)

var kindPrefix = [...][3]byte{
	KindAgent:  {0x84, 0x20, 0x24},
	KindAction: {0x84, 0x29, 0x24},
	KindEntry:  {0x84, 0x21, 0x24},
}

var kindName = [...]string{KindAgent: "agent ID", KindAction: "action hash", KindEntry: "entry hash"}

func (k Kind) String() string { return kindName[k] }

// TypePrefix is the 5-character text prefix every ID of this kind starts with.
func (k Kind) TypePrefix() string {
	p := kindPrefix[k]
	return textPrefix + base64.RawURLEncoding.EncodeToString(p[:])
}

// Errors wrapped by every decoder, for callers to map to exit codes.
var (
	// ErrMalformed: wrong prefix, length or alphabet.
	ErrMalformed = errors.New("malformed")
	// ErrChecksum: well formed but the location bytes do not match (a typo).
	ErrChecksum = errors.New("checksum mismatch")
)

// SyntaxError says why a text is not an ID of its kind. It wraps
// ErrMalformed or ErrChecksum.
type SyntaxError struct {
	What   string // what the text was meant to be: "agent ID", "action hash"
	Text   string
	Reason string // for a malformed text: what is wrong with it
	Err    error  // ErrMalformed or ErrChecksum
}

func (e *SyntaxError) Error() string {
	if e.Err == ErrChecksum {
		return fmt.Sprintf("%s %q: checksum mismatch (mistyped?)", e.What, e.Text)
	}
	return fmt.Sprintf("malformed %s %q: %s", e.What, e.Text, e.Reason)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Named is the same error for a text meant to be what ("grant ID" for an
// action hash that must name a grant).
func (e *SyntaxError) Named(what string) *SyntaxError {
	c := *e
	c.What = what
	return &c
}

func malformed(k Kind, s, format string, a ...any) error {
	return &SyntaxError{What: k.String(), Text: s, Reason: fmt.Sprintf(format, a...), Err: ErrMalformed}
}

// location is Holochain's DHT location: BLAKE2b-128 of the core, XOR-folded
// into 4 bytes. It doubles as a checksum of the text form.
func location(core []byte) [locationLen]byte {
	h, _ := blake2b.New(16, nil)
	h.Write(core)
	var sum [16]byte
	h.Sum(sum[:0])
	var out [locationLen]byte
	for i := 0; i < 16; i++ {
		out[i%4] ^= sum[i]
	}
	return out
}

// Encode returns the text form of a 32-byte core of the given kind.
func Encode(k Kind, core [32]byte) string {
	var raw [rawLen]byte
	copy(raw[:3], kindPrefix[k][:])
	copy(raw[3:], core[:])
	loc := location(core[:])
	copy(raw[3+coreLen:], loc[:])
	return textPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
}

// Decode parses the full text form of an ID of kind k.
func Decode(k Kind, s string) ([32]byte, error) {
	var core [32]byte
	if !strings.HasPrefix(s, k.TypePrefix()) {
		return core, malformed(k, s, "must start with %q", k.TypePrefix())
	}
	if len(s) != TextLen {
		return core, malformed(k, s, "%d characters, want %d", len(s), TextLen)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s[1:])
	if err != nil || len(raw) != rawLen {
		return core, malformed(k, s, "not base64url")
	}
	copy(core[:], raw[3:3+coreLen])
	loc := location(core[:])
	if subtle.ConstantTimeCompare(loc[:], raw[3+coreLen:]) != 1 {
		return core, &SyntaxError{What: k.String(), Text: s, Err: ErrChecksum}
	}
	return core, nil
}

// Abbrev is a parsed abbreviation of a typed ID: the whole bytes it fixes and
// the text it must start with. Lookups seek to Bytes and keep the candidates
// whose text form has Text as a prefix.
type Abbrev struct {
	Kind  Kind
	Text  string // the abbreviation as typed (including the type prefix)
	Bytes []byte // the leading core bytes the abbreviation fixes completely
}

// ParseAbbrev accepts a full ID or a unique-prefix abbreviation of at least
// MinPrefix characters after the type prefix.
func ParseAbbrev(k Kind, s string) (Abbrev, error) {
	tp := k.TypePrefix()
	if !strings.HasPrefix(s, tp) {
		return Abbrev{}, malformed(k, s, "must start with %q", tp)
	}
	if len(s) == TextLen {
		core, err := Decode(k, s)
		if err != nil {
			return Abbrev{}, err
		}
		return Abbrev{Kind: k, Text: s, Bytes: core[:]}, nil
	}
	rest := s[len(tp):]
	if len(rest) < MinPrefix || len(s) > TextLen {
		return Abbrev{}, malformed(k, s, "give at least %d characters after %q", MinPrefix, tp)
	}
	// The type prefix is exactly 4 base64 characters for 3 bytes, so the
	// core starts on a character boundary: every 4 characters are 3 bytes.
	full := len(rest) / 4 * 4
	b, err := base64.RawURLEncoding.DecodeString(rest[:full])
	if err != nil {
		return Abbrev{}, malformed(k, s, "not base64url")
	}
	for _, c := range rest[full:] {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", c) {
			return Abbrev{}, malformed(k, s, "not base64url")
		}
	}
	if len(b) > coreLen { // the last characters encode location bytes
		b = b[:coreLen]
	}
	return Abbrev{Kind: k, Text: s, Bytes: b}, nil
}

// Match reports whether the ID with this core starts with the abbreviation.
func (a Abbrev) Match(core [32]byte) bool {
	return strings.HasPrefix(Encode(a.Kind, core), a.Text)
}

// Hash is a BLAKE2b-256 digest.
type Hash [32]byte

// Sum256 is BLAKE2b-256, the hash of actions and entries.
func Sum256(b []byte) Hash { return blake2b.Sum256(b) }

// ActionString and EntryString give the typed text forms of a hash.
func (h Hash) ActionString() string { return Encode(KindAction, h) }
func (h Hash) EntryString() string  { return Encode(KindEntry, h) }

// IsZero reports whether h is all zero bytes (no hash).
func (h Hash) IsZero() bool { return h == Hash{} }
