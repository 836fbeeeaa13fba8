package daemon

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// PendingSide is the side store of the home that holds the delivered claims
// waiting for the user.
const PendingSide = "pending-claims"

// PendingClaim is a claim another agent delivered that waits, off the
// chain, for the user to accept it (Policy.Claims). Its ID is the hash of
// the claim entry that accepting it commits (uhCEk…): the same claim
// delivered twice waits once.
type PendingClaim struct {
	ID keys.Hash
	caps.Claim
	Received time.Time
}

// pendingValue is a pending claim as stored, under its ID.
type pendingValue struct {
	Received int64  `cbor:"1,keyasint"` // µs
	Entry    []byte `cbor:"2,keyasint"` // the claim entry (caps.Claim.Encode)
}

// pendingDecMode reads pending claims, from the home.
var pendingDecMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

// DecodePending reads the stored value of the pending claim id: the entry
// must be a valid claim that hashes to id.
func DecodePending(id keys.Hash, v []byte) (PendingClaim, error) {
	var pv pendingValue
	if err := pendingDecMode().Unmarshal(v, &pv); err != nil {
		return PendingClaim{}, fmt.Errorf("daemon: pending claim: %w", err)
	}
	if keys.Sum256(pv.Entry) != id {
		return PendingClaim{}, fmt.Errorf("daemon: pending claim %s: %w: its entry has another hash", id.EntryString(), chain.ErrEncoding)
	}
	cl, err := caps.DecodeClaim(pv.Entry)
	if err != nil {
		return PendingClaim{}, fmt.Errorf("daemon: pending claim %s: %w", id.EntryString(), err)
	}
	return PendingClaim{ID: id, Claim: cl, Received: time.UnixMicro(pv.Received)}, nil
}

// PendingClaims is the home's list of pending claims, in its PendingSide.
type PendingClaims struct {
	Store *chain.Side
}

// errPendingFull: the pending list has no room for the grantor's claim.
var errPendingFull = errors.New("pending claims are full")

// add keeps cl pending, within q.Pending (and q.PendingEach for its
// grantor), and returns its ID. The caller serializes adds (claimMu).
func (p PendingClaims) add(cl caps.Claim, now time.Time, q Quotas) (keys.Hash, error) {
	enc, err := cl.Encode()
	if err != nil {
		return keys.Hash{}, err
	}
	id := keys.Sum256(enc)
	list, err := p.List()
	if err != nil {
		return keys.Hash{}, err
	}
	n := 0
	for _, pc := range list {
		if pc.ID == id {
			return id, nil // delivered again: it already waits
		}
		if pc.Grantor == cl.Grantor {
			n++
		}
	}
	if len(list) >= q.Pending || n >= q.PendingEach {
		return keys.Hash{}, errPendingFull
	}
	v := detcbor.Marshal(&pendingValue{Received: now.UnixMicro(), Entry: enc})
	clear(enc)
	if err := p.Store.Set(id[:], v); err != nil {
		return keys.Hash{}, fmt.Errorf("daemon: pending claim: %w", err)
	}
	return id, nil
}

// List returns the pending claims, oldest first.
func (p PendingClaims) List() ([]PendingClaim, error) {
	var list []PendingClaim
	err := p.Store.Iterate(nil, func(k, v []byte) error {
		var id keys.Hash
		if len(k) != len(id) {
			return fmt.Errorf("daemon: pending claims: a key of %d bytes", len(k))
		}
		copy(id[:], k)
		pc, err := DecodePending(id, v)
		if err != nil {
			return err
		}
		list = append(list, pc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Stored by ID; listed in the order they came.
	sort.SliceStable(list, func(i, j int) bool { return list[i].Received.Before(list[j].Received) })
	return list, nil
}

// Lookup finds a pending claim by its ID or a unique prefix of it (at least
// keys.MinPrefix characters after "uhCEk"): chain.ErrNotFound when none
// matches, chain.ErrAmbiguous when several do.
func (p PendingClaims) Lookup(text string) (PendingClaim, error) {
	text = strings.TrimSpace(text)
	ab, err := keys.ParseAbbrev(keys.KindEntry, text)
	if err != nil {
		return PendingClaim{}, err
	}
	list, err := p.List()
	if err != nil {
		return PendingClaim{}, err
	}
	var found []PendingClaim
	for _, pc := range list {
		if ab.Match(pc.ID) {
			found = append(found, pc)
		}
	}
	switch len(found) {
	case 0:
		return PendingClaim{}, fmt.Errorf("pending claim %s: %w", text, chain.ErrNotFound)
	case 1:
		return found[0], nil
	}
	return PendingClaim{}, fmt.Errorf("pending claim %s: %w", text, chain.ErrAmbiguous)
}

// Accept commits the pending claim named by text (as Lookup) onto c's chain
// and drops it from the list. It returns the claim's record: its Hash is
// the claim ID.
func (p PendingClaims) Accept(c *chain.Chain, text string) (chain.Record, error) {
	pc, err := p.Lookup(text)
	if err != nil {
		return chain.Record{}, err
	}
	r, err := caps.AddClaim(c, pc.Claim)
	if err != nil {
		return chain.Record{}, err
	}
	if err := p.Store.Delete(pc.ID[:]); err != nil {
		return r, fmt.Errorf("daemon: pending claim: %w", err)
	}
	return r, nil
}

// Reject drops the pending claim named by text (as Lookup) and returns it.
func (p PendingClaims) Reject(text string) (PendingClaim, error) {
	pc, err := p.Lookup(text)
	if err != nil {
		return PendingClaim{}, err
	}
	if err := p.Store.Delete(pc.ID[:]); err != nil {
		return PendingClaim{}, fmt.Errorf("daemon: pending claim: %w", err)
	}
	return pc, nil
}
