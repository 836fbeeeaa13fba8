package caps

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// Access is the kind of a grant.
type Access string

// The grant access kinds; AccessAuthor is the implicit grant of the chain's
// own agent, which is never stored.
const (
	Unrestricted Access = "unrestricted"
	Transferable Access = "transferable"
	Assigned     Access = "assigned"
	AccessAuthor        = "author"
)

// ParseAccess accepts the name of a stored access kind.
func ParseAccess(s string) (Access, error) {
	switch a := Access(s); a {
	case Unrestricted, Transferable, Assigned:
		return a, nil
	}
	return "", fmt.Errorf("caps: %w access %q: want unrestricted, transferable or assigned", keys.ErrMalformed, s)
}

// Protocol constants: part of stored entries and tickets.
const (
	// SecretSize is the length of a capability secret.
	SecretSize = 64
	// AllFunctions in a grant's or claim's functions covers every function.
	AllFunctions = "*"
	// ReceiveClaim is the built-in function that stores a delivered claim.
	ReceiveClaim = "n2n.receive_claim"
)

// Implementation limits, so that entries and tickets stay small.
const (
	MaxFunctions = 64
	MaxAssignees = 256
	MaxTag       = 256 // bytes of UTF-8
)

// ValidFunction reports whether name can be granted and called: a function
// name ([a-z][a-z0-9_]{0,63}) or a built-in (ReceiveClaim). AllFunctions is
// not a function name.
func ValidFunction(name string) bool {
	return name == ReceiveClaim || isFunctionName(name)
}

// isFunctionName reports whether name matches [a-z][a-z0-9_]{0,63}, by
// hand: every call runs it, and a regexp costs ~1 µs.
func isFunctionName(name string) bool {
	if len(name) == 0 || len(name) > 64 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Secret is a capability secret. It formats as "[secret]" with every fmt
// verb, so that it cannot reach a log or an error by accident; encode it
// explicitly (e.g. base64) where it must be shown.
type Secret []byte

// Format implements fmt.Formatter.
func (Secret) Format(f fmt.State, verb rune) { io.WriteString(f, "[secret]") }

// NewSecret returns SecretSize bytes from crypto/rand.
func NewSecret() (Secret, error) {
	s := make(Secret, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("caps: secret: %w", err)
	}
	return s, nil
}

// Grant is a capability grant entry (entry type chain.EntryCapGrant).
type Grant struct {
	Tag       string           `cbor:"1,keyasint,omitempty"`
	Access    Access           `cbor:"2,keyasint"`
	Secret    Secret           `cbor:"3,keyasint,omitempty"` // absent for unrestricted
	Assignees []keys.PublicKey `cbor:"4,keyasint,omitempty"` // assigned only
	Functions []string         `cbor:"5,keyasint"`           // names, or AllFunctions
}

// Claim is a capability claim entry (entry type chain.EntryCapClaim): what a
// grantee keeps to call the grantor.
type Claim struct {
	Tag       string         `cbor:"1,keyasint,omitempty"`
	Grantor   keys.PublicKey `cbor:"2,keyasint"`
	Secret    Secret         `cbor:"3,keyasint,omitempty"`
	Functions []string       `cbor:"4,keyasint"`
	Access    Access         `cbor:"5,keyasint"`
}

// Covers reports whether the grant's functions include function or "*".
func (g *Grant) Covers(function string) bool { return covers(g.Functions, function) }

// Covers reports whether the claim's functions include function or "*".
func (cl *Claim) Covers(function string) bool { return covers(cl.Functions, function) }

func covers(fns []string, function string) bool {
	return slices.Contains(fns, function) || slices.Contains(fns, AllFunctions)
}

func (g Grant) clone() Grant {
	g.Secret = bytes.Clone(g.Secret)
	g.Assignees = slices.Clone(g.Assignees)
	g.Functions = slices.Clone(g.Functions)
	return g
}

// decMode reads grant and claim entries and tickets.
var decMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: MaxAssignees, MaxMapPairs: 16})

// Validate checks the grant against the grant rules (PROTOCOL.md §10.3). Errors wrap keys.ErrMalformed.
func (g *Grant) Validate() error {
	if err := g.check(); err != nil {
		return fmt.Errorf("caps: %w", err)
	}
	return nil
}

