package keys

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// checkedSum is the length of the checksum of a checked text: the first 4
// bytes of BLAKE2b-256 of the body.
const checkedSum = 4

// EncodeChecked is the checked text form of body that tickets ("n2ncap1")
// and contact cards ("n2ncard1") use: prefix, then base64url without padding
// of body followed by the first 4 bytes of BLAKE2b-256 of body.
func EncodeChecked(prefix string, body []byte) string {
	sum := Sum256(body)
	raw := append(append([]byte{}, body...), sum[:checkedSum]...)
	return prefix + base64.RawURLEncoding.EncodeToString(raw)
}

// DecodeChecked returns the body of a checked text (EncodeChecked) of at most
// max characters, surrounding white space ignored; noun names the text in
// errors ("ticket", "card"), which never quote it. A wrong prefix, alphabet,
// length or encoding wraps ErrMalformed; a checksum that does not match (a
// typo) wraps ErrChecksum.
func DecodeChecked(prefix, noun, s string, max int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) > max {
		return nil, fmt.Errorf("%w %s: longer than %d characters", ErrMalformed, noun, max)
	}
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, fmt.Errorf("%w %s: must start with %q", ErrMalformed, noun, prefix)
	}
	// The decoder skips CR and LF, which would make two texts name one
	// body: only the alphabet itself is accepted.
	if i := strings.IndexFunc(rest, func(r rune) bool { return !isBase64URL(r) }); i >= 0 {
		return nil, fmt.Errorf("%w %s: character %d is not base64url", ErrMalformed, noun, len(prefix)+i+1)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("%w %s: not base64url (truncated or mistyped at the end?)", ErrMalformed, noun)
	}
	if len(raw) <= checkedSum {
		return nil, fmt.Errorf("%w %s: too short", ErrMalformed, noun)
	}
	body, sum := raw[:len(raw)-checkedSum], raw[len(raw)-checkedSum:]
	want := Sum256(body)
	if subtle.ConstantTimeCompare(want[:checkedSum], sum) != 1 {
		return nil, fmt.Errorf("%s: %w (mistyped or truncated?)", noun, ErrChecksum)
	}
	return body, nil
}

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}
