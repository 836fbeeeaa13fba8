package chain

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Giving back the room of deleted values. A value of valueThreshold bytes
// or more lives in Badger's value log, whose files only RunValueLogGC
// shrinks: it rewrites a file's live values into the newest file and
// deletes it, once Badger's discard statistics say that half the file is
// garbage or more. A value is counted as garbage only when a compaction
// drops the key version that points at it, and a delete still in the
// memtable reaches no compaction until the memtable is full and flushed
// (4 MiB of keys: thousands of inbox messages) and level 0 is compacted.
//
// Badger has no public flush of the memtable. DropPrefix is the one public
// operation that flushes the memtables and compacts level 0 (the drop of a
// marker key written for the purpose), and it refuses writes meanwhile
// (badger.ErrBlockedWrites): so every write of the chain holds writeMu
// shared, and ReclaimSpace holds it alone while DropPrefix runs; writers
// wait instead of failing. The value-log rewrites that follow run beside
// writes, as Badger allows.
const (
	// gcDiscardRatio: a value-log file is rewritten once half of it or more
	// is garbage (Badger's advice), so a rewrite moves at most half a file.
	gcDiscardRatio = 0.5
	// reclaimFiles bounds the value-log files one ReclaimSpace rewrites (1
	// GiB of value log looked at, at most half of it moved): a clear of a
	// full inbox (256 MiB) spans five.
	reclaimFiles = 16
	// reclaimFree is the room a rewrite needs: what it moves (at most half
	// a file), twice, as any write (roomFor), and a file's worth besides.
	reclaimFree = MinFree + 2*vlogFileSize
)

// keyReclaim is written and at once dropped by ReclaimSpace (DropPrefix
// drops nothing but keys it finds).
var keyReclaim = []byte("m/reclaim")

// ReclaimSpace gives back to the filesystem the room that deleted (or
// overwritten) values held in the store, as far as Badger can: it flushes
// the memtables and compacts level 0, so that Badger counts what the
// deletes left as garbage, then rewrites the value-log files that are half
// garbage or more (up to reclaimFiles of them). Writes during it wait for
// the flush and compaction (a fraction of a second: keys and pointers, not
// values) and never fail because of it.
//
// It does nothing and returns an error wrapping ErrNoSpace when the
// filesystem lacks the room that the compaction and the rewrites may
// write (reclaimFree besides the tables); ErrReadOnly on a store opened
// read-only. After Close it does nothing.
func (c *Chain) ReclaimSpace() error {
	if c.ro {
		return ErrReadOnly
	}
	c.reclaimMu.Lock()
	defer c.reclaimMu.Unlock()
	if c.closed {
		return nil
	}
	if err := roomIn(c.home, reclaimFree+c.tablesSize()); err != nil {
		return fmt.Errorf("chain: reclaim space: %w", err)
	}
	if err := c.flushAndCompact(); err != nil {
		return fmt.Errorf("chain: reclaim space: %w", err)
	}
	for range reclaimFiles {
		if err := roomIn(c.home, reclaimFree); err != nil {
			return fmt.Errorf("chain: reclaim space: %w", err) // what was rewritten so far is given back
		}
		err := c.db.RunValueLogGC(gcDiscardRatio)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("chain: reclaim space: %w", err)
		}
	}
	return nil
}

// flushAndCompact flushes the memtables and compacts level 0 through
// DropPrefix of keyReclaim, with every other write of the chain waiting
// (writeMu), and the background compaction too (compactL0 holds writeMu
// shared): Badger compacts level 0 once at a time, and DropPrefix's
// compaction must be the one that counts the garbage.
func (c *Chain) flushAndCompact() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.db.Update(func(txn *badger.Txn) error { return txn.Set(keyReclaim, nil) }); err != nil {
		return err
	}
	return c.db.DropPrefix(keyReclaim)
}
