package caps

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"golang.org/x/crypto/blake2b"
)

// Index layout. The indexes are written by chain.Append in the transaction of
// the action they follow, so they hold exactly the live grants:
//
//	capsecret  digest(32) → grant entry hash(32)
//	capopen    function   → entry hash(32) ‖ entry hash(32) ‖ …  (unrestricted grants
//	                        listing the function, or "*", oldest first)
//
// digest is BLAKE2b-256 keyed with the secret over secretLabel: the secret
// itself is never a key. Both indexes are read with point lookups only (no
// iterators), so Check costs the same with one grant or a hundred thousand.
//
// The indexes name a grant by its entry hash, not by its grant ID (the
// action hash), because the action hash is made inside Append while index
// writes must be known before. This package keeps the entry hashes of live
// grants unique (a secret is used by one live grant; an unrestricted grant
// may not repeat a live one), so an entry hash names one live grant. The
// capopen lists are read, changed and written back under writeMu.
//
// The side store "capgrant" (entry hash → grant ID) maps back to the grant
// ID. Invariant: an entry in it names the live grant with that entry hash,
// or is absent. Creates write it right after the append; revokes and updates
// drop it before theirs. A crash between the two leaves it absent, and
// grantID then finds the grant by one scan of the grants and repairs it.
// Authorization never depends on this map, only the GrantID reported.
const (
	idxSecret   = "capsecret"
	idxOpen     = "capopen"
	sideGrant   = "capgrant"
	secretLabel = "n2n capability secret index v1"
	hashLen     = len(keys.Hash{})
)

// writeMu serializes this package's writes (and repairs of the side map), so
// what is read before an append (live, unique, capopen lists) still holds
// when it commits.
var writeMu sync.Mutex

// secretDigest is the index key of a secret of SecretSize bytes.
func secretDigest(secret []byte) []byte {
	h, err := blake2b.New256(secret)
	if err != nil {
		panic("caps: secret digest: " + err.Error()) // callers pass SecretSize bytes
	}
	h.Write([]byte(secretLabel))
	return h.Sum(nil)
}

// indexWrites are the index changes of replacing grant old (entry hash oe)
// by grant g (entry hash e): a create has no old, a revoke no g. Removals
// come first, so where old and g share a key, g's write wins. Call with
// writeMu held.
func indexWrites(c *chain.Chain, old *Grant, oe keys.Hash, g *Grant, e keys.Hash) ([]chain.IndexWrite, error) {
	var ws []chain.IndexWrite
	if old != nil && len(old.Secret) == SecretSize {
		ws = append(ws, chain.IndexWrite{Name: idxSecret, Key: secretDigest(old.Secret), Delete: true})
	}
	if g != nil && len(g.Secret) == SecretSize {
		ws = append(ws, chain.IndexWrite{Name: idxSecret, Key: secretDigest(g.Secret), Value: bytes.Clone(e[:])})
	}
	lists := map[string][]byte{}
	var order []string
	list := func(fn string) ([]byte, error) {
		if l, ok := lists[fn]; ok {
			return l, nil
		}
		l, err := c.IndexGet(idxOpen, []byte(fn))
		if err != nil && !errors.Is(err, chain.ErrNotFound) {
			return nil, err
		}
		order = append(order, fn)
		return l, nil
	}
	if old != nil && old.Access == Unrestricted {
		for _, fn := range old.Functions {
			l, err := list(fn)
			if err != nil {
				return nil, err
			}
			lists[fn] = removeHash(l, oe)
		}
	}
	if g != nil && g.Access == Unrestricted {
		for _, fn := range g.Functions {
			l, err := list(fn)
			if err != nil {
				return nil, err
			}
			lists[fn] = append(removeHash(l, e), e[:]...)
		}
	}
	for _, fn := range order {
		if l := lists[fn]; len(l) == 0 {
			ws = append(ws, chain.IndexWrite{Name: idxOpen, Key: []byte(fn), Delete: true})
		} else {
			ws = append(ws, chain.IndexWrite{Name: idxOpen, Key: []byte(fn), Value: l})
		}
	}
	return ws, nil
}

// removeHash returns a copy of the list l without h.
func removeHash(l []byte, h keys.Hash) []byte {
	out := make([]byte, 0, len(l))
	for i := 0; i+hashLen <= len(l); i += hashLen {
		if !bytes.Equal(l[i:i+hashLen], h[:]) {
			out = append(out, l[i:i+hashLen]...)
		}
	}
	return out
}

// ErrDuplicate is returned when a new grant would repeat a live one: the same
// secret, or an identical unrestricted grant.
var ErrDuplicate = errors.New("duplicate grant")

