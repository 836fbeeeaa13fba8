package chain

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// Room on the home's filesystem. Badger writes its memtable log, its value
// log and its tables through memory-mapped files, whose pages the
// filesystem backs only when they are written: a page it cannot back is a
// SIGBUS, which kills the process (Go cannot make it an error). So no write
// starts, and no store is opened for writing, unless the filesystem has
// room for all that the write may make Badger write; a write that would
// not fit fails with ErrNoSpace instead, and the store stays as it was.
//
// What a write may make Badger write besides itself (twice: the memtable
// log, and the value log or a table later): the flush of a full memtable (a
// level-0 table and a new log), and the compaction of level 0 that the
// flush may start (up to 2×l0Compact level-0 tables merged with tables of
// the base level). MinFree covers those. Close's flush needs less
// (flushFree), and Close's own compaction the whole tree (compactIfNeeded).
const (
	// MinFree is the room a write needs besides twice its own size (64
	// MiB); exported for the documentation.
	MinFree   = 2*l0Compact*memTableSize + 2*tableSize
	flushFree = 2 * memTableSize
)

// ErrNoSpace is wrapped by the error of a write (or an open for writing)
// refused because the home's filesystem is too full to take it safely.
var ErrNoSpace = errors.New("no space left")

// freeSpace is what the filesystem holding dir has free for this user.
func freeSpace(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// roomIn fails with ErrNoSpace unless the filesystem of dir has need bytes
// free. A filesystem that cannot say lets the write go.
func roomIn(dir string, need uint64) error {
	free, err := freeSpace(dir)
	if err != nil || free >= need {
		return nil
	}
	return fmt.Errorf("%w on %s (%d MiB free; n2n writes to its home only with %d MiB free)",
		ErrNoSpace, dir, free>>20, (need+1<<20-1)>>20)
}

// roomFor checks there is room for a write of n bytes (keys and values).
func (c *Chain) roomFor(n int) error { return roomIn(c.home, MinFree+2*uint64(n)) }
