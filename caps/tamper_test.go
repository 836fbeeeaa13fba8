package caps

import (
	"errors"
	"testing"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

// TestCheckRefusesAlteredGrant edits grant entries in a real Badger home,
// under their hashes, as someone with write access to the home could, so
// that each would let in a call its signed grant does not allow: another
// assignee, more functions, another secret. Check must refuse every such
// call with an *chain.IntegrityError (never allow it), go on allowing the
// grants left alone, and the chain must fail verify.
func TestCheckRefusesAlteredGrant(t *testing.T) {
	c, home := newHome(t)
	alice, mallory := newAgent(t), newAgent(t)
	stolen := mustSecret(t)
	aid, ag := grant(t, c, Grant{Access: Assigned, Assignees: []keys.PublicKey{alice}, Functions: []string{"read"}})
	tid, tg := grant(t, c, Grant{Access: Transferable, Functions: []string{"read"}})
	sid, _ := grant(t, c, Grant{Access: Transferable, Functions: []string{"read"}})
	oid, _ := grant(t, c, Grant{Access: Unrestricted, Functions: []string{"ping"}})
	_, keep := grant(t, c, Grant{Access: Transferable, Functions: []string{"keep"}})
	c = reopen(t, c, home) // as the daemon finds the home when it starts

	edits := []struct {
		id     keys.Hash
		edit   func(g *Grant)
		caller keys.PublicKey
		fn     string
		secret []byte
	}{
		{aid, func(g *Grant) { g.Assignees = []keys.PublicKey{mallory} }, mallory, "read", ag.Secret},
		{tid, func(g *Grant) { g.Functions = []string{AllFunctions} }, mallory, "write", tg.Secret},
		// The secret index still names the grant by the old secret's digest:
		// add the stolen secret's digest too, as a full edit would.
		{sid, func(g *Grant) { g.Secret = stolen }, mallory, "read", stolen},
		{oid, func(g *Grant) { g.Functions = []string{"ping", "admin"} }, mallory, "ping", nil},
	}
	for _, e := range edits {
		r, err := c.Get(e.id)
		if err != nil {
			t.Fatal(err)
		}
		err = chain.AlterEntry(c, r.EntryHash, func(b []byte) []byte {
			g, err := DecodeGrant(b)
			if err != nil {
				t.Fatal(err)
			}
			e.edit(&g)
			nb, err := g.Encode()
			if err != nil {
				t.Fatal(err)
			}
			return nb
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Append(chain.Draft{Type: chain.Create, EntryType: "app:test", Entry: []byte("x"),
		Index: []chain.IndexWrite{{Name: idxSecret, Key: secretDigest(stolen), Value: sid[:]}}}); err != nil {
		t.Fatal(err)
	}
	for i, e := range edits {
		d, err := Check(c, e.caller, e.fn, e.secret)
		var ie *chain.IntegrityError
		if d.Allowed || !errors.As(err, &ie) {
			t.Errorf("edit %d: %s under an altered grant: %+v, %v", i, e.fn, d, err)
		}
		if err != nil && e.secret != nil {
			assertNoSecret(t, "check error", err.Error(), e.secret)
		}
	}
	if d, err := Check(c, mallory, "keep", keep.Secret); err != nil || !d.Allowed {
		t.Fatalf("a grant left alone: %+v %v", d, err)
	}
	var ie *chain.IntegrityError
	if _, err := c.Verify(); !errors.As(err, &ie) {
		t.Fatalf("verify: %v", err)
	}
}