// checkUnique enforces the invariant of the index layout for a grant about
// to be written with entry hash e; replacing is the entry hash of the grant
// an update replaces (zero for a create). Call with writeMu held.
func checkUnique(c *chain.Chain, g *Grant, e, replacing keys.Hash) error {
	if len(g.Secret) == SecretSize {
		v, err := c.IndexGet(idxSecret, secretDigest(g.Secret))
		switch {
		case err == nil && !bytes.Equal(v, replacing[:]):
			return fmt.Errorf("%w: its secret is already used by a live grant", ErrDuplicate)
		case err != nil && !errors.Is(err, chain.ErrNotFound):
			return err
		}
	}
	if g.Access == Unrestricted && e != replacing {
		l, err := c.IndexGet(idxOpen, []byte(g.Functions[0]))
		if err != nil && !errors.Is(err, chain.ErrNotFound) {
			return err
		}
		if len(removeHash(l, e)) != len(l) {
			return fmt.Errorf("%w: an identical unrestricted grant is live", ErrDuplicate)
		}
	}
	return nil
}

// remember records grant ID id for entry hash e in the side map, and forget
// drops the entry of e. Both are best effort: a missing entry is repaired by
// grantID. Call with writeMu held.
func remember(c *chain.Chain, e, id keys.Hash) { _ = c.Side(sideGrant).Set(e[:], id[:]) }
func forget(c *chain.Chain, e keys.Hash)       { _ = c.Side(sideGrant).Delete(e[:]) }

// errNoGrant: an index entry names no live grant (not expected: indexes and
// actions commit together).
var errNoGrant = errors.New("index names no live grant")

// resolve returns the grant with entry hash e, found by an index, and its
// grant ID.
func resolve(c *chain.Chain, e keys.Hash) (keys.Hash, Grant, error) {
	b, err := c.Entry(e)
	if errors.Is(err, chain.ErrNotFound) {
		return keys.Hash{}, Grant{}, errNoGrant
	} else if err != nil {
		return keys.Hash{}, Grant{}, fmt.Errorf("grant entry: %w", err)
	}
	g, err := DecodeGrant(b)
	if err != nil {
		return keys.Hash{}, Grant{}, err
	}
	id, err := grantID(c, e)
	if err != nil {
		clear(g.Secret)
		return keys.Hash{}, Grant{}, err
	}
	return id, g, nil
}

// grantID maps the entry hash of a live grant to its grant ID, through the
// side map or, when the entry is missing, a scan that repairs it.
func grantID(c *chain.Chain, e keys.Hash) (keys.Hash, error) {
	v, err := c.Side(sideGrant).Get(e[:])
	if err != nil {
		return keys.Hash{}, err
	}
	if len(v) == hashLen {
		// The map is not on the chain: check the action it names.
		id := keys.Hash(v)
		r, err := c.Get(id)
		if err == nil && r.EntryType == chain.EntryCapGrant && r.Type != chain.Delete && r.EntryHash == e {
			return id, nil
		}
		if err != nil && !errors.Is(err, chain.ErrNotFound) {
			return keys.Hash{}, err
		}
	}
	writeMu.Lock()
	defer writeMu.Unlock()
	id, err := scanFor(c, e)
	if err != nil {
		return keys.Hash{}, err
	}
	remember(c, e, id)
	return id, nil
}

// scanFor walks the grants for the live one with entry hash e.
func scanFor(c *chain.Chain, e keys.Hash) (keys.Hash, error) {
	cands := map[keys.Hash]uint64{}
	err := c.ByType(chain.EntryCapGrant, func(r chain.Record) error {
		if r.Type != chain.Create {
			delete(cands, r.TargetHash())
		}
		if r.Type != chain.Delete && r.EntryHash == e {
			cands[r.Hash] = r.Seq
		}
		return nil
	})
	if err != nil {
		return keys.Hash{}, err
	}
	var best keys.Hash
	var seq uint64
	for h, s := range cands {
		if best.IsZero() || s > seq {
			best, seq = h, s
		}
	}
	if best.IsZero() {
		return keys.Hash{}, errNoGrant
	}
	return best, nil
}

// loadGrant reads and decodes the entry of a grant action. Its errors do
// not name the grant: Check passes them on.
func loadGrant(c *chain.Chain, r chain.Record) (Grant, error) {
	b, err := c.Entry(r.EntryHash)
	if err != nil {
		return Grant{}, fmt.Errorf("grant entry: %w", err)
	}
	return DecodeGrant(b)
}
