package caps

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

func TestCheck(t *testing.T) {
	c := newChain(t)
	self := c.Identity().Public()
	bob, mallory := newAgent(t), newAgent(t)

	openID, _ := grant(t, c, Grant{Tag: "anyone may ping", Access: Unrestricted, Functions: []string{"ping"}})
	transID, trans := grant(t, c, Grant{Tag: "readers", Access: Transferable, Functions: []string{"read", "list"}})
	assnID, assn := grant(t, c, Grant{Tag: "bob writes", Access: Assigned, Assignees: []keys.PublicKey{newAgent(t), bob}, Functions: []string{"write"}})
	starID, star := grant(t, c, Grant{Tag: "everything", Access: Transferable, Functions: []string{"*"}})

	wrong := mustSecret(t)
	near := bytes.Clone(trans.Secret)
	near[63] ^= 1
	long := append(bytes.Clone(trans.Secret), 0)

	type want struct {
		access string
		id     keys.Hash
		tag    string
	}
	refused := want{}
	cases := []struct {
		name   string
		caller keys.PublicKey
		fn     string
		secret []byte
		want   want
	}{
		{"author", self, "anything", nil, want{AccessAuthor, keys.Hash{}, ""}},
		{"author, unknown name", self, "Not-A-Name", nil, want{AccessAuthor, keys.Hash{}, ""}},
		{"unrestricted", mallory, "ping", nil, want{"unrestricted", openID, "anyone may ping"}},
		{"unrestricted, wrong secret", mallory, "ping", wrong, want{"unrestricted", openID, "anyone may ping"}},
		{"unrestricted, other grant's secret", mallory, "ping", trans.Secret, want{"unrestricted", openID, "anyone may ping"}},
		{"unrestricted, short secret", mallory, "ping", []byte("x"), want{"unrestricted", openID, "anyone may ping"}},
		{"transferable", mallory, "read", trans.Secret, want{"transferable", transID, "readers"}},
		{"transferable, second function", bob, "list", trans.Secret, want{"transferable", transID, "readers"}},
		{"transferable, no secret", mallory, "read", nil, refused},
		{"transferable, wrong secret", mallory, "read", wrong, refused},
		{"transferable, one bit off", mallory, "read", near, refused},
		{"transferable, secret too long", mallory, "read", long, refused},
		{"transferable, secret truncated", mallory, "read", trans.Secret[:63], refused},
		{"transferable, function not covered", mallory, "write", trans.Secret, refused},
		{"assigned", bob, "write", assn.Secret, want{"assigned", assnID, "bob writes"}},
		{"assigned, not an assignee", mallory, "write", assn.Secret, refused},
		{"assigned, no secret", bob, "write", nil, refused},
		{"assigned, wrong secret", bob, "write", wrong, refused},
		{"assigned, function not covered", bob, "read", assn.Secret, refused},
		{"star covers anything", mallory, "frobnicate", star.Secret, want{"transferable", starID, "everything"}},
		{"star covers built-ins", mallory, ReceiveClaim, star.Secret, want{"transferable", starID, "everything"}},
		{"built-in not covered", mallory, ReceiveClaim, trans.Secret, refused},
		{"star covers write", bob, "write", star.Secret, want{"transferable", starID, "everything"}},
		{"nothing covers", mallory, "frobnicate", nil, refused},
		{"star is not a function", mallory, "*", star.Secret, refused},
		{"invalid name", mallory, "Read", trans.Secret, refused},
		{"empty name", mallory, "", star.Secret, refused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Check(c, tc.caller, tc.fn, tc.secret)
			if err != nil {
				t.Fatal(err)
			}
			got := want{d.Access, d.GrantID, d.Tag}
			if d.Allowed != (tc.want.access != "") || got != tc.want {
				t.Fatalf("Check = %+v, want %+v", d, tc.want)
			}
		})
	}
}

