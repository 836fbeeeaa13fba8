package peers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

func TestValidName(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen)
	for name, ok := range map[string]bool{
		"bob": true, "a": true, "alice-2": true, "carol_w": true, long: true, long + "x": false,
		"": false, "Bob": false, "2bob": false, "-bob": false, "bob!": false, "bo b": false, "böb": false,
		"self": false, "u": false, "uh": false, "uhc": false, "uhcak123": false, "uha": true, "us": true,
		"bob\n": false, "bob\x1b": false,
	} {
		if err := ValidName(name); (err == nil) != ok {
			t.Errorf("ValidName(%q) = %v", name, err)
		} else if err != nil && !errors.Is(err, ErrBadName) {
			t.Errorf("ValidName(%q): %v is not ErrBadName", name, err)
		}
	}
}

func newKey(t *testing.T) keys.PublicKey {
	t.Helper()
	id, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return id.Public()
}

// TestContacts: a name names one agent, an agent has one name; lookups by
// name and by agent; remove.
func TestContacts(t *testing.T) {
	c := Contacts{Store: &MemStore{}}
	bob, carol := newKey(t), newKey(t)
	now := time.Now()
	if err := c.Add("bob", bob, now); err != nil {
		t.Fatal(err)
	}
	if err := c.Add("bob", bob, now); err != nil {
		t.Errorf("the same name again: %v", err)
	}
	if err := c.Add("bob", carol, now); !errors.Is(err, ErrNameTaken) {
		t.Errorf("a name taken: %v", err)
	}
	if err := c.Add("robert", bob, now); !errors.Is(err, ErrKnownContact) {
		t.Errorf("a second name: %v", err)
	}
	if err := c.Add("carol", carol, now); err != nil {
		t.Fatal(err)
	}
	if k, ok, err := c.Lookup("carol"); err != nil || !ok || k.Agent != carol {
		t.Errorf("Lookup(carol) = %+v %v %v", k, ok, err)
	}
	if k, ok, err := c.Of(bob); err != nil || !ok || k.Name != "bob" || !k.Added.Equal(time.UnixMicro(now.UnixMicro())) {
		t.Errorf("Of(bob) = %+v %v %v", k, ok, err)
	}
	if list, err := c.List(); err != nil || len(list) != 2 || list[0].Name != "bob" || list[1].Name != "carol" {
		t.Errorf("List = %+v %v", list, err)
	}
	if _, err := c.Remove("bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Of(bob); ok {
		t.Error("bob is still a contact")
	}
	if _, err := c.Remove("bob"); !errors.Is(err, ErrNoContact) {
		t.Errorf("removing a name twice: %v", err)
	}
	if err := c.Add("robert", bob, now); err != nil {
		t.Errorf("a name after the old one went: %v", err)
	}
}

// FuzzDecodeContact: a stored contact decodes to a valid name or an error,
// never a panic, and what decodes encodes back to a value that decodes the
// same.
func FuzzDecodeContact(f *testing.F) {
	f.Add(detcbor.Marshal(&contactValue{Name: "bob", Added: 1_700_000_000_000_000}))
	f.Add(detcbor.Marshal(&contactValue{Name: "self"}))
	f.Add([]byte{0xa2, 0x01, 0x61, 0x62, 0x02, 0x00})
	f.Add([]byte{0xff})
	var agent keys.PublicKey
	f.Fuzz(func(t *testing.T, v []byte) {
		k, err := DecodeContact(agent, v)
		if err != nil {
			return
		}
		if ValidName(k.Name) != nil {
			t.Fatalf("decoded an invalid name %q", k.Name)
		}
		again, err := DecodeContact(agent, detcbor.Marshal(&contactValue{Name: k.Name, Added: k.Added.UnixMicro()}))
		if err != nil || again != k {
			t.Fatalf("%+v encodes to %+v, %v", k, again, err)
		}
	})
}
