package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/n2n-dev/n2n/keys"
)

// Head is the newest action.
func (c *Chain) Head() (Record, error) {
	h, err := c.get(keyHead)
	if err != nil {
		return Record{}, err
	}
	return c.BySeq(binary.BigEndian.Uint64(h[:8]))
}

// BySeq returns the action with this seq.
func (c *Chain) BySeq(seq uint64) (Record, error) {
	v, err := c.get(seqKey(nsAction, nil, seq))
	if err != nil {
		return Record{}, err
	}
	return decodeStored(v)
}

// Get returns the action with this hash.
func (c *Chain) Get(h keys.Hash) (Record, error) {
	s, err := c.get(hashKey(nsHash, h))
	if err != nil {
		return Record{}, err
	}
	return c.BySeq(binary.BigEndian.Uint64(s))
}

// Lookup finds the one action whose hash text starts with the abbreviation.
func (c *Chain) Lookup(a keys.Abbrev) (Record, error) {
	if a.Kind != keys.KindAction {
		return Record{}, fmt.Errorf("chain: lookup: %w: want an action hash", keys.ErrMalformed)
	}
	var found []keys.Hash
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: append([]byte{nsHash}, a.Bytes...)})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(found) < 2; it.Next() {
			var h keys.Hash
			copy(h[:], it.Item().Key()[1:])
			if a.Match(h) {
				found = append(found, h)
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return Record{}, err
	case len(found) == 0:
		return Record{}, fmt.Errorf("%s: %w", a.Text, ErrNotFound)
	case len(found) > 1:
		return Record{}, fmt.Errorf("%s: %w", a.Text, ErrAmbiguous)
	}
	return c.Get(found[0])
}

// Entry returns an entry's content by its hash.
func (c *Chain) Entry(h keys.Hash) ([]byte, error) { return c.get(hashKey(nsEntry, h)) }

// Range calls fn for each action from seq `from` on, in order; fn may stop
// the walk by returning an error, which Range returns.
func (c *Chain) Range(from uint64, fn func(Record) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{nsAction}
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Seek(seqKey(nsAction, nil, from)); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			r, err := decodeStored(v)
			if err != nil {
				return fmt.Errorf("chain: action %d: %w", binary.BigEndian.Uint64(it.Item().Key()[1:]), err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// ByType calls fn for each action of one entry type, in chain order.
func (c *Chain) ByType(entryType string, fn func(Record) error) error {
	return c.seqIndex(append([]byte{nsType}, append([]byte(entryType), 0)...), fn)
}

// ByTarget returns the updates and deletes of one action, in chain order.
func (c *Chain) ByTarget(h keys.Hash) ([]Record, error) {
	var out []Record
	err := c.seqIndex(append([]byte{nsTarget}, h[:]...), func(r Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Deleted reports whether a delete targets h.
func (c *Chain) Deleted(h keys.Hash) (bool, error) {
	rs, err := c.ByTarget(h)
	for _, r := range rs {
		if r.Type == Delete {
			return true, err
		}
	}
	return false, err
}

func (c *Chain) seqIndex(prefix []byte, fn func(Record) error) error {
	var seqs []uint64
	err := c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			seqs = append(seqs, binary.BigEndian.Uint64(k[len(k)-8:]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range seqs {
		r, err := c.BySeq(s)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// IndexGet reads one key of a named index kept with appends.
func (c *Chain) IndexGet(name string, key []byte) ([]byte, error) {
	return c.get(indexKey(name, key))
}

// IndexScan calls fn for each key of a named index starting with prefix.
func (c *Chain) IndexScan(name string, prefix []byte, fn func(key, value []byte) error) error {
	return c.scan(indexKey(name, prefix), len(indexKey(name, nil)), fn)
}

func (c *Chain) scan(prefix []byte, strip int, fn func(key, value []byte) error) error {
	return c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := fn(bytes.Clone(it.Item().Key()[strip:]), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Side is a key-value namespace in the home that is not on the chain (inbox,
// audit log, address book). Absent keys read as (nil, nil).
type Side struct {
	c      *Chain
	prefix []byte
}

// Side returns the named side store.
func (c *Chain) Side(name string) *Side {
	return &Side{c: c, prefix: append(append([]byte{nsSide}, name...), 0)}
}

func (s *Side) key(k []byte) []byte { return append(bytes.Clone(s.prefix), k...) }

// Get reads a key; absent is (nil, nil).
func (s *Side) Get(k []byte) ([]byte, error) {
	v, err := s.c.get(s.key(k))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// Set writes a key (synced).
func (s *Side) Set(k, v []byte) error {
	if s.c.ro {
		return ErrReadOnly
	}
	s.c.writeMu.RLock()
	defer s.c.writeMu.RUnlock()
	if err := s.c.roomFor(len(s.prefix) + len(k) + len(v)); err != nil {
		return err
	}
	err := s.c.db.Update(func(txn *badger.Txn) error { return txn.Set(s.key(k), v) })
	s.c.wrote(len(s.prefix) + len(k) + len(v))
	return err
}

// SetMany writes the pairs (key, value) in one transaction: one sync for
// all of them (Badger syncs its logs once per transaction), all or none.
func (s *Side) SetMany(kvs [][2][]byte) error {
	if s.c.ro {
		return ErrReadOnly
	}
	s.c.writeMu.RLock()
	defer s.c.writeMu.RUnlock()
	n := 0
	for _, kv := range kvs {
		n += len(s.prefix) + len(kv[0]) + len(kv[1])
	}
	if err := s.c.roomFor(n); err != nil {
		return err
	}
	err := s.c.db.Update(func(txn *badger.Txn) error {
		for _, kv := range kvs {
			if err := txn.Set(s.key(kv[0]), kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
	s.c.wrote(n)
	return err
}

// Delete removes a key.
func (s *Side) Delete(k []byte) error {
	if s.c.ro {
		return ErrReadOnly
	}
	s.c.writeMu.RLock()
	defer s.c.writeMu.RUnlock()
	if err := s.c.roomFor(len(s.prefix) + len(k)); err != nil {
		return err
	}
	err := s.c.db.Update(func(txn *badger.Txn) error { return txn.Delete(s.key(k)) })
	s.c.wrote(len(s.prefix) + len(k))
	return err
}

// DeleteMany removes the keys in one transaction: all or none.
func (s *Side) DeleteMany(ks [][]byte) error {
	if s.c.ro {
		return ErrReadOnly
	}
	s.c.writeMu.RLock()
	defer s.c.writeMu.RUnlock()
	n := 0
	for _, k := range ks {
		n += len(s.prefix) + len(k)
	}
	if err := s.c.roomFor(n); err != nil {
		return err
	}
	err := s.c.db.Update(func(txn *badger.Txn) error {
		for _, k := range ks {
			if err := txn.Delete(s.key(k)); err != nil {
				return err
			}
		}
		return nil
	})
	s.c.wrote(n)
	return err
}

// Keys calls fn for each key with the prefix, in key order, with the size
// of its value, without reading the values (cheap however large they are;
// the size of a value kept in Badger's value log is its estimate).
func (s *Side) Keys(prefix []byte, fn func(k []byte, size int64) error) error {
	strip := len(s.prefix)
	return s.c.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: s.key(prefix), PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if err := fn(bytes.Clone(item.Key()[strip:]), item.ValueSize()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Iterate calls fn for each key with the prefix, in key order.
func (s *Side) Iterate(prefix []byte, fn func(k, v []byte) error) error {
	return s.c.scan(s.key(prefix), len(s.prefix), fn)
}
