package caps

import (
	"bytes"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/n2n-dev/n2n/keys"
)

// ticketText wraps any CBOR value in a ticket with a correct checksum.
func ticketText(t testing.TB, v any) string {
	t.Helper()
	body := mustMarshal(t, v)
	sum := keys.Sum256(body)
	return TicketPrefix + base64.RawURLEncoding.EncodeToString(append(body, sum[:4]...))
}

// flip returns a different base64url character.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func sampleTickets(t testing.TB) []Ticket {
	alice := keys.PublicKey{1, 2, 3}
	s := Secret(bytes.Repeat([]byte{0x5a}, SecretSize))
	return []Ticket{
		{Grantor: alice, Secret: s, Functions: []string{"publish_post"}, Access: Assigned, Tag: "write octopus camouflage articles for Alice"},
		{Grantor: alice, Secret: s, Functions: []string{"*"}, Access: Transferable},
		{Grantor: alice, Functions: []string{"ping", ReceiveClaim}, Access: Unrestricted, Tag: "ünïcode"},
	}
}

func TestTicketRoundTrip(t *testing.T) {
	for _, tk := range sampleTickets(t) {
		text := EncodeTicket(tk)
		if !strings.HasPrefix(text, "n2ncap1") || strings.ContainsAny(text, "=+/ \n") {
			t.Fatalf("ticket text %q", text)
		}
		for _, in := range []string{text, "  " + text + "\n", "\t" + text + "\r\n"} {
			got, err := ParseTicket(in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tk) {
				t.Fatalf("round trip: got %+v want %+v", got, tk)
			}
			if EncodeTicket(got) != text {
				t.Fatal("re-encoding differs")
			}
		}
		cl := ClaimFromTicket(tk)
		if cl.Grantor != tk.Grantor || !bytes.Equal(cl.Secret, tk.Secret) || cl.Access != tk.Access || cl.Tag != tk.Tag || !reflect.DeepEqual(cl.Functions, tk.Functions) {
			t.Fatalf("claim from ticket: %+v", cl)
		}
		if err := cl.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTicketTypo(t *testing.T) {
	for _, tk := range sampleTickets(t) {
		text := EncodeTicket(tk)
		last := len(text) - 1
		for i := len(TicketPrefix); i <= last; i++ {
			bad := text[:i] + flip(text[i]) + text[i+1:]
			_, err := ParseTicket(bad)
			switch {
			case err == nil:
				t.Fatalf("char %d changed: parsed", i)
			case i < last && !(errors.Is(err, keys.ErrChecksum) && strings.Contains(err.Error(), "checksum")):
				t.Fatalf("char %d changed: %v, want a checksum error", i, err)
			case i == last && !errors.Is(err, keys.ErrChecksum) && !errors.Is(err, keys.ErrMalformed):
				t.Fatalf("last char changed: %v", err)
			}
		}
	}
}

func TestTicketMalformed(t *testing.T) {
	tk := sampleTickets(t)[0]
	text := EncodeTicket(tk)
	body := text[len(TicketPrefix):]
	cases := map[string]string{
		"empty":           "",
		"prefix only":     TicketPrefix,
		"wrong prefix":    "n2ncap2" + body,
		"upper prefix":    "N2NCAP1" + body,
		"agent id":        tk.Grantor.String(),
		"space inside":    text[:40] + " " + text[40:],
		"newline inside":  text[:40] + "\n" + text[40:],
		"std alphabet":    text[:40] + "+" + text[41:],
		"padding":         text + "=",
		"truncated by 1":  text[:len(text)-1],
		"truncated by 3":  text[:len(text)-3],
		"short":           TicketPrefix + "AAAA",
		"too long":        TicketPrefix + strings.Repeat("A", maxTicketText),
		"not a map":       ticketText(t, []int{1, 2}),
		"unknown field":   ticketText(t, map[int]any{1: tk.Grantor, 2: []byte(tk.Secret), 3: tk.Functions, 4: "assigned", 9: 0}),
		"bad function":    ticketText(t, map[int]any{1: tk.Grantor, 2: []byte(tk.Secret), 3: []string{"Bad"}, 4: "assigned"}),
		"short secret":    ticketText(t, map[int]any{1: tk.Grantor, 2: []byte(tk.Secret[:8]), 3: tk.Functions, 4: "assigned"}),
		"no access":       ticketText(t, map[int]any{1: tk.Grantor, 2: []byte(tk.Secret), 3: tk.Functions}),
		"empty tag":       ticketText(t, map[int]any{1: tk.Grantor, 2: []byte(tk.Secret), 3: tk.Functions, 4: "assigned", 5: ""}),
		"non-canonical":   TicketPrefix + reencode(t, nonCanonical(mustMarshal(t, &tk))),
		"grantor 31 byte": ticketText(t, map[int]any{1: make([]byte, 31), 2: []byte(tk.Secret), 3: tk.Functions, 4: "assigned"}),
		"key 23":          ticketText(t, map[int]any{1: tk.Grantor, 2: []byte(tk.Secret), 3: tk.Functions, 4: "assigned", 23: 0}),
		"extension not canonical": TicketPrefix + reencode(t, append(
			append([]byte{0xa5}, mustMarshal(t, map[int]any{1: tk.Grantor, 2: []byte(tk.Secret), 3: tk.Functions, 4: "assigned"})[1:]...),
			0x18, 0x18, 0x18, 0x01)),
	}
	for name, in := range cases {
		_, err := ParseTicket(in)
		// Cutting characters off may leave valid base64 of fewer bytes,
		// which the checksum then catches.
		truncated := strings.HasPrefix(name, "truncated") && errors.Is(err, keys.ErrChecksum)
		if !errors.Is(err, keys.ErrMalformed) && !truncated {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// TestTicketExtensionField: a ticket of a later minor version, with a field
// under an extension key, parses; the field is kept, so the ticket encodes
// to the same text, and the claim stored from it does not hold it.
func TestTicketExtensionField(t *testing.T) {
	tk := sampleTickets(t)[1]
	body := append(append([]byte{0xa5}, mustMarshal(t, &tk)[1:]...), 0x18, 0x18, 0x64, 'h', 'i', 'g', 'h') // 24: "high"
	text := TicketPrefix + reencode(t, body)
	got, err := ParseTicket(text)
	if err != nil {
		t.Fatal(err)
	}
	if got.Grantor != tk.Grantor || !bytes.Equal(got.Secret, tk.Secret) || got.Access != tk.Access || len(got.Extensions) != 1 ||
		got.Extensions[0].Key != 24 || string(got.Extensions[0].Value) != "\x64high" {
		t.Fatalf("parsed %+v", got)
	}
	if EncodeTicket(got) != text {
		t.Fatal("re-encoding differs")
	}
	if cl := ClaimFromTicket(got); !bytes.Equal(mustMarshal(t, &cl), mustMarshal(t, &Claim{Grantor: tk.Grantor, Secret: tk.Secret, Functions: tk.Functions, Access: tk.Access})) {
		t.Fatalf("claim %+v", cl)
	}
}

// reencode appends a correct checksum to body and encodes it.
func reencode(t testing.TB, body []byte) string {
	sum := keys.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(append(body, sum[:4]...))
}

func FuzzParseTicket(f *testing.F) {
	for _, tk := range sampleTickets(f) {
		text := EncodeTicket(tk)
		f.Add(text)
		f.Add(" " + text + "\n")
		f.Add(text[:len(text)-2])
		f.Add(text[:20] + flip(text[20]) + text[21:])
	}
	f.Add("")
	f.Add(TicketPrefix)
	f.Add("n2ncap1AAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := ParseTicket(s)
		if err != nil {
			if !errors.Is(err, keys.ErrMalformed) && !errors.Is(err, keys.ErrChecksum) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			if trimmed := strings.TrimSpace(s); len(trimmed) > len(TicketPrefix)+8 && strings.Contains(err.Error(), trimmed[len(TicketPrefix):]) {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		if got := EncodeTicket(tk); got != strings.TrimSpace(s) {
			t.Fatalf("parse→encode: %q, want %q", got, strings.TrimSpace(s))
		}
		if err := tk.Validate(); err != nil {
			t.Fatalf("parsed an invalid ticket: %v", err)
		}
	})
}

func FuzzDecodeGrant(f *testing.F) {
	s := Secret(bytes.Repeat([]byte{1}, SecretSize))
	for _, g := range []Grant{
		{Access: Unrestricted, Functions: []string{"*"}},
		{Tag: "t", Access: Assigned, Secret: s, Assignees: []keys.PublicKey{{9}}, Functions: []string{"a", "b"}},
	} {
		b, err := g.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := DecodeGrant(b)
		if err != nil {
			return
		}
		again, err := g.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decode→encode: %x %v, want %x", again, err, b)
		}
	})
}
