package chain

import (
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/n2n-dev/n2n/keys"
	"golang.org/x/sys/unix"
)

// FlipStoredByte corrupts one byte of the stored action seq (offset counts
// into signature ‖ action). It exists for integrity tests of this package and
// of the CLI; nothing in the program calls it.
func FlipStoredByte(c *Chain, seq uint64, offset int) error {
	k := seqKey(nsAction, nil, seq)
	return c.db.Update(func(txn *badger.Txn) error {
		v, err := txnGet(txn, k)
		if err != nil {
			return err
		}
		if offset >= len(v) {
			return fmt.Errorf("offset %d past %d bytes", offset, len(v))
		}
		v[offset] ^= 0x01
		return txn.Set(k, v)
	})
}

// AlterEntry replaces the stored entry whose hash is h by alter's result,
// under the same hash, as an edit of the home outside n2n would. It exists
// for integrity tests of this package and of the CLI; nothing in the
// program calls it.
func AlterEntry(c *Chain, h keys.Hash, alter func([]byte) []byte) error {
	k := hashKey(nsEntry, h)
	return c.db.Update(func(txn *badger.Txn) error {
		v, err := txnGet(txn, k)
		if err != nil {
			return err
		}
		return txn.Set(k, alter(v))
	})
}

// StoreOptions are the Badger options a writing Open uses for home's store
// (no passphrase). They exist for the benchmark suite, which bulk-loads a long
// chain in the chain's key layout and must leave the store shaped as the
// chain's own writes would; nothing in the program calls it.
//
// Badger's compactors are on here (a Chain has them off and compacts level 0
// itself as it writes, see compactCheck): a bulk load through a WriteBatch
// would otherwise stall once level 0 is full.
func StoreOptions(home string) badger.Options {
	return badgerOptions(filepath.Join(home, dbName), Options{}).WithNumCompactors(2)
}

// AllocatedSize is the room that the files under dir take on their
// filesystem: their allocated blocks, not their apparent size (Badger's
// value-log and memtable files are sparse). It exists for the disk-space
// tests of this package and of the daemon; nothing in the program calls it.
func AllocatedSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return err
		}
		n += st.Blocks * 512
		return nil
	})
	return n, err
}
