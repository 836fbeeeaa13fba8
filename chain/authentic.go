package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/n2n-dev/n2n/keys"
)

// maxSigned bounds how many action hashes a Chain remembers as signed
// (signedSet); past it the set starts again empty. Each costs ~80 bytes.
const maxSigned = 1 << 16

// signedSet remembers the actions whose signature has verified, by hash:
// a signature over a hash is a fact about the hash, whatever the store holds
// later, so it need be checked once per open Chain.
type signedSet struct {
	mu  sync.RWMutex
	set map[keys.Hash]struct{}
}

func (s *signedSet) has(h keys.Hash) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.set[h]
	return ok
}

func (s *signedSet) add(h keys.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil || len(s.set) >= maxSigned {
		s.set = map[keys.Hash]struct{}{}
	}
	s.set[h] = struct{}{}
}

// GetAuthentic returns the action whose hash is h, and its entry (nil for a
// delete), once it has checked that they are what this chain's agent signed:
// the stored action hashes to h, its author is the chain's agent and its
// signature verifies, and the stored entry hashes to the action's entry
// hash. Anything else is an *IntegrityError naming the action: the home was
// altered outside n2n, and `n2n chain verify` checks the rest of it.
//
// The index that led to h is not trusted, nor the entry found under the
// action's entry hash: both are checked at every call (a hash of each, under
// a microsecond for a grant). The signature, the costly check (~50 µs), is
// made once per action for the life of the open Chain, so the cost of a
// lookup stays flat however many actions are looked up this way.
func (c *Chain) GetAuthentic(h keys.Hash) (Record, []byte, error) {
	s, err := c.get(hashKey(nsHash, h))
	if err != nil {
		return Record{}, nil, err
	}
	if len(s) != 8 {
		return Record{}, nil, &IntegrityError{Reason: "the hash index entry of " + h.ActionString() + " is not a seq"}
	}
	return c.authentic(binary.BigEndian.Uint64(s), h)
}

// authentic is GetAuthentic of the action stored under seq, which must
// hash to h.
func (c *Chain) authentic(seq uint64, h keys.Hash) (Record, []byte, error) {
	r, err := c.BySeq(seq)
	switch {
	case errors.Is(err, ErrNotFound):
		return Record{}, nil, &IntegrityError{Seq: seq, Reason: "missing"}
	case errors.Is(err, ErrEncoding):
		return Record{}, nil, &IntegrityError{Seq: seq, Reason: err.Error()}
	case err != nil:
		return Record{}, nil, err
	case r.Hash != h:
		return Record{}, nil, &IntegrityError{Seq: seq, Reason: "stored action does not hash to " + h.ActionString()}
	case r.Seq != seq:
		return Record{}, nil, &IntegrityError{Seq: seq, Reason: fmt.Sprintf("stored under seq %d but says %d", seq, r.Seq)}
	case r.Author != c.id.Public():
		return Record{}, nil, &IntegrityError{Seq: seq, Reason: "author is not the chain's agent"}
	}
	if !c.signed.has(h) {
		if !r.Author.Verify(h[:], r.Signature) {
			return Record{}, nil, &IntegrityError{Seq: seq, Reason: "signature does not verify"}
		}
		c.signed.add(h)
	}
	if r.Type == Delete {
		return r, nil, nil
	}
	e, err := c.Entry(r.EntryHash)
	switch {
	case errors.Is(err, ErrNotFound):
		return Record{}, nil, &IntegrityError{Seq: seq, Reason: fmt.Sprintf("entry %s missing", r.EntryHash.EntryString())}
	case err != nil:
		return Record{}, nil, err
	case keys.Sum256(e) != r.EntryHash:
		return Record{}, nil, &IntegrityError{Seq: seq, Reason: "entry does not match its hash"}
	}
	return r, e, nil
}

// CheckHead checks the newest action as GetAuthentic does: what a daemon
// checks when it opens a home, at a constant cost (a full check is Verify,
// whose cost grows with the chain).
func (c *Chain) CheckHead() (Record, error) {
	head, err := c.get(keyHead)
	if err != nil {
		return Record{}, fmt.Errorf("chain: head: %w", err)
	}
	if len(head) != 8+len(keys.Hash{}) {
		return Record{}, &IntegrityError{Reason: "the head key is malformed"}
	}
	r, _, err := c.authentic(binary.BigEndian.Uint64(head[:8]), keys.Hash(head[8:]))
	return r, err
}
