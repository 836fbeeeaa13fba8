package caps

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

// Errors for callers to map to exit codes. An unknown grant or claim is an
// error wrapping chain.ErrNotFound.
var (
	ErrRevoked  = errors.New("grant is revoked")
	ErrReplaced = errors.New("grant was replaced by an update")
)

// GrantInfo is a grant as stored, with its state.
type GrantInfo struct {
	ID keys.Hash // grant ID: the hash of the action that created it
	Grant
	Revoked    bool
	ReplacedBy keys.Hash // the update that replaced this grant, if any
	Replaces   keys.Hash // for a grant made by an update: the grant it replaced
	Time       time.Time // when the grant action was appended
}

// Live reports whether the grant can authorize calls.
func (gi *GrantInfo) Live() bool { return !gi.Revoked && gi.ReplacedBy.IsZero() }

// CreateGrant commits grant g. For transferable and assigned grants without
// a secret it generates one (read it back with GetGrant to make a ticket).
// The grant ID is the returned record's Hash; the grant and its index
// entries commit together. A grant whose secret a live grant already uses is
// refused with ErrDuplicate, an invalid grant with an error wrapping
// keys.ErrMalformed. Creating a grant identical to a live one makes a
// second grant, with its own ID, that must be revoked on its own.
func CreateGrant(c *chain.Chain, g Grant) (chain.Record, error) {
	g = g.clone()
	defer func() { clear(g.Secret) }()
	if g.Access != Unrestricted && g.Secret == nil {
		s, err := NewSecret()
		if err != nil {
			return chain.Record{}, err
		}
		g.Secret = s
	}
	enc, err := g.Encode()
	if err != nil {
		return chain.Record{}, err
	}
	defer clear(enc)

	writeMu.Lock()
	defer writeMu.Unlock()
	if err := checkSecret(c, &g, keys.Hash{}); err != nil {
		return chain.Record{}, fmt.Errorf("caps: grant: %w", err)
	}
	r, err := c.Append(chain.Draft{
		Type:      chain.Create,
		EntryType: chain.EntryCapGrant,
		Entry:     enc,
		IndexFunc: addWrites(&g),
	})
	if err != nil {
		return chain.Record{}, fmt.Errorf("caps: grant: %w", err)
	}
	return r, nil
}

// UpdateGrant replaces the live grant id by g (an update action): the old
// grant authorizes nothing from then on, the new one (its ID is the returned
// record's Hash) takes its place. A transferable or assigned g without a
// secret keeps the old grant's secret, so existing claims keep working; it
// gets a new one if the old grant had none. The old grant's index entries
// go and the new one's come in the transaction of the update action. A
// secret used by another live grant is refused with ErrDuplicate.
func UpdateGrant(c *chain.Chain, id keys.Hash, g Grant) (chain.Record, error) {
	g = g.clone()
	defer func() { clear(g.Secret) }()

	writeMu.Lock()
	defer writeMu.Unlock()
	_, og, err := liveGrant(c, id, "update")
	if err != nil {
		return chain.Record{}, err
	}
	defer clear(og.Secret)
	if g.Access != Unrestricted && g.Secret == nil {
		if len(og.Secret) == SecretSize {
			g.Secret = bytes.Clone(og.Secret)
		} else if g.Secret, err = NewSecret(); err != nil {
			return chain.Record{}, err
		}
	}
	enc, err := g.Encode()
	if err != nil {
		return chain.Record{}, err
	}
	defer clear(enc)
	if err := checkSecret(c, &g, id); err != nil {
		return chain.Record{}, fmt.Errorf("caps: update: %w", err)
	}
	r, err := c.Append(chain.Draft{
		Type:      chain.Update,
		EntryType: chain.EntryCapGrant,
		Entry:     enc,
		Target:    id,
		Index:     removeWrites(id, &og),
		IndexFunc: addWrites(&g),
	})
	if err != nil {
		return chain.Record{}, fmt.Errorf("caps: update: %w", err)
	}
	return r, nil
}

// Revoke commits a delete of the live grant id, removing its index entries
// in the same transaction: once it returns, the grant authorizes nothing.
// An unknown grant is an error wrapping chain.ErrNotFound; a revoked one
// ErrRevoked; one replaced by an update ErrReplaced (revoke the update).
func Revoke(c *chain.Chain, id keys.Hash) (chain.Record, error) {
	writeMu.Lock()
	defer writeMu.Unlock()
	_, g, err := liveGrant(c, id, "revoke")
	if err != nil {
		return chain.Record{}, err
	}
	defer clear(g.Secret)
	r, err := c.Append(chain.Draft{
		Type:      chain.Delete,
		EntryType: chain.EntryCapGrant,
		Target:    id,
		Index:     removeWrites(id, &g),
	})
	if err != nil {
		return chain.Record{}, fmt.Errorf("caps: revoke: %w", err)
	}
	return r, nil
}

