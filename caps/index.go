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
// the action they follow, so they hold exactly the live grants. Both name a
// grant by its grant ID, the hash of the create (or update) action that made
// it, which Append hands to Draft.IndexFunc:
//
//	capsecret  digest(32)                     → grant ID(32)
//	capopen    function ‖ 0x00 ‖ grant ID(32) → (empty)
//	capany     function                       → (empty)
//
// capany marks the functions that have (or had) an unrestricted grant, so
// that Check answers "none" for the others with one point lookup instead
// of an iterator, whose set-up cost grows with the number of Badger tables.
// It is never removed: a stale mark only costs the scan of capopen.
//
// capopen has one key per unrestricted grant and function it lists (or
// "*"); a function name never holds 0x00, so the keys of one function are
// the ones under function ‖ 0x00. digest is BLAKE2b-256 keyed with the
// secret over secretLabel: the secret itself is never a key.
//
// Check reads capsecret with a point lookup and capopen with a seek to one
// function's keys that stops at the first live grant, so its cost does not
// depend on how many grants there are (only Badger's own per-lookup cost
// grows, with the depth of its tree). Entries are only candidates: Check
// loads the grant an entry names and checks it is a live grant of the right
// kind and, for a secret, that the secret matches.
//
// A revoke deletes the grant's entries and an update deletes the old
// grant's and writes the new one's (Draft.Index for the removals,
// Draft.IndexFunc for the writes, so a secret an update keeps moves to the
// new grant ID), each in the transaction of its action.
const (
	idxSecret   = "capsecret"
	idxOpen     = "capopen"
	idxAny      = "capany"
	secretLabel = "n2n capability secret index v1"
	hashLen     = len(keys.Hash{})
)

// writeMu serializes this package's grant writes, so that what they read
// before appending (the grant to update or revoke is live; no live grant
// uses the new secret, which capsecret can hold once) still holds when the
// action commits. Check does not take it.
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

// openPrefix is the capopen prefix of the unrestricted grants of function
// (a name or AllFunctions), and openKey the key of one of them.
func openPrefix(function string) []byte { return append([]byte(function), 0) }

func openKey(function string, id keys.Hash) []byte {
	return append(openPrefix(function), id[:]...)
}

// removeWrites deletes the index entries of live grant g, whose ID is id.
func removeWrites(id keys.Hash, g *Grant) []chain.IndexWrite {
	var ws []chain.IndexWrite
	if len(g.Secret) == SecretSize {
		ws = append(ws, chain.IndexWrite{Name: idxSecret, Key: secretDigest(g.Secret), Delete: true})
	}
	if g.Access == Unrestricted {
		for _, fn := range g.Functions {
			ws = append(ws, chain.IndexWrite{Name: idxOpen, Key: openKey(fn, id), Delete: true})
		}
	}
	return ws
}

// addWrites returns the Draft.IndexFunc that writes the index entries of g
// under the grant ID Append passes it. It keeps the digest, not the secret.
func addWrites(g *Grant) func(keys.Hash) []chain.IndexWrite {
	var digest []byte
	if len(g.Secret) == SecretSize {
		digest = secretDigest(g.Secret)
	}
	var open []string
	if g.Access == Unrestricted {
		open = append(open, g.Functions...)
	}
	return func(id keys.Hash) []chain.IndexWrite {
		var ws []chain.IndexWrite
		if digest != nil {
			ws = append(ws, chain.IndexWrite{Name: idxSecret, Key: digest, Value: bytes.Clone(id[:])})
		}
		for _, fn := range open {
			ws = append(ws, chain.IndexWrite{Name: idxOpen, Key: openKey(fn, id)},
				chain.IndexWrite{Name: idxAny, Key: []byte(fn)})
		}
		return ws
	}
}

// ErrDuplicate is returned when a new grant's secret is already the secret
// of a live grant (other than the one an update replaces). Secrets are 64
// random bytes: a repeat means a caller reused one. Two grants that say the
// same thing are otherwise allowed: two create actions make two grants.
var ErrDuplicate = errors.New("duplicate grant")

// checkSecret refuses g if its secret is used by a live grant other than
// replacing (the grant an update replaces; zero for a create). Call with
// writeMu held.
func checkSecret(c *chain.Chain, g *Grant, replacing keys.Hash) error {
	if len(g.Secret) != SecretSize {
		return nil
	}
	v, err := c.IndexGet(idxSecret, secretDigest(g.Secret))
	switch {
	case errors.Is(err, chain.ErrNotFound):
		return nil
	case err != nil:
		return err
	case replacing.IsZero() || !bytes.Equal(v, replacing[:]):
		return fmt.Errorf("%w: its secret is already used by a live grant", ErrDuplicate)
	}
	return nil
}

// errNoGrant: an index entry names no grant (not expected: indexes and
// actions commit together).
var errNoGrant = errors.New("index names no grant")

// indexed loads the grant an index entry names by its grant ID, and reports
// whether it is live: a create or update of a grant that no update or
// delete targets. It authorizes from nothing the chain's agent did not
// sign: the action must hash to id and carry the agent's signature, and
// the entry must hash to what the action says (chain.GetAuthentic; an
// *chain.IntegrityError otherwise). The cost does not depend on the number
// of grants.
func indexed(c *chain.Chain, id keys.Hash) (g Grant, live bool, err error) {
	r, b, err := c.GetAuthentic(id)
	if errors.Is(err, chain.ErrNotFound) {
		return Grant{}, false, errNoGrant
	} else if err != nil {
		return Grant{}, false, err
	}
	if r.EntryType != chain.EntryCapGrant || r.Type == chain.Delete {
		return Grant{}, false, errNoGrant
	}
	if rs, err := c.ByTarget(id); err != nil || len(rs) > 0 {
		return Grant{}, false, err
	}
	g, err = DecodeGrant(b)
	if err != nil {
		return Grant{}, false, err
	}
	return g, true, nil
}

// loadGrant reads and decodes the entry of a grant action, which must hash
// to what the action says (an *chain.IntegrityError otherwise). Its errors
// do not name the grant: Check passes them on.
func loadGrant(c *chain.Chain, r chain.Record) (Grant, error) {
	b, err := c.Entry(r.EntryHash)
	if err != nil {
		return Grant{}, fmt.Errorf("grant entry: %w", err)
	}
	if keys.Sum256(b) != r.EntryHash {
		return Grant{}, &chain.IntegrityError{Seq: r.Seq, Reason: "entry does not match its hash"}
	}
	return DecodeGrant(b)
}
