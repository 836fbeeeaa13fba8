package vectors

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// ticket.txt: capability tickets.

// tickets are the vector's tickets, by field prefix: one transferable (with
// a secret), one unrestricted (without).
var tickets = []struct {
	prefix string
	ticket caps.Ticket
}{
	{"transferable_", caps.Ticket{
		Grantor:   identity(initSeed).Public(),
		Secret:    caps.Secret(run(0x80, caps.SecretSize)),
		Functions: []string{"echo", "publish_post"},
		Access:    caps.Transferable,
		Tag:       "for bob",
	}},
	{"unrestricted_", caps.Ticket{
		Grantor:   identity(initSeed).Public(),
		Functions: []string{"*"},
		Access:    caps.Unrestricted,
	}},
	{"extension_", caps.Ticket{
		Grantor:    identity(initSeed).Public(),
		Functions:  []string{"ping"},
		Access:     caps.Unrestricted,
		Tag:        "from v1.1",
		Extensions: []detcbor.Extension{{Key: 24, Value: []byte{0x64, 'h', 'i', 'g', 'h'}}},
	}},
}

func buildTicket() *file {
	f := &file{name: "ticket.txt"}
	f.comment(
		"n2n test vector: tickets (PROTOCOL.md, \"Tickets\").",
		"Inputs: grantor (agent key of ids.txt's init_seed), secret (absent: no field), functions",
		"(comma-separated), access, tag. Outputs: body, the canonical CBOR map",
		"{1: grantor, ? 2: secret, 3: [functions], 4: access, ? 5: tag}; checksum, the first 4 bytes of",
		"BLAKE2b-256(body); ticket, \"n2ncap1\" ‖ base64url without padding of (body ‖ checksum).",
		"The third ticket is of a later minor version: it has an extension field 24 (text \"high\"),",
		"extension_extension_24, which a v1 parser keeps aside and ignores.",
	)
	for _, x := range tickets {
		t := x.ticket
		text := caps.EncodeTicket(t)
		body := ticketBody(text)
		sum := keys.Sum256(body)
		f.blank()
		f.hex(x.prefix+"grantor", t.Grantor[:])
		if len(t.Secret) > 0 {
			f.hex(x.prefix+"secret", t.Secret)
		}
		f.text(x.prefix+"functions", strings.Join(t.Functions, ","))
		f.text(x.prefix+"access", string(t.Access))
		f.text(x.prefix+"tag", t.Tag)
		for _, e := range t.Extensions {
			f.hex(fmt.Sprintf("%sextension_%d", x.prefix, e.Key), e.Value)
		}
		f.hex(x.prefix+"body", body)
		f.hex(x.prefix+"checksum", sum[:4])
		f.text(x.prefix+"ticket", text)
	}
	return f
}

// ticketBody is the CBOR body of a ticket's text, without its checksum (nil
// if the text is not base64url after the prefix).
func ticketBody(text string) []byte {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimPrefix(text, caps.TicketPrefix))
	if err != nil || len(raw) < 4 {
		return nil
	}
	return raw[:len(raw)-4]
}

func checkTicket(p *fields) {
	for _, x := range tickets {
		want := x.ticket
		var t caps.Ticket
		copy(t.Grantor[:], p.hex(x.prefix+"grantor"))
		if len(want.Secret) > 0 {
			t.Secret = p.hex(x.prefix + "secret")
		}
		t.Functions = strings.Split(p.text(x.prefix+"functions"), ",")
		t.Access = caps.Access(p.text(x.prefix + "access"))
		t.Tag = p.text(x.prefix + "tag")
		for _, e := range want.Extensions {
			t.Extensions = append(t.Extensions, detcbor.Extension{Key: e.Key, Value: p.hex(fmt.Sprintf("%sextension_%d", x.prefix, e.Key))})
		}
		text := p.text(x.prefix + "ticket")
		if p.err != nil {
			return
		}
		// Decoding: the ticket text gives the inputs, its body and checksum.
		got, err := caps.ParseTicket(text)
		p.check(x.prefix+"ticket", err)
		if p.err == nil && !sameTicket(got, t) {
			p.fail("%sticket decodes to other fields than the inputs", x.prefix)
		}
		body := ticketBody(text)
		p.equal(x.prefix+"body", body)
		sum := keys.Sum256(body)
		p.equal(x.prefix+"checksum", sum[:4])
		// Encoding: the inputs give the ticket text.
		p.equalText(x.prefix+"ticket", caps.EncodeTicket(t))
	}
}

func sameTicket(a, b caps.Ticket) bool {
	return a.Grantor == b.Grantor && slices.Equal(a.Secret, b.Secret) && slices.Equal(a.Functions, b.Functions) &&
		a.Access == b.Access && a.Tag == b.Tag && sameExtensions(a.Extensions, b.Extensions)
}