// liveGrant loads grant id for op, failing unless it is live.
func liveGrant(c *chain.Chain, id keys.Hash, op string) (chain.Record, Grant, error) {
	r, err := grantRecord(c, id)
	if err != nil {
		return chain.Record{}, Grant{}, fmt.Errorf("caps: %s: %w", op, err)
	}
	rs, err := c.ByTarget(id)
	if err != nil {
		return chain.Record{}, Grant{}, fmt.Errorf("caps: %s: %w", op, err)
	}
	for _, t := range rs {
		if t.Type == chain.Delete {
			return chain.Record{}, Grant{}, fmt.Errorf("caps: %s: grant %s: %w", op, id.ActionString(), ErrRevoked)
		}
	}
	if len(rs) > 0 {
		return chain.Record{}, Grant{}, fmt.Errorf("caps: %s: grant %s: %w by %s", op, id.ActionString(), ErrReplaced, rs[len(rs)-1].Hash.ActionString())
	}
	g, err := loadGrant(c, r)
	if err != nil {
		return chain.Record{}, Grant{}, fmt.Errorf("caps: %s: grant %s: %w", op, id.ActionString(), err)
	}
	return r, g, nil
}

// grantRecord is the create or update action id of a grant.
func grantRecord(c *chain.Chain, id keys.Hash) (chain.Record, error) {
	r, err := c.Get(id)
	if errors.Is(err, chain.ErrNotFound) || err == nil && (r.EntryType != chain.EntryCapGrant || r.Type == chain.Delete) {
		return chain.Record{}, fmt.Errorf("grant %s: %w", id.ActionString(), chain.ErrNotFound)
	}
	return r, err
}

// GetGrant returns grant id with its state, live or not.
func GetGrant(c *chain.Chain, id keys.Hash) (GrantInfo, error) {
	r, err := grantRecord(c, id)
	if err != nil {
		return GrantInfo{}, fmt.Errorf("caps: %w", err)
	}
	return grantInfo(c, r)
}

// LookupGrant finds a grant by its ID or a unique prefix of it (at least
// keys.MinPrefix characters after "uhCkk"). Malformed or mistyped text wraps
// keys.ErrMalformed or keys.ErrChecksum; an action that is not a grant is
// not found; an ambiguous prefix wraps chain.ErrAmbiguous.
func LookupGrant(c *chain.Chain, text string) (GrantInfo, error) {
	r, err := lookup(c, "grant", text)
	if err != nil {
		return GrantInfo{}, err
	}
	if r.EntryType != chain.EntryCapGrant || r.Type == chain.Delete {
		return GrantInfo{}, fmt.Errorf("caps: grant %s: %w", strings.TrimSpace(text), chain.ErrNotFound)
	}
	return grantInfo(c, r)
}

func lookup(c *chain.Chain, what, text string) (chain.Record, error) {
	text = strings.TrimSpace(text)
	a, err := keys.ParseAbbrev(keys.KindAction, text)
	var se *keys.SyntaxError
	if errors.As(err, &se) {
		err = se.Named(what + " ID")
	}
	if err != nil {
		return chain.Record{}, fmt.Errorf("caps: %w", err)
	}
	r, err := c.Lookup(a)
	if err != nil {
		return chain.Record{}, fmt.Errorf("caps: %s %w", what, err)
	}
	return r, nil
}

func grantInfo(c *chain.Chain, r chain.Record) (GrantInfo, error) {
	g, err := loadGrant(c, r)
	if err != nil {
		return GrantInfo{}, fmt.Errorf("caps: grant %s: %w", r.Hash.ActionString(), err)
	}
	gi := GrantInfo{ID: r.Hash, Grant: g, Time: time.UnixMicro(r.Timestamp)}
	if r.Type == chain.Update {
		gi.Replaces = r.TargetHash()
	}
	rs, err := c.ByTarget(r.Hash)
	if err != nil {
		return GrantInfo{}, fmt.Errorf("caps: grant %s: %w", r.Hash.ActionString(), err)
	}
	for _, t := range rs {
		if t.Type == chain.Delete {
			gi.Revoked = true
		} else {
			gi.ReplacedBy = t.Hash
		}
	}
	return gi, nil
}

// Grants lists the grants in chain order: the live ones, or with all every
// grant ever made (revoked and replaced ones included).
func Grants(c *chain.Chain, all bool) ([]GrantInfo, error) {
	var list []*GrantInfo
	byID := map[keys.Hash]*GrantInfo{}
	err := c.ByType(chain.EntryCapGrant, func(r chain.Record) error {
		if r.Type == chain.Delete {
			if t := byID[r.TargetHash()]; t != nil {
				t.Revoked = true
			}
			return nil
		}
		g, err := loadGrant(c, r)
		if err != nil {
			return fmt.Errorf("grant %s: %w", r.Hash.ActionString(), err)
		}
		gi := &GrantInfo{ID: r.Hash, Grant: g, Time: time.UnixMicro(r.Timestamp)}
		if r.Type == chain.Update {
			gi.Replaces = r.TargetHash()
			if t := byID[gi.Replaces]; t != nil {
				t.ReplacedBy = r.Hash
			}
		}
		list = append(list, gi)
		byID[r.Hash] = gi
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("caps: grants: %w", err)
	}
	out := make([]GrantInfo, 0, len(list))
	for _, gi := range list {
		if all || gi.Live() {
			out = append(out, *gi)
		}
	}
	return out, nil
}
