package caps

import (
	"fmt"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

// ClaimInfo is a stored claim.
type ClaimInfo struct {
	ID keys.Hash // claim ID: the hash of its action
	Claim
	Time time.Time // when the claim was appended
}

// AddClaim commits claim cl. The claim ID is the returned record's Hash. An
// invalid claim is an error wrapping keys.ErrMalformed.
func AddClaim(c *chain.Chain, cl Claim) (chain.Record, error) {
	enc, err := cl.Encode()
	if err != nil {
		return chain.Record{}, err
	}
	defer clear(enc)
	r, err := c.Append(chain.Draft{Type: chain.Create, EntryType: chain.EntryCapClaim, Entry: enc})
	if err != nil {
		return chain.Record{}, fmt.Errorf("caps: claim: %w", err)
	}
	return r, nil
}

// Claims lists the live claims in chain order.
func Claims(c *chain.Chain) ([]ClaimInfo, error) {
	var list []ClaimInfo
	gone := map[keys.Hash]bool{}
	err := c.ByType(chain.EntryCapClaim, func(r chain.Record) error {
		if r.Type != chain.Create {
			gone[r.TargetHash()] = true
		}
		if r.Type == chain.Delete {
			return nil
		}
		ci, err := claimInfo(c, r)
		if err != nil {
			return err
		}
		list = append(list, ci)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("caps: claims: %w", err)
	}
	out := list[:0]
	for _, ci := range list {
		if !gone[ci.ID] {
			out = append(out, ci)
		}
	}
	return out, nil
}

// LookupClaim finds a live claim by its ID or a unique prefix of it, like
// LookupGrant.
func LookupClaim(c *chain.Chain, text string) (ClaimInfo, error) {
	r, err := lookup(c, "claim", text)
	if err != nil {
		return ClaimInfo{}, err
	}
	notFound := fmt.Errorf("caps: claim %s: %w", strings.TrimSpace(text), chain.ErrNotFound)
	if r.EntryType != chain.EntryCapClaim || r.Type == chain.Delete {
		return ClaimInfo{}, notFound
	}
	if rs, err := c.ByTarget(r.Hash); err != nil {
		return ClaimInfo{}, fmt.Errorf("caps: claim: %w", err)
	} else if len(rs) > 0 {
		return ClaimInfo{}, notFound
	}
	ci, err := claimInfo(c, r)
	if err != nil {
		return ClaimInfo{}, fmt.Errorf("caps: %w", err)
	}
	return ci, nil
}

// FindClaim returns the newest live claim from grantor that covers function
// (a claim listing "*" covers every function); ok is false when none does.
func FindClaim(c *chain.Chain, grantor keys.PublicKey, function string) (ci ClaimInfo, ok bool, err error) {
	list, err := Claims(c)
	if err != nil {
		return ClaimInfo{}, false, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Grantor == grantor && list[i].Covers(function) {
			return list[i], true, nil
		}
	}
	return ClaimInfo{}, false, nil
}

func claimInfo(c *chain.Chain, r chain.Record) (ClaimInfo, error) {
	b, err := c.Entry(r.EntryHash)
	if err != nil {
		return ClaimInfo{}, fmt.Errorf("claim %s: entry: %w", r.Hash.ActionString(), err)
	}
	cl, err := DecodeClaim(b)
	if err != nil {
		return ClaimInfo{}, fmt.Errorf("claim %s: %w", r.Hash.ActionString(), err)
	}
	return ClaimInfo{ID: r.Hash, Claim: cl, Time: time.UnixMicro(r.Timestamp)}, nil
}
