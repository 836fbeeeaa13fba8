package daemon

import (
	"errors"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

func testClaim(t testing.TB, grantor keys.PublicKey, tag string) caps.Claim {
	t.Helper()
	secret, err := caps.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return caps.Claim{Tag: tag, Grantor: grantor, Secret: secret, Functions: []string{"f"}, Access: caps.Assigned}
}

// TestPendingLookup: a pending claim is named by its ID or a unique prefix
// of it; the same claim waits once; the list keeps its bounds per grantor
// and in all; a rejected claim is gone.
func TestPendingLookup(t *testing.T) {
	d := newDaemon(t, nil)
	p := d.Pending()
	grantor, other := d.ID().Public(), newClient(t, d).ID.Public()
	q := Quotas{Pending: 5, PendingEach: 3}
	cl := testClaim(t, grantor, "same")
	first, err := p.add(cl, time.Now(), q)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := p.add(cl, time.Now(), q); err != nil || again != first {
		t.Fatalf("one claim delivered twice: %s, then %s, %v", first.EntryString(), again.EntryString(), err)
	}
	for i := range 3 {
		_, err := p.add(testClaim(t, grantor, ""), time.Now(), q)
		if want := i == 2; errors.Is(err, errPendingFull) != want {
			t.Errorf("claim %d of one grantor (3 each): %v", i+2, err)
		}
	}
	for i := range 4 {
		_, err := p.add(testClaim(t, other, ""), time.Now(), q)
		if want := i >= 2; errors.Is(err, errPendingFull) != want {
			t.Errorf("claim %d of another grantor (5 in all): %v", i+1, err)
		}
	}
	id := first.EntryString()
	if pc, err := p.Lookup(id[:5+keys.MinPrefix]); err != nil || pc.ID != first || pc.Tag != "same" {
		t.Errorf("a unique prefix: %+v %v", pc, err)
	}
	if _, err := p.Lookup("uhCEkAAAAAAAAAAAAAAAAAAA"); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("no such pending claim: %v", err)
	}
	if _, err := p.Lookup("uhCEkAAA"); !errors.Is(err, keys.ErrMalformed) {
		t.Errorf("a prefix too short: %v", err)
	}
	if _, err := p.Reject(id); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Lookup(id); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("a rejected claim: %v", err)
	}
}

// FuzzDecodePending: a stored pending claim decodes to a valid claim whose
// entry hashes to its ID, or to an error, never a panic.
func FuzzDecodePending(f *testing.F) {
	id, err := keys.Generate()
	if err != nil {
		f.Fatal(err)
	}
	cl := testClaim(f, id.Public(), "tag")
	enc, err := cl.Encode()
	if err != nil {
		f.Fatal(err)
	}
	key := keys.Sum256(enc)
	f.Add(detcbor.Marshal(&pendingValue{Received: 1_700_000_000_000_000, Entry: enc}))
	f.Add(detcbor.Marshal(&pendingValue{Entry: []byte{0xa0}}))
	f.Add([]byte{0xa1, 0x02, 0x40})
	f.Fuzz(func(t *testing.T, v []byte) {
		pc, err := DecodePending(key, v)
		if err != nil {
			return
		}
		again, err := pc.Claim.Encode()
		if err != nil || keys.Sum256(again) != key {
			t.Fatalf("decoded a claim that does not encode to its ID: %v", err)
		}
	})
}
