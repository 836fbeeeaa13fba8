package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/n2n-dev/n2n/keys"
)

// Draft is an action to append, with its entry and any index entries other
// packages keep in step with the chain.
//
// Index and IndexFunc are written in the transaction that commits the
// action: both land with it or neither does, and a reader never sees the
// one without the other. Index is for writes known beforehand. IndexFunc,
// if set, is called by Append once the action's hash is known (after the
// action is signed, before the commit, with the append lock held) and its
// writes are applied after those of Index, so where both touch a key
// IndexFunc's write wins. It is how an index can name the action itself
// (a grant ID is the hash of its create action). It must not call back into
// the chain; it is not called when Append fails before the action is made
// (bad target, no identity), and its writes are dropped if the commit fails.
type Draft struct {
	Type      ActionType
	EntryType string
	Entry     []byte    // the entry content (nil for a delete)
	Target    keys.Hash // update/delete: the action replaced or deleted
	Index     []IndexWrite
	IndexFunc func(actionHash keys.Hash) []IndexWrite
}

// IndexWrite sets (or with Delete, removes) key in the named index.
type IndexWrite struct {
	Name       string
	Key, Value []byte
	Delete     bool
}

// ErrBadTarget is returned when an update or delete names an action it may
// not replace (missing, a delete, another entry type, or already deleted).
var ErrBadTarget = errors.New("bad target")

// Append signs and commits one action. It returns the stored record.
func (c *Chain) Append(d Draft) (Record, error) {
	if c.ro {
		return Record{}, ErrReadOnly
	}
	if err := c.roomFor(draftSize(&d)); err != nil {
		return Record{}, fmt.Errorf("chain: append: %w", err)
	}
	c.writeMu.RLock()
	defer c.writeMu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()

	txn := c.db.NewTransaction(true)
	defer txn.Discard()

	a := Action{
		Timestamp: time.Now().UnixMicro(),
		Author:    c.id.Public(),
		Type:      d.Type,
		EntryType: d.EntryType,
		EntryHash: keys.Sum256(d.Entry),
	}
	head, err := txnGet(txn, keyHead)
	switch {
	case errors.Is(err, ErrNotFound):
		if d.Type != Create || d.EntryType != EntryAgentKey {
			return Record{}, fmt.Errorf("chain: append: %w", ErrNoIdentity)
		}
	case err != nil:
		return Record{}, fmt.Errorf("chain: append: %w", err)
	default:
		a.Seq = binary.BigEndian.Uint64(head[:8]) + 1
		a.Prev = append([]byte{}, head[8:40]...)
	}
	if d.Type != Create {
		a.Target = append([]byte{}, d.Target[:]...)
		if err := checkTarget(txn, &a); err != nil {
			return Record{}, err
		}
	}
	if err := a.check(); err != nil {
		return Record{}, fmt.Errorf("chain: append: %w", err)
	}

	enc := a.Encode()
	r := Record{Action: a, Hash: keys.Sum256(enc)}
	r.Signature = c.id.Sign(r.Hash[:])

	sets := []struct{ k, v []byte }{
		{seqKey(nsAction, nil, a.Seq), encodeStored(r.Signature, enc)},
		{hashKey(nsHash, r.Hash), binary.BigEndian.AppendUint64(nil, a.Seq)},
		{seqKey(nsType, append([]byte(a.EntryType), 0), a.Seq), nil},
		{keyHead, append(binary.BigEndian.AppendUint64(nil, a.Seq), r.Hash[:]...)},
	}
	if d.Type != Delete {
		sets = append(sets, struct{ k, v []byte }{hashKey(nsEntry, a.EntryHash), d.Entry})
	}
	if d.Type != Create {
		sets = append(sets, struct{ k, v []byte }{seqKey(nsTarget, a.Target, a.Seq), nil})
	}
	for _, s := range sets {
		if err := txn.Set(s.k, s.v); err != nil {
			return Record{}, fmt.Errorf("chain: append: %w", err)
		}
	}
	if err := writeIndex(txn, d.Index); err != nil {
		return Record{}, err
	}
	if d.IndexFunc != nil {
		if err := writeIndex(txn, d.IndexFunc(r.Hash)); err != nil {
			return Record{}, err
		}
	}
	if err := txn.Commit(); err != nil {
		return Record{}, fmt.Errorf("chain: append: %w", err)
	}
	n := 0
	for _, s := range sets {
		n += len(s.k) + len(s.v)
	}
	for _, w := range d.Index {
		n += len(w.Name) + len(w.Key) + len(w.Value)
	}
	c.wrote(n)
	return r, nil
}

// draftSize bounds what appending d writes: its entry, its index entries,
// and the action with its own keys (under 1 KiB).
func draftSize(d *Draft) int {
	n := len(d.Entry) + 1<<10
	for _, w := range d.Index {
		n += len(w.Name) + len(w.Key) + len(w.Value) + 2
	}
	return n
}

// writeIndex applies index writes to txn, in order.
func writeIndex(txn *badger.Txn, ws []IndexWrite) error {
	for _, w := range ws {
		k := indexKey(w.Name, w.Key)
		var err error
		if w.Delete {
			err = txn.Delete(k)
		} else {
			err = txn.Set(k, w.Value)
		}
		if err != nil {
			return fmt.Errorf("chain: append: index %s: %w", w.Name, err)
		}
	}
	return nil
}

// checkTarget enforces what Verify checks later: an update or delete targets
// an earlier, live create or update of the same entry type.
func checkTarget(txn *badger.Txn, a *Action) error {
	t := a.TargetHash()
	seqb, err := txnGet(txn, hashKey(nsHash, t))
	if err != nil {
		return fmt.Errorf("chain: %w: %s is not on this chain", ErrBadTarget, t.ActionString())
	}
	v, err := txnGet(txn, seqKey(nsAction, nil, binary.BigEndian.Uint64(seqb)))
	if err != nil {
		return fmt.Errorf("chain: target: %w", err)
	}
	tr, err := decodeStored(v)
	if err != nil {
		return fmt.Errorf("chain: target: %w", err)
	}
	if err := targetFits(&tr.Action, a); err != nil {
		return err
	}
	// Already deleted?
	it := txn.NewIterator(badger.IteratorOptions{Prefix: append([]byte{nsTarget}, t[:]...)})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		ov, err := txnGet(txn, seqKey(nsAction, nil, binary.BigEndian.Uint64(k[len(k)-8:])))
		if err != nil {
			return err
		}
		if o, err := decodeStored(ov); err == nil && o.Type == Delete {
			return fmt.Errorf("chain: %w: %s is already deleted", ErrBadTarget, t.ActionString())
		}
	}
	return nil
}

func targetFits(target, a *Action) error {
	switch {
	case target.Seq >= a.Seq:
		return fmt.Errorf("chain: %w: target is not earlier", ErrBadTarget)
	case target.Type == Delete:
		return fmt.Errorf("chain: %w: target is a delete", ErrBadTarget)
	case target.EntryType == EntryAgentKey:
		return fmt.Errorf("chain: %w: the agent key cannot be replaced", ErrBadTarget)
	case target.EntryType != a.EntryType:
		return fmt.Errorf("chain: %w: target is a %s, not a %s", ErrBadTarget, target.EntryType, a.EntryType)
	}
	return nil
}

func txnGet(txn *badger.Txn, key []byte) ([]byte, error) {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return it.ValueCopy(nil)
}

func indexKey(name string, key []byte) []byte {
	k := make([]byte, 0, 2+len(name)+len(key))
	k = append(k, nsIndex)
	k = append(k, name...)
	k = append(k, 0)
	return append(k, key...)
}