func TestCheckUnrestrictedStar(t *testing.T) {
	c := newChain(t)
	id, _ := grant(t, c, Grant{Access: Unrestricted, Functions: []string{"*"}})
	for _, fn := range []string{"a", "zz_9", ReceiveClaim} {
		d, err := Check(c, newAgent(t), fn, mustSecret(t))
		if err != nil || !d.Allowed || d.Access != "unrestricted" || d.GrantID != id {
			t.Fatalf("%s: %+v %v", fn, d, err)
		}
	}
	// A name sharing a prefix with a granted one is not covered.
	c2 := newChain(t)
	grant(t, c2, Grant{Access: Unrestricted, Functions: []string{"read"}})
	for _, fn := range []string{"rea", "read_all", "reads"} {
		if d, err := Check(c2, newAgent(t), fn, nil); err != nil || d.Allowed {
			t.Fatalf("%s: %+v %v", fn, d, err)
		}
	}
}

func TestRevoke(t *testing.T) {
	c := newChain(t)
	caller := newAgent(t)
	transID, trans := grant(t, c, Grant{Access: Transferable, Functions: []string{"read"}})
	openID, _ := grant(t, c, Grant{Access: Unrestricted, Functions: []string{"ping", "pong"}})
	assnID, assn := grant(t, c, Grant{Access: Assigned, Assignees: []keys.PublicKey{caller}, Functions: []string{"write"}})
	keepID, keep := grant(t, c, Grant{Access: Transferable, Functions: []string{"keep"}})

	allowed := func(fn string, secret []byte) bool {
		t.Helper()
		d, err := Check(c, caller, fn, secret)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed
	}
	steps := []struct {
		id     keys.Hash
		fn     string
		secret []byte
		keys   func() int // index entries of the grant
	}{
		{transID, "read", trans.Secret, func() int { return countIndex(t, c, idxSecret, secretDigest(trans.Secret)) }},
		{openID, "pong", nil, func() int { return countIndex(t, c, idxOpen, []byte("p")) }},
		{assnID, "write", assn.Secret, func() int { return countIndex(t, c, idxSecret, secretDigest(assn.Secret)) }},
	}
	for _, s := range steps {
		if !allowed(s.fn, s.secret) {
			t.Fatalf("%s refused before revoke", s.fn)
		}
		if s.keys() == 0 {
			t.Fatalf("%s: no index entries before revoke", s.fn)
		}
		r, err := Revoke(c, s.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != chain.Delete || r.TargetHash() != s.id || r.EntryType != chain.EntryCapGrant {
			t.Fatalf("revoke action %+v", r.Action)
		}
		if allowed(s.fn, s.secret) {
			t.Fatalf("%s allowed right after revoke", s.fn)
		}
		if n := s.keys(); n != 0 {
			t.Fatalf("%s: %d index entries left after revoke", s.fn, n)
		}
		if _, err := Revoke(c, s.id); !errors.Is(err, ErrRevoked) {
			t.Fatalf("second revoke: %v", err)
		}
		if _, err := UpdateGrant(c, s.id, Grant{Access: Unrestricted, Functions: []string{"x"}}); !errors.Is(err, ErrRevoked) {
			t.Fatalf("update of a revoked grant: %v", err)
		}
		gi, err := GetGrant(c, s.id)
		if err != nil || !gi.Revoked || gi.Live() {
			t.Fatalf("after revoke: %+v %v", gi, err)
		}
	}
	// The grant left alone still works.
	if !allowed("keep", keep.Secret) {
		t.Fatal("unrelated grant stopped working")
	}
	live, err := Grants(c, false)
	if err != nil || len(live) != 1 || live[0].ID != keepID {
		t.Fatalf("live grants: %+v %v", live, err)
	}
	all, err := Grants(c, true)
	if err != nil || len(all) != 4 {
		t.Fatalf("all grants: %d %v", len(all), err)
	}
	for _, gi := range all {
		if gi.Revoked != (gi.ID != keepID) {
			t.Fatalf("grant %s revoked=%v", gi.ID.ActionString(), gi.Revoked)
		}
	}

	// Unknown grant, and actions that are not grants.
	cl, err := AddClaim(c, Claim{Grantor: caller, Secret: mustSecret(t), Functions: []string{"f"}, Access: Transferable})
	if err != nil {
		t.Fatal(err)
	}
	genesis, _ := c.BySeq(0)
	last, _ := c.Head()
	for _, id := range []keys.Hash{{1, 2, 3}, cl.Hash, genesis.Hash} {
		if _, err := Revoke(c, id); !errors.Is(err, chain.ErrNotFound) {
			t.Fatalf("revoke %s: %v", id.ActionString(), err)
		}
	}
	if h, _ := c.Head(); h.Seq != last.Seq {
		t.Fatal("a failed revoke appended")
	}
	verify(t, c)
}

func countIndex(t *testing.T, c *chain.Chain, name string, prefix []byte) int {
	t.Helper()
	n := 0
	if err := c.IndexScan(name, prefix, func(_, _ []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUpdateGrant(t *testing.T) {
	c := newChain(t)
	bob := newAgent(t)
	oldID, old := grant(t, c, Grant{Tag: "v1", Access: Transferable, Functions: []string{"read"}})

	// Keep the secret, widen the functions.
	r, err := UpdateGrant(c, oldID, Grant{Tag: "v2", Access: Transferable, Functions: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	newID := r.Hash
	d, err := Check(c, bob, "write", old.Secret)
	if err != nil || !d.Allowed || d.GrantID != newID || d.Tag != "v2" {
		t.Fatalf("after update: %+v %v", d, err)
	}
	gi, err := GetGrant(c, oldID)
	if err != nil || gi.Live() || gi.ReplacedBy != newID || gi.Revoked {
		t.Fatalf("old grant: %+v %v", gi, err)
	}
	ni, err := GetGrant(c, newID)
	if err != nil || !ni.Live() || ni.Replaces != oldID || !bytes.Equal(ni.Secret, old.Secret) {
		t.Fatalf("new grant: %+v %v", ni, err)
	}
	if _, err := Revoke(c, oldID); !errors.Is(err, ErrReplaced) {
		t.Fatalf("revoke replaced: %v", err)
	}

	// Turn it into an unrestricted grant: the secret stops mattering and
	// its index entry goes.
	r2, err := UpdateGrant(c, newID, Grant{Access: Unrestricted, Functions: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := countIndex(t, c, idxSecret, secretDigest(old.Secret)); n != 0 {
		t.Fatalf("secret index left: %d", n)
	}
	if d, _ := Check(c, bob, "write", old.Secret); d.Allowed {
		t.Fatal("write still allowed")
	}
	if d, _ := Check(c, bob, "read", nil); !d.Allowed || d.GrantID != r2.Hash {
		t.Fatalf("read: %+v", d)
	}
	// And back to assigned, with a fresh secret.
	r3, err := UpdateGrant(c, r2.Hash, Grant{Access: Assigned, Assignees: []keys.PublicKey{bob}, Functions: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if countIndex(t, c, idxOpen, nil) != 0 {
		t.Fatal("open index left")
	}
	g3, _ := GetGrant(c, r3.Hash)
	if len(g3.Secret) != SecretSize || bytes.Equal(g3.Secret, old.Secret) {
		t.Fatal("assigned grant did not get a fresh secret")
	}
	if d, _ := Check(c, bob, "read", g3.Secret); !d.Allowed || d.Access != "assigned" {
		t.Fatalf("assigned read: %+v", d)
	}
	live, _ := Grants(c, false)
	if len(live) != 1 || live[0].ID != r3.Hash {
		t.Fatalf("live: %+v", live)
	}
	if _, err := Revoke(c, r3.Hash); err != nil {
		t.Fatal(err)
	}
	if d, _ := Check(c, bob, "read", g3.Secret); d.Allowed {
		t.Fatal("allowed after revoking the update")
	}
	verify(t, c)
}

// TestDuplicates: a secret is used by one live grant at a time; two
// identical unrestricted grants are two grants, each revoked on its own.
func TestDuplicates(t *testing.T) {
	c := newChain(t)
	caller := newAgent(t)
	ping := Grant{Tag: "t", Access: Unrestricted, Functions: []string{"ping"}}
	id1, _ := grant(t, c, ping)
	id2, _ := grant(t, c, ping)
	if id1 == id2 {
		t.Fatal("same grant ID")
	}
	if r1, _ := c.Get(id1); true {
		if r2, _ := c.Get(id2); r1.EntryHash != r2.EntryHash {
			t.Fatal("identical grants with different entries")
		}
	}
	if n := countIndex(t, c, idxOpen, openPrefix("ping")); n != 2 {
		t.Fatalf("capopen ping: %d keys", n)
	}
	first := id1 // Check names the lowest grant ID
	if bytes.Compare(id2[:], id1[:]) < 0 {
		first = id2
	}
	d, err := Check(c, caller, "ping", nil)
	if err != nil || !d.Allowed || d.GrantID != first {
		t.Fatalf("ping with two grants: %+v %v", d, err)
	}
	// Revoking one leaves the other, which Check then names.
	if _, err := Revoke(c, id1); err != nil {
		t.Fatal(err)
	}
	if d, err := Check(c, caller, "ping", nil); err != nil || !d.Allowed || d.GrantID != id2 {
		t.Fatalf("ping after revoking one of two: %+v %v", d, err)
	}
	if _, err := Revoke(c, id2); err != nil {
		t.Fatal(err)
	}
	if d, err := Check(c, caller, "ping", nil); err != nil || d.Allowed {
		t.Fatalf("ping after revoking both: %+v %v", d, err)
	}
	if n := countIndex(t, c, idxOpen, nil); n != 0 {
		t.Fatalf("capopen: %d keys left", n)
	}

	// A secret in use by a live grant is refused, for a create and for an
	// update of another grant.
	s := mustSecret(t)
	sid, _ := grant(t, c, Grant{Access: Transferable, Secret: s, Functions: []string{"a"}})
	other, _ := grant(t, c, Grant{Access: Transferable, Functions: []string{"b"}})
	head, _ := c.Head()
	if _, err := CreateGrant(c, Grant{Access: Assigned, Secret: s, Assignees: []keys.PublicKey{newAgent(t)}, Functions: []string{"b"}}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("same secret: %v", err)
	}
	if _, err := CreateGrant(c, Grant{Access: Transferable, Secret: s, Functions: []string{"a"}}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("identical transferable grant: %v", err)
	}
	if _, err := UpdateGrant(c, other, Grant{Access: Transferable, Secret: s, Functions: []string{"b"}}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("update to another grant's secret: %v", err)
	}
	if h, _ := c.Head(); h.Seq != head.Seq {
		t.Fatal("a refused grant was appended")
	}
	if _, err := Revoke(c, sid); err != nil {
		t.Fatal(err)
	}
	if n := countIndex(t, c, idxSecret, secretDigest(s)); n != 0 {
		t.Fatalf("secret index of a revoked grant: %d", n)
	}
	// Revoked, the same grant can be made again: it has the same entry as
	// the revoked one, and Check names the new one.
	sid2, _ := grant(t, c, Grant{Access: Transferable, Secret: s, Functions: []string{"a"}})
	d, err = Check(c, caller, "a", s)
	if err != nil || !d.Allowed || d.GrantID != sid2 {
		t.Fatalf("re-made grant: %+v %v (old %s)", d, err, sid.ActionString())
	}
	verify(t, c)
}

// TestIndexNamesGrantID: both indexes name grants by grant ID, and an update
// moves the entries to the new grant ID in its own action.
func TestIndexNamesGrantID(t *testing.T) {
	c := newChain(t)
	tid, tg := grant(t, c, Grant{Access: Transferable, Functions: []string{"read"}})
	oid, _ := grant(t, c, Grant{Access: Unrestricted, Functions: []string{"ping", "*"}})
	if v := mustIndex(t, c, idxSecret, string(secretDigest(tg.Secret))); !bytes.Equal(v, tid[:]) {
		t.Fatalf("capsecret names %x, not the grant ID", v)
	}
	openKeys := func() []string {
		var ks []string
		if err := c.IndexScan(idxOpen, nil, func(k, _ []byte) error { ks = append(ks, string(k)); return nil }); err != nil {
			t.Fatal(err)
		}
		return ks
	}
	if ks := openKeys(); len(ks) != 2 || ks[0] != string(openKey("*", oid)) || ks[1] != string(openKey("ping", oid)) {
		t.Fatalf("capopen keys: %q", ks)
	}

	// Update: the kept secret now names the update.
	u, err := UpdateGrant(c, tid, Grant{Tag: "v2", Access: Transferable, Functions: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if v := mustIndex(t, c, idxSecret, string(secretDigest(tg.Secret))); !bytes.Equal(v, u.Hash[:]) {
		t.Fatalf("capsecret after update names %x", v)
	}
	if n := countIndex(t, c, idxSecret, nil); n != 1 {
		t.Fatalf("capsecret: %d keys", n)
	}
	ou, err := UpdateGrant(c, oid, Grant{Access: Unrestricted, Functions: []string{"pong"}})
	if err != nil {
		t.Fatal(err)
	}
	if ks := openKeys(); len(ks) != 1 || ks[0] != string(openKey("pong", ou.Hash)) {
		t.Fatalf("capopen keys after update: %q", ks)
	}
	for _, tc := range []struct {
		fn     string
		secret []byte
		id     keys.Hash
	}{{"read", tg.Secret, u.Hash}, {"pong", nil, ou.Hash}, {"ping", nil, keys.Hash{}}} {
		d, err := Check(c, newAgent(t), tc.fn, tc.secret)
		if err != nil || d.Allowed != !tc.id.IsZero() || d.GrantID != tc.id {
			t.Fatalf("%s: %+v %v", tc.fn, d, err)
		}
	}
	verify(t, c)
}

func TestLookupGrant(t *testing.T) {
	c := newChain(t)
	id, _ := grant(t, c, Grant{Access: Transferable, Functions: []string{"read"}})
	full := id.ActionString()
	for _, text := range []string{full, full[:13], "  " + full[:20] + "\n"} {
		gi, err := LookupGrant(c, text)
		if err != nil || gi.ID != id || !gi.Live() || gi.Access != Transferable {
			t.Fatalf("LookupGrant(%q) = %+v, %v", text, gi, err)
		}
	}
	if _, err := LookupGrant(c, full[:12]); !errors.Is(err, keys.ErrMalformed) {
		t.Fatalf("too short: %v", err)
	}
	typo := full[:30] + flip(full[30]) + full[31:]
	if _, err := LookupGrant(c, typo); !errors.Is(err, keys.ErrChecksum) {
		t.Fatalf("typo: %v", err)
	}
	if _, err := LookupGrant(c, keys.Hash{9}.ActionString()); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	genesis, _ := c.BySeq(0)
	if _, err := LookupGrant(c, genesis.Hash.ActionString()); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("genesis as a grant: %v", err)
	}
	del, err := Revoke(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LookupGrant(c, del.Hash.ActionString()); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("the delete action as a grant: %v", err)
	}
	if gi, err := LookupGrant(c, full); err != nil || !gi.Revoked {
		t.Fatalf("revoked grant: %+v %v", gi, err)
	}
	if _, err := LookupClaim(c, full); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("grant as a claim: %v", err)
	}
}

func TestClaims(t *testing.T) {
	c := newChain(t)
	alice, carol := newAgent(t), newAgent(t)
	s1, s2 := mustSecret(t), mustSecret(t)

	tk, err := ParseTicket(EncodeTicket(Ticket{Grantor: alice, Secret: s1, Functions: []string{"publish_post"}, Access: Assigned, Tag: "octopus"}))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := AddClaim(c, ClaimFromTicket(tk))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := AddClaim(c, Claim{Grantor: alice, Secret: s2, Functions: []string{"*"}, Access: Transferable})
	if err != nil {
		t.Fatal(err)
	}
	r3, err := AddClaim(c, Claim{Grantor: carol, Functions: []string{"ping"}, Access: Unrestricted})
	if err != nil {
		t.Fatal(err)
	}

	list, err := Claims(c)
	if err != nil || len(list) != 3 || list[0].ID != r1.Hash || list[1].ID != r2.Hash || list[2].ID != r3.Hash {
		t.Fatalf("claims: %+v %v", list, err)
	}
	if list[0].Tag != "octopus" || !bytes.Equal(list[0].Secret, s1) || list[0].Grantor != alice || list[0].Time.IsZero() {
		t.Fatalf("claim 0: %+v", list[0])
	}

	find := func(grantor keys.PublicKey, fn string) (keys.Hash, bool) {
		ci, ok, err := FindClaim(c, grantor, fn)
		if err != nil {
			t.Fatal(err)
		}
		return ci.ID, ok
	}
	// The newest covering claim wins: the "*" claim is newer than the
	// publish_post one.
	if id, ok := find(alice, "publish_post"); !ok || id != r2.Hash {
		t.Fatalf("publish_post: %v %v", id, ok)
	}
	if id, ok := find(alice, "anything"); !ok || id != r2.Hash {
		t.Fatal("star claim does not cover")
	}
	if id, ok := find(carol, "ping"); !ok || id != r3.Hash {
		t.Fatal("carol ping")
	}
	if _, ok := find(carol, "pong"); ok {
		t.Fatal("carol pong found")
	}
	if _, ok := find(newAgent(t), "ping"); ok {
		t.Fatal("claim from a stranger found")
	}
	r4, err := AddClaim(c, ClaimFromTicket(tk))
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := find(alice, "publish_post"); id != r4.Hash {
		t.Fatal("newest claim not chosen")
	}

	// A deleted claim (no command makes one yet) is gone from every view.
	if _, err := c.Append(chain.Draft{Type: chain.Delete, EntryType: chain.EntryCapClaim, Target: r4.Hash}); err != nil {
		t.Fatal(err)
	}
	if id, _ := find(alice, "publish_post"); id != r2.Hash {
		t.Fatal("deleted claim still found")
	}
	if _, err := LookupClaim(c, r4.Hash.ActionString()); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("deleted claim: %v", err)
	}
	if list, _ := Claims(c); len(list) != 3 {
		t.Fatalf("claims after delete: %d", len(list))
	}

	ci, err := LookupClaim(c, r1.Hash.ActionString()[:14])
	if err != nil || ci.ID != r1.Hash {
		t.Fatalf("lookup claim: %+v %v", ci, err)
	}
	if _, err := LookupGrant(c, r1.Hash.ActionString()); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("claim as a grant: %v", err)
	}
	// Claims do not authorize anything on the holder's own chain.
	if d, _ := Check(c, alice, "publish_post", s1); d.Allowed {
		t.Fatal("a claim authorized a call")
	}
	verify(t, c)
}

// TestEndToEnd follows the seed's story: Alice grants Bob publish_post,
// hands him a ticket, Bob stores the claim, presents its secret, Alice
// revokes.
func TestEndToEnd(t *testing.T) {
	alice, bob := newChain(t), newChain(t)
	bobKey := bob.Identity().Public()
	r, err := CreateGrant(alice, Grant{Tag: "octopus camouflage", Access: Assigned, Assignees: []keys.PublicKey{bobKey}, Functions: []string{"publish_post"}})
	if err != nil {
		t.Fatal(err)
	}
	gi, err := GetGrant(alice, r.Hash)
	if err != nil {
		t.Fatal(err)
	}
	text := EncodeTicket(NewTicket(alice.Identity().Public(), gi.Grant))

	tk, err := ParseTicket(text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AddClaim(bob, ClaimFromTicket(tk)); err != nil {
		t.Fatal(err)
	}
	ci, ok, err := FindClaim(bob, alice.Identity().Public(), "publish_post")
	if err != nil || !ok {
		t.Fatalf("find claim: %v %v", ok, err)
	}
	d, err := Check(alice, bobKey, "publish_post", ci.Secret)
	if err != nil || !d.Allowed || d.Access != "assigned" || d.GrantID != r.Hash || d.Tag != "octopus camouflage" {
		t.Fatalf("bob's call: %+v %v", d, err)
	}
	// Someone who copies the ticket is not Bob.
	if d, _ := Check(alice, newAgent(t), "publish_post", ci.Secret); d.Allowed {
		t.Fatal("ticket thief allowed")
	}
	if _, err := Revoke(alice, r.Hash); err != nil {
		t.Fatal(err)
	}
	if d, _ := Check(alice, bobKey, "publish_post", ci.Secret); d.Allowed {
		t.Fatal("allowed after revoke")
	}
	verify(t, alice)
	verify(t, bob)
}

// TestCheckDistrustsIndex: the indexes only find candidates; the grant
// itself must still be live, of the right kind, and its secret must match.
// Index entries that this package never writes (pointing a foreign secret's
// digest at a grant, listing a transferable or a revoked grant as open) must
// not let a call in.
func TestCheckDistrustsIndex(t *testing.T) {
	c := newChain(t)
	id, g := grant(t, c, Grant{Access: Transferable, Functions: []string{"read"}})
	oid, _ := grant(t, c, Grant{Access: Unrestricted, Functions: []string{"gone"}})
	rid, rg := grant(t, c, Grant{Access: Transferable, Functions: []string{"read"}})
	for _, h := range []keys.Hash{oid, rid} {
		if _, err := Revoke(c, h); err != nil {
			t.Fatal(err)
		}
	}
	forged := mustSecret(t)
	_, err := c.Append(chain.Draft{
		Type: chain.Create, EntryType: "app:test", Entry: []byte("x"),
		Index: []chain.IndexWrite{
			{Name: idxSecret, Key: secretDigest(forged), Value: id[:]},
			{Name: idxSecret, Key: secretDigest(rg.Secret), Value: rid[:]},
			{Name: idxOpen, Key: openKey("read", id)},
			{Name: idxOpen, Key: openKey("gone", keys.Hash{7, 7, 7})},
			{Name: idxOpen, Key: openKey("gone", oid)},
			{Name: idxOpen, Key: append(openPrefix("gone"), 1, 2, 3)},
		},
		// Index entries naming an action that is not a grant.
		IndexFunc: func(h keys.Hash) []chain.IndexWrite {
			return []chain.IndexWrite{{Name: idxOpen, Key: openKey("gone", h)}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fn     string
		secret []byte
	}{{"read", forged}, {"read", nil}, {"gone", nil}, {"read", rg.Secret}} {
		if d, err := Check(c, newAgent(t), tc.fn, tc.secret); err != nil || d.Allowed {
			t.Fatalf("%s: forged index entry: %+v %v", tc.fn, d, err)
		}
	}
	if d, _ := Check(c, newAgent(t), "read", g.Secret); !d.Allowed || d.GrantID != id {
		t.Fatalf("the real secret: %+v", d)
	}
}

func mustIndex(t *testing.T, c *chain.Chain, name, key string) []byte {
	t.Helper()
	v, err := c.IndexGet(name, []byte(key))
	if err != nil {
		t.Fatalf("index %s %q: %v", name, key, err)
	}
	return v
}

// TestConcurrent: grants made, checked and revoked from many goroutines on
// one open chain. Once Revoke returns, no check allows the grant; the chain
// verifies at the end. Run with -race.
func TestConcurrent(t *testing.T) {
	c := newChain(t)
	caller := newAgent(t)
	const workers, each = 4, 8
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			errs <- func() error {
				for i := range each {
					fn := fmt.Sprintf("w%d_%d", w, i)
					r, err := CreateGrant(c, Grant{Access: Transferable, Functions: []string{fn}})
					if err != nil {
						return err
					}
					gi, err := GetGrant(c, r.Hash)
					if err != nil {
						return err
					}
					if d, err := Check(c, caller, fn, gi.Secret); err != nil || !d.Allowed || d.GrantID != r.Hash {
						return fmt.Errorf("%s before revoke: %+v %v", fn, d, err)
					}
					if _, err := Revoke(c, r.Hash); err != nil {
						return err
					}
					if d, err := Check(c, caller, fn, gi.Secret); err != nil || d.Allowed {
						return fmt.Errorf("%s after revoke: %+v %v", fn, d, err)
					}
				}
				return nil
			}()
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if live, err := Grants(c, false); err != nil || len(live) != 0 {
		t.Fatalf("live grants: %d %v", len(live), err)
	}
	verify(t, c)
}
