package caps

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// Ticket is what a grantor hands out of band so that the grantee can store a
// claim: "n2ncap1" + base64url (no padding) of the canonical CBOR encoding of
// the ticket followed by a 4-byte checksum (the first 4 bytes of BLAKE2b-256
// of the CBOR): keys.EncodeChecked. Its text holds the secret: treat it like
// a password.
//
// The CBOR body follows the protocol's version rule (PROTOCOL.md §10.4,
// §12): fields under extension keys (24 and up) that this version does not
// know are kept in Extensions, and otherwise ignored (a claim stored from the
// ticket does not hold them); core keys it does not know make it malformed.
type Ticket struct {
	Grantor    keys.PublicKey      `cbor:"1,keyasint"`
	Secret     Secret              `cbor:"2,keyasint,omitempty"`
	Functions  []string            `cbor:"3,keyasint"`
	Access     Access              `cbor:"4,keyasint"`
	Tag        string              `cbor:"5,keyasint,omitempty"`
	Extensions []detcbor.Extension `cbor:"-"`
}

// field is where the body's value under a core key decodes to (nil: not a
// key of this version).
func (t *Ticket) field(key uint64) any {
	switch key {
	case 1:
		return &t.Grantor
	case 2:
		return &t.Secret
	case 3:
		return &t.Functions
	case 4:
		return &t.Access
	case 5:
		return &t.Tag
	}
	return nil
}

// body is the ticket's canonical CBOR encoding.
func (t *Ticket) body() []byte { return detcbor.AppendExtensions(detcbor.Marshal(t), t.Extensions) }

// Protocol constants of the ticket text. They are frozen.
const (
	TicketPrefix = "n2ncap1"
	// maxTicketText bounds the text accepted, far above the largest valid
	// ticket (MaxFunctions names of 64 bytes and a MaxTag tag: about 6 KiB).
	maxTicketText = 16 << 10
)

// NewTicket is the ticket for a grant by grantor.
func NewTicket(grantor keys.PublicKey, g Grant) Ticket {
	return Ticket{
		Grantor:   grantor,
		Secret:    Secret(bytes.Clone(g.Secret)),
		Functions: slices.Clone(g.Functions),
		Access:    g.Access,
		Tag:       g.Tag,
	}
}

// ClaimFromTicket is the claim a grantee stores for a ticket.
func ClaimFromTicket(t Ticket) Claim {
	return Claim{
		Tag:       t.Tag,
		Grantor:   t.Grantor,
		Secret:    Secret(bytes.Clone(t.Secret)),
		Functions: slices.Clone(t.Functions),
		Access:    t.Access,
	}
}

// Validate checks the ticket as a claim would be checked.
func (t *Ticket) Validate() error {
	if err := validate("ticket", t.Access, t.Secret, t.Functions, t.Tag); err != nil {
		return fmt.Errorf("caps: %w", err)
	}
	return nil
}

// EncodeTicket returns the text form of t. It does not validate t: a ticket
// made with NewTicket from a stored grant is valid, and ParseTicket rejects
// any other.
func EncodeTicket(t Ticket) string {
	return keys.EncodeChecked(TicketPrefix, t.body())
}

// ParseTicket parses the text form of a ticket, surrounding white space
// ignored. A wrong prefix, alphabet, length or encoding is an error wrapping
// keys.ErrMalformed; a checksum that does not match (a typo) wraps
// keys.ErrChecksum. Error texts never quote the ticket.
func ParseTicket(s string) (Ticket, error) {
	body, err := keys.DecodeChecked(TicketPrefix, "ticket", s, maxTicketText)
	if err != nil {
		return Ticket{}, fmt.Errorf("caps: %w", err)
	}
	var t Ticket
	ext, err := detcbor.DecodeMap(decMode(), body, t.field)
	if err != nil {
		clear(t.Secret)
		return Ticket{}, fmt.Errorf("caps: %w ticket: bad encoding", keys.ErrMalformed)
	}
	t.Extensions = ext
	if err := t.Validate(); err != nil {
		clear(t.Secret)
		return Ticket{}, err
	}
	if !bytes.Equal(t.body(), body) {
		clear(t.Secret)
		return Ticket{}, fmt.Errorf("caps: %w ticket: not canonical", keys.ErrMalformed)
	}
	return t, nil
}
