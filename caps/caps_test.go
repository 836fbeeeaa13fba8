package caps

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// newChain is a fresh home (real Badger) in a temporary directory.
func newChain(t testing.TB) *chain.Chain {
	c, _ := newHome(t)
	return c
}

func newHome(t testing.TB) (*chain.Chain, string) {
	t.Helper()
	return newHomeIn(t, t.TempDir())
}

func newHomeIn(t testing.TB, home string) (*chain.Chain, string) {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Init(context.Background(), home, id, chain.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, home
}

// reopen closes the home and opens it again, as a new process would.
func reopen(t testing.TB, c *chain.Chain, home string) *chain.Chain {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := chain.Open(context.Background(), home, chain.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newAgent(t testing.TB) keys.PublicKey {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id.Public()
}

func mustSecret(t testing.TB) Secret {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// grant commits g and returns its ID and its stored form (with the secret
// CreateGrant generated).
func grant(t testing.TB, c *chain.Chain, g Grant) (keys.Hash, Grant) {
	t.Helper()
	r, err := CreateGrant(c, g)
	if err != nil {
		t.Fatalf("create grant %+v: %v", g, err)
	}
	gi, err := GetGrant(c, r.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return r.Hash, gi.Grant
}

func verify(t *testing.T, c *chain.Chain) {
	t.Helper()
	if _, err := c.Verify(); err != nil {
		t.Fatalf("chain verify: %v", err)
	}
}

// secretForms are the ways a secret could leak into text.
func secretForms(s []byte) []string {
	return []string{
		string(s),
		hex.EncodeToString(s),
		strings.ToUpper(hex.EncodeToString(s)),
		base64.StdEncoding.EncodeToString(s),
		base64.RawURLEncoding.EncodeToString(s),
		fmt.Sprint([]byte(s)),
		fmt.Sprintf("%q", []byte(s)),
		hex.EncodeToString(s[:8]),
		base64.RawURLEncoding.EncodeToString(s[:12]),
	}
}

func assertNoSecret(t *testing.T, what, text string, secret []byte) {
	t.Helper()
	for _, f := range secretForms(secret) {
		if strings.Contains(text, f) {
			t.Errorf("%s shows the secret: %q", what, text)
			return
		}
	}
}

func TestSecretFormatsRedacted(t *testing.T) {
	s := Secret(bytes.Repeat([]byte{0xab, 0xcd}, SecretSize/2))
	g := Grant{Tag: "t", Access: Transferable, Secret: s, Functions: []string{"f"}}
	cl := Claim{Grantor: newAgent(t), Secret: s, Functions: []string{"f"}, Access: Transferable}
	tk := NewTicket(newAgent(t), g)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		for _, v := range []any{g, &g, cl, tk, s} {
			out := fmt.Sprintf(verb, v)
			assertNoSecret(t, verb, out, s)
			if !strings.Contains(out, "[secret]") {
				t.Errorf("%s of %T: %q has no [secret]", verb, v, out)
			}
		}
	}
	// Explicit encoding still works for --show-secrets.
	if hex.EncodeToString(s) == "" || !bytes.Equal([]byte(s), bytes.Repeat([]byte{0xab, 0xcd}, SecretSize/2)) {
		t.Fatal("secret bytes")
	}
}

func TestErrorsNeverShowSecret(t *testing.T) {
	c := newChain(t)
	s := Secret(bytes.Repeat([]byte("K3y!"), SecretSize/4))
	var errs []error

	// Invalid grant carrying the secret.
	_, err := CreateGrant(c, Grant{Access: Transferable, Secret: s, Functions: []string{"Bad Name"}})
	errs = append(errs, err)
	_, err = CreateGrant(c, Grant{Access: Unrestricted, Secret: s, Functions: []string{"f"}})
	errs = append(errs, err)
	_, err = CreateGrant(c, Grant{Access: Transferable, Secret: s[:63], Functions: []string{"f"}})
	errs = append(errs, err)

	// Duplicate secret.
	id, _ := grant(t, c, Grant{Access: Transferable, Secret: s, Functions: []string{"f"}})
	_, err = CreateGrant(c, Grant{Access: Assigned, Secret: s, Assignees: []keys.PublicKey{newAgent(t)}, Functions: []string{"g"}})
	errs = append(errs, err)

	// Revoke twice, update a revoked grant.
	if _, err := Revoke(c, id); err != nil {
		t.Fatal(err)
	}
	_, err = Revoke(c, id)
	errs = append(errs, err)
	_, err = UpdateGrant(c, id, Grant{Access: Transferable, Secret: s, Functions: []string{"f"}})
	errs = append(errs, err)

	// Tickets: mistyped, and valid checksum over bad content.
	text := EncodeTicket(Ticket{Grantor: newAgent(t), Secret: s, Functions: []string{"f"}, Access: Transferable})
	_, err = ParseTicket(text[:20] + flip(text[20]) + text[21:])
	errs = append(errs, err)
	_, err = ParseTicket(ticketText(t, map[int]any{1: newAgent(t), 2: []byte(s), 3: []string{"F"}, 4: "transferable"}))
	errs = append(errs, err)
	_, err = ParseTicket(ticketText(t, map[int]any{1: newAgent(t), 2: []byte(s[:40]), 3: []string{"f"}, 4: "transferable"}))
	errs = append(errs, err)

	// Claims.
	_, err = AddClaim(c, Claim{Grantor: newAgent(t), Secret: s, Functions: []string{"*", "*"}, Access: Transferable})
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		assertNoSecret(t, fmt.Sprintf("error %d", i), err.Error(), s)
		assertNoSecret(t, fmt.Sprintf("error %d", i), err.Error(), s[:40])
		if strings.Contains(err.Error(), text[len(TicketPrefix):len(TicketPrefix)+16]) {
			t.Errorf("error %d quotes the ticket: %v", i, err)
		}
	}
}

func TestValidation(t *testing.T) {
	s := Secret(bytes.Repeat([]byte{7}, SecretSize))
	bob := newAgent(t)
	long := strings.Repeat("a", 64)
	cases := []struct {
		name string
		g    Grant
		ok   bool
	}{
		{"unrestricted", Grant{Access: Unrestricted, Functions: []string{"ping"}}, true},
		{"star", Grant{Access: Unrestricted, Functions: []string{"*"}}, true},
		{"builtin", Grant{Access: Assigned, Secret: s, Assignees: []keys.PublicKey{bob}, Functions: []string{ReceiveClaim}}, true},
		{"64-char name", Grant{Access: Transferable, Secret: s, Functions: []string{long}}, true},
		{"tag", Grant{Tag: "write octopus articles ✓", Access: Unrestricted, Functions: []string{"f"}}, true},
		{"65-char name", Grant{Access: Transferable, Secret: s, Functions: []string{long + "a"}}, false},
		{"upper case", Grant{Access: Unrestricted, Functions: []string{"Ping"}}, false},
		{"digit first", Grant{Access: Unrestricted, Functions: []string{"1f"}}, false},
		{"other builtin", Grant{Access: Unrestricted, Functions: []string{"n2n.other"}}, false},
		{"empty name", Grant{Access: Unrestricted, Functions: []string{""}}, false},
		{"no functions", Grant{Access: Unrestricted}, false},
		{"twice", Grant{Access: Unrestricted, Functions: []string{"f", "f"}}, false},
		{"unknown access", Grant{Access: "public", Functions: []string{"f"}}, false},
		{"no access", Grant{Functions: []string{"f"}}, false},
		{"unrestricted with secret", Grant{Access: Unrestricted, Secret: s, Functions: []string{"f"}}, false},
		{"unrestricted with empty secret", Grant{Access: Unrestricted, Secret: Secret{}, Functions: []string{"f"}}, false},
		{"transferable short secret", Grant{Access: Transferable, Secret: s[:32], Functions: []string{"f"}}, false},
		{"transferable no secret", Grant{Access: Transferable, Functions: []string{"f"}}, false},
		{"assigned no assignee", Grant{Access: Assigned, Secret: s, Functions: []string{"f"}}, false},
		{"assignee twice", Grant{Access: Assigned, Secret: s, Assignees: []keys.PublicKey{bob, bob}, Functions: []string{"f"}}, false},
		{"transferable with assignee", Grant{Access: Transferable, Secret: s, Assignees: []keys.PublicKey{bob}, Functions: []string{"f"}}, false},
		{"control in tag", Grant{Tag: "a\x1b[31m", Access: Unrestricted, Functions: []string{"f"}}, false},
		{"long tag", Grant{Tag: strings.Repeat("x", MaxTag+1), Access: Unrestricted, Functions: []string{"f"}}, false},
		{"bad utf8 tag", Grant{Tag: "\xff", Access: Unrestricted, Functions: []string{"f"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.g.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, keys.ErrMalformed) {
				t.Fatalf("%v does not wrap ErrMalformed", err)
			}
			if err == nil {
				b, err := tc.g.Encode()
				if err != nil {
					t.Fatal(err)
				}
				back, err := DecodeGrant(b)
				if err != nil {
					t.Fatal(err)
				}
				if again, _ := back.Encode(); !bytes.Equal(again, b) {
					t.Fatal("round trip changed the encoding")
				}
			}
		})
	}
}

func TestCreateGrantRefusesInvalid(t *testing.T) {
	c := newChain(t)
	head, _ := c.Head()
	for _, g := range []Grant{
		{Access: Unrestricted, Functions: []string{"Bad"}},
		{Access: Assigned, Functions: []string{"f"}},
		{Access: "everyone", Functions: []string{"f"}},
	} {
		if _, err := CreateGrant(c, g); !errors.Is(err, keys.ErrMalformed) {
			t.Errorf("CreateGrant(%+v) = %v, want ErrMalformed", g, err)
		}
	}
	if after, _ := c.Head(); after.Seq != head.Seq {
		t.Fatal("an invalid grant reached the chain")
	}
	if _, err := AddClaim(c, Claim{Functions: []string{"f"}, Access: Transferable}); !errors.Is(err, keys.ErrMalformed) {
		t.Fatalf("claim without secret: %v", err)
	}
}

func TestDecodeStrict(t *testing.T) {
	good := map[int]any{2: "unrestricted", 5: []string{"f"}}
	b := mustMarshal(t, good)
	if _, err := DecodeGrant(b); err != nil {
		t.Fatalf("good grant: %v", err)
	}
	bad := map[string][]byte{
		"empty tag present":  mustMarshal(t, map[int]any{1: "", 2: "unrestricted", 5: []string{"f"}}),
		"unknown field":      mustMarshal(t, map[int]any{2: "unrestricted", 5: []string{"f"}, 9: 1}),
		"empty secret":       mustMarshal(t, map[int]any{2: "unrestricted", 3: []byte{}, 5: []string{"f"}}),
		"empty assignees":    mustMarshal(t, map[int]any{2: "unrestricted", 4: []any{}, 5: []string{"f"}}),
		"short assignee key": mustMarshal(t, map[int]any{2: "assigned", 3: make([]byte, 64), 4: [][]byte{make([]byte, 31)}, 5: []string{"f"}}),
		"trailing bytes":     append(bytes.Clone(b), 0),
		"not canonical":      nonCanonical(b),
		"invalid content":    mustMarshal(t, map[int]any{2: "transferable", 5: []string{"f"}}),
		"empty":              nil,
	}
	for name, in := range bad {
		if _, err := DecodeGrant(in); !errors.Is(err, chain.ErrEncoding) {
			t.Errorf("%s: DecodeGrant = %v, want ErrEncoding", name, err)
		}
	}
	if _, err := DecodeClaim(b); err == nil {
		t.Error("a grant decoded as a claim")
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := detcbor.EncMode().Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nonCanonical re-encodes the map header of b (a small map) in a longer form.
func nonCanonical(b []byte) []byte {
	n := b[0] & 0x1f
	return append([]byte{0xb8, n}, b[1:]...)
}

// TestFunctionNameByHand: the hand-written name check accepts exactly what
// the pattern of function names does.
func TestFunctionNameByHand(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	alphabet := "az09_AZ.-* \x00é"
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"", "a", "publish_post", "_a", "0a", "a-b", strings.Repeat("a", 64), strings.Repeat("a", 65)}
	for range 20000 {
		b := make([]byte, r.IntN(70))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
			if r.IntN(2) == 0 {
				b[i] = byte('a' + r.IntN(26))
			}
		}
		names = append(names, string(b))
	}
	for _, n := range names {
		if got, want := isFunctionName(n), re.MatchString(n); got != want {
			t.Fatalf("isFunctionName(%q) = %v, the pattern says %v", n, got, want)
		}
	}
}