func (g *Grant) check() error {
	if err := validate("grant", g.Access, g.Secret, g.Functions, g.Tag); err != nil {
		return err
	}
	switch {
	case g.Access == Assigned && len(g.Assignees) == 0:
		return malformed("grant", "an assigned grant needs at least one assignee")
	case g.Access != Assigned && len(g.Assignees) != 0:
		return malformed("grant", "only an assigned grant has assignees")
	case len(g.Assignees) > MaxAssignees:
		return malformed("grant", fmt.Sprintf("more than %d assignees", MaxAssignees))
	}
	for i, a := range g.Assignees {
		if slices.Contains(g.Assignees[:i], a) {
			return malformed("grant", "assignee "+a.String()+" listed twice")
		}
	}
	return nil
}

// Validate checks the claim. Errors wrap keys.ErrMalformed.
func (cl *Claim) Validate() error {
	if err := cl.check(); err != nil {
		return fmt.Errorf("caps: %w", err)
	}
	return nil
}

func (cl *Claim) check() error {
	return validate("claim", cl.Access, cl.Secret, cl.Functions, cl.Tag)
}

// validate is what grants, claims and tickets share. The error text names
// lengths, never secret bytes.
func validate(what string, access Access, secret []byte, fns []string, tag string) error {
	if _, err := ParseAccess(string(access)); err != nil {
		return malformed(what, fmt.Sprintf("access %q", access))
	}
	switch {
	case access == Unrestricted && secret != nil:
		return malformed(what, "an unrestricted grant has no secret")
	case access != Unrestricted && len(secret) != SecretSize:
		return malformed(what, fmt.Sprintf("the secret must be %d bytes, not %d", SecretSize, len(secret)))
	case len(fns) == 0:
		return malformed(what, "no functions")
	case len(fns) > MaxFunctions:
		return malformed(what, fmt.Sprintf("more than %d functions", MaxFunctions))
	case len(tag) > MaxTag:
		return malformed(what, fmt.Sprintf("the tag is over %d bytes", MaxTag))
	case !utf8.ValidString(tag):
		return malformed(what, "the tag is not UTF-8")
	case hasControl(tag):
		return malformed(what, "the tag contains control characters")
	}
	for i, f := range fns {
		if f != AllFunctions && !ValidFunction(f) {
			return malformed(what, fmt.Sprintf("function name %q: want [a-z][a-z0-9_]{0,63}, %q or %q", f, AllFunctions, ReceiveClaim))
		}
		if slices.Contains(fns[:i], f) {
			return malformed(what, fmt.Sprintf("function %q listed twice", f))
		}
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// malformed is a validation error, without the "caps: " prefix, which the
// exported functions add.
func malformed(what, why string) error {
	return fmt.Errorf("%w %s: %s", keys.ErrMalformed, what, why)
}

// Encode validates the grant and returns its canonical encoding.
func (g *Grant) Encode() ([]byte, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return detcbor.Marshal(g), nil
}

// Encode validates the claim and returns its canonical encoding.
func (cl *Claim) Encode() ([]byte, error) {
	if err := cl.Validate(); err != nil {
		return nil, err
	}
	return detcbor.Marshal(cl), nil
}

// errEntry is wrapped by the decoding errors of stored entries.
var errEntry = chain.ErrEncoding

// DecodeGrant parses a canonical grant entry; anything that is not valid or
// would not re-encode to the same bytes is an error wrapping chain.ErrEncoding.
func DecodeGrant(b []byte) (Grant, error) {
	var g Grant
	if err := decodeCanonical(b, &g, g.check); err != nil {
		return Grant{}, fmt.Errorf("caps: grant entry: %w", err)
	}
	return g, nil
}

// DecodeClaim parses a canonical claim entry, like DecodeGrant.
func DecodeClaim(b []byte) (Claim, error) {
	var cl Claim
	if err := decodeCanonical(b, &cl, cl.check); err != nil {
		return Claim{}, fmt.Errorf("caps: claim entry: %w", err)
	}
	return cl, nil
}

// decodeCanonical unmarshals b into v, validates it with check (a method
// value bound to v) and checks that v encodes back to b.
func decodeCanonical(b []byte, v any, check func() error) error {
	if err := decMode().Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", errEntry, err)
	}
	if err := check(); err != nil {
		return fmt.Errorf("%w: %v", errEntry, err)
	}
	if !bytes.Equal(detcbor.Marshal(v), b) {
		return fmt.Errorf("%w: not canonical", errEntry)
	}
	return nil
}
