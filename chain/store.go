package chain

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/n2n-dev/n2n/keys"
	"golang.org/x/sys/unix"
)

// Errors for callers to map to exit codes.
var (
	ErrNoIdentity = errors.New("no identity")     // the home has no chain yet
	ErrExists     = errors.New("identity exists") // Init on an initialised home
	ErrBusy       = errors.New("in use by another n2n process")
	ErrWrongKey   = errors.New("wrong passphrase") // encryption key does not open the store
	ErrNotFound   = errors.New("not found")
	ErrAmbiguous  = errors.New("ambiguous prefix")
	ErrReadOnly   = errors.New("opened read-only")
	// ErrNotWritable: the home cannot be opened for writing (a read-only
	// mount or directory); opening it to read still works.
	ErrNotWritable = errors.New("the home is not writable")
)

// Options say how to open a home's store.
type Options struct {
	// ReadOnly opens without write access: cheaper, and shares the home with
	// other readers.
	ReadOnly bool
	// EncryptionKey is the 32-byte store key (nil for a home without passphrase).
	EncryptionKey []byte
	// LockTimeout bounds the wait for another process holding the home.
	LockTimeout time.Duration
}

// Implementation constants for Badger in short-lived processes.
const (
	memTableSize = 4 << 20 // allocation per open; caps one transaction at ~600 KiB of keys
	vlogFileSize = 64 << 20
	// Open reads every table's index (block offsets and Bloom filter) and
	// checks its checksum, and opens and maps every table file, so its cost
	// grows with the number of tables and the size of their indexes. Larger
	// tables (8 MiB at the base level, twice that per level below) and
	// 64 KiB blocks keep both small: a million actions make ~20 tables
	// instead of ~80. Larger tables still would cost memory when Close
	// compacts a long chain.
	tableSize = 8 << 20
	blockSize = 64 << 10
	// bloomFP: Bloom filters at a 10 % false-positive rate (~5 bits a key,
	// half the default's): a lookup of a key a table lacks, which the
	// capability check makes for every call (caps: is there an unrestricted
	// grant?), mostly skips the table instead of searching a block in it;
	// without filters that cost grew with the number of tables (P8 up to
	// 1.4× with 100 000 grants), with the default 1 % they were 3.5 of the
	// 8 MiB of index a million-action open read (P9).
	bloomFP = 0.1
	// l0Compact: a run that writes leaves one level-0 table at Close, and a
	// one-shot process never lives long enough for Badger's compactors; past
	// this many tables Close compacts them so open time stays flat.
	l0Compact = 6
	// compactCheck: Badger's own compactors are off (each looks at the
	// levels every 50 ms: with two of them, an idle daemon woke 40 times a
	// second for nothing and spent ~0.5 % of a CPU). Instead a writing
	// Chain looks at level 0 after every compactCheck bytes written, and
	// compacts it past l0Compact tables, in the background (compactL0).
	// Half a memtable: each flushed memtable is seen within one more, far
	// below the stall at l0Compact*4 tables.
	compactCheck = memTableSize / 2
	lockName     = "lock"
	dbName       = "db"
)

// Chain is an open home: the Badger store, the agent identity and the chain.
type Chain struct {
	home string
	db   *badger.DB
	lock *os.File
	ro   bool
	id   *keys.Identity
	mu   sync.Mutex // serializes appends

	// writeMu is held shared by every write and by the background
	// compaction, and alone by ReclaimSpace while Badger refuses writes
	// (reclaim.go).
	writeMu   sync.RWMutex
	reclaimMu sync.Mutex // one ReclaimSpace at a time; Close waits for it
	closed    bool       // Close has begun: ReclaimSpace does nothing (under reclaimMu)

	signed signedSet // actions whose signature verified (GetAuthentic)

	// Level-0 compaction in place of Badger's compactors (compactCheck).
	written    atomic.Int64 // bytes written since level 0 was last looked at
	compactMu  sync.Mutex
	compacting bool           // a background compaction runs (under compactMu)
	closing    bool           // Close has begun: none starts (under compactMu)
	compactWG  sync.WaitGroup // Close waits for the running one

	closeOnce sync.Once
	closeErr  error
}

// Exists reports whether dir holds an initialised store.
func Exists(home string) bool {
	_, err := os.Stat(filepath.Join(home, dbName, "MANIFEST"))
	return err == nil
}

func badgerOptions(dir string, o Options) badger.Options {
	opt := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithMetricsEnabled(false).
		WithSyncWrites(true).
		WithNumVersionsToKeep(1).
		WithCompression(options.None).
		WithMemTableSize(memTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(l0Compact). // level 0's score reaches 1 there: Flatten compacts it
		WithNumLevelZeroTablesStall(l0Compact * 4).
		WithNumCompactors(0). // see compactCheck
		WithBlockCacheSize(0).
		WithBaseTableSize(tableSize).
		WithBlockSize(blockSize).
		WithBloomFalsePositive(bloomFP).
		WithValueLogFileSize(vlogFileSize).
		WithValueThreshold(64 << 10).
		// Appends are serialized (a mutex and the home's flock) and side
		// stores only write blindly: no transaction can conflict with
		// another, so Badger need not track the keys of each (~15 % of a
		// batch of inbox writes).
		WithDetectConflicts(false).
		WithReadOnly(o.ReadOnly)
	if len(o.EncryptionKey) > 0 {
		opt = opt.WithEncryptionKey(o.EncryptionKey).
			WithIndexCacheSize(4 << 20).
			WithBlockCacheSize(4 << 20)
	}
	return opt
}

// lockHome takes the home's advisory lock: shared for readers, exclusive for
// writers. It waits up to timeout (or ctx) for another n2n process. A
// reader of a home it may not write (a read-only mount or directory) takes
// the lock through a read-only open: reading needs no write access.
func lockHome(ctx context.Context, home string, exclusive bool, timeout time.Duration) (*os.File, error) {
	path := filepath.Join(home, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil && (errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EROFS)) {
		if exclusive {
			return nil, fmt.Errorf("chain: lock: %w: %w", ErrNotWritable, err)
		}
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("chain: lock: %w", err)
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if unix.Flock(int(f.Fd()), how|unix.LOCK_NB) == nil {
		return f, nil
	}
	// Someone holds it: block in a goroutine so the wait can be bounded. If
	// the wait is abandoned the process exits or closes f, which drops any
	// lock the goroutine later gets.
	done := make(chan error, 1)
	go func() { done <- unix.Flock(int(f.Fd()), how) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("chain: lock: %w", err)
		}
		return f, nil
	case <-timer.C:
		f.Close()
		return nil, fmt.Errorf("home %s is %w", home, ErrBusy)
	case <-ctx.Done():
		f.Close()
		return nil, ctx.Err()
	}
}

func openDB(home string, o Options) (*badger.DB, error) {
	db, err := badger.Open(badgerOptions(filepath.Join(home, dbName), o))
	if err != nil && o.ReadOnly && !errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		// A store left unclean (a crash) must be replayed, which read-only
		// mode cannot do; we hold the lock exclusively enough to fix it.
		return nil, errNeedWrite
	}
	if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
		return nil, ErrWrongKey
	}
	if err != nil {
		return nil, fmt.Errorf("chain: open store: %w", err)
	}
	return db, nil
}

var errNeedWrite = errors.New("store needs recovery")

// Open opens an initialised home.
func Open(ctx context.Context, home string, o Options) (*Chain, error) {
	if !Exists(home) {
		return nil, ErrNoIdentity
	}
	if !o.ReadOnly {
		if err := roomIn(home, MinFree); err != nil {
			return nil, err
		}
	}
	lock, err := lockHome(ctx, home, !o.ReadOnly, o.LockTimeout)
	if err != nil {
		return nil, err
	}
	db, err := openDB(home, o)
	if errors.Is(err, errNeedWrite) {
		lock.Close()
		o.ReadOnly = false
		if err := roomIn(home, MinFree); err != nil {
			return nil, fmt.Errorf("the store must be recovered (a process stopped without closing it): %w", err)
		}
		if lock, err = lockHome(ctx, home, true, o.LockTimeout); err != nil {
			return nil, err
		}
		db, err = openDB(home, o)
	}
	if err != nil {
		lock.Close()
		return nil, err
	}
	c := &Chain{home: home, db: db, lock: lock, ro: o.ReadOnly}
	seed, err := c.get(keyIdentity)
	if err != nil {
		c.Close()
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNoIdentity
		}
		return nil, err
	}
	c.id, err = keys.FromSeed(seed)
	clear(seed)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("chain: stored identity: %w", err)
	}
	return c, nil
}

// Init initialises a new home with identity id and writes genesis. The
// store is built in a temporary directory and renamed into place, so a
// failure leaves no half-made home.
func Init(ctx context.Context, home string, id *keys.Identity, o Options) (*Chain, error) {
	if Exists(home) {
		return nil, ErrExists
	}
	lock, err := lockHome(ctx, home, true, o.LockTimeout)
	if err != nil {
		return nil, err
	}
	if Exists(home) {
		lock.Close()
		return nil, ErrExists
	}
	if err := roomIn(home, MinFree); err != nil {
		lock.Close()
		return nil, err
	}
	tmp, err := os.MkdirTemp(home, ".init-")
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("chain: create: %w", err)
	}
	fail := func(err error) (*Chain, error) {
		os.RemoveAll(tmp)
		lock.Close()
		return nil, err
	}
	o.ReadOnly = false
	db, err := badger.Open(badgerOptions(tmp, o))
	if err != nil {
		return fail(fmt.Errorf("chain: create store: %w", err))
	}
	c := &Chain{home: tmp, db: db, id: id}
	seed := id.Seed()
	err = db.Update(func(txn *badger.Txn) error { return txn.Set(keyIdentity, seed) })
	clear(seed)
	if err == nil {
		pub := id.Public()
		_, err = c.Append(Draft{Type: Create, EntryType: EntryAgentKey, Entry: pub[:]})
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(fmt.Errorf("chain: genesis: %w", err))
	}
	if err := os.Rename(tmp, filepath.Join(home, dbName)); err != nil {
		return fail(fmt.Errorf("chain: create: %w", err))
	}
	if db, err = openDB(home, o); err != nil {
		lock.Close()
		return nil, err
	}
	return &Chain{home: home, db: db, lock: lock, id: id}, nil
}

// Identity is the home's agent identity.
func (c *Chain) Identity() *keys.Identity { return c.id }

// Close flushes and closes the store and releases the home. It keeps level 0
// small (see l0Compact) and is safe to call more than once.
//
// When the filesystem has no room for the flush of the memtable, Close
// leaves the store open and only releases the home: the memtable stays in
// its log, synced, and the next open replays it (as after a crash). The
// process is about to exit, which releases the rest.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() {
		if !c.ro {
			c.reclaimMu.Lock()
			c.closed = true
			c.reclaimMu.Unlock()
			c.compactMu.Lock()
			c.closing = true
			c.compactMu.Unlock()
			c.compactWG.Wait()
			if err := roomIn(c.home, flushFree); err != nil {
				c.closeErr = fmt.Errorf("chain: close: the store is left to be recovered at the next open: %w", err)
				if c.lock != nil {
					c.lock.Close()
				}
				return
			}
			c.compactIfNeeded()
		}
		c.closeErr = c.db.Close()
		if c.lock != nil {
			c.lock.Close()
		}
	})
	return c.closeErr
}

// wrote counts n bytes just written and, every compactCheck bytes, runs
// compactIfNeeded in the background (one at a time, none once Close began).
func (c *Chain) wrote(n int) {
	if c.written.Add(int64(n)) < compactCheck {
		return
	}
	c.compactMu.Lock()
	defer c.compactMu.Unlock()
	if c.compacting || c.closing {
		return
	}
	c.written.Store(0)
	c.compacting = true
	c.compactWG.Go(func() {
		c.writeMu.RLock()
		c.compactIfNeeded()
		c.writeMu.RUnlock()
		c.compactMu.Lock()
		c.compacting = false
		c.compactMu.Unlock()
	})
}

// tablesSize is the size of the store's tables, every level (db.Size reads
// Badger's metrics, which are off).
func (c *Chain) tablesSize() uint64 {
	var n uint64
	for _, l := range c.db.Levels() {
		n += uint64(max(l.Size, 0))
	}
	return n
}

// compactIfNeeded compacts the store into one level when level 0 holds
// l0Compact tables or more, and the filesystem has room to write the
// whole tree again.
func (c *Chain) compactIfNeeded() {
	for _, l := range c.db.Levels() {
		if l.Level == 0 && l.NumTables >= l0Compact {
			if roomIn(c.home, MinFree+c.tablesSize()) != nil {
				return
			}
			// Flush the memtable first so its table is compacted too.
			_ = c.db.Flatten(1)
			return
		}
	}
}

// Badger key layout. One byte of namespace, then fixed-width fields.
var (
	keyIdentity = []byte("m/identity")
	keyHead     = []byte("m/head") // seq(8) ‖ hash(32)
)

const (
	nsAction = 'a' // 'a' seq(8) → signature ‖ action
	nsHash   = 'h' // 'h' hash(32) → seq(8)
	nsEntry  = 'e' // 'e' entry hash(32) → entry bytes
	nsType   = 't' // 't' entry type 0x00 seq(8) → ∅
	nsTarget = 'x' // 'x' target(32) seq(8) → ∅
	nsSide   = 's' // 's' namespace 0x00 key → value (not on the chain)
	nsIndex  = 'i' // 'i' name 0x00 key → value: indexes kept by other packages, written with appends
)

func seqKey(ns byte, prefix []byte, seq uint64) []byte {
	k := make([]byte, 0, 1+len(prefix)+8)
	k = append(k, ns)
	k = append(k, prefix...)
	return binary.BigEndian.AppendUint64(k, seq)
}

func hashKey(ns byte, h keys.Hash) []byte { return append([]byte{ns}, h[:]...) }

func (c *Chain) get(key []byte) ([]byte, error) {
	var v []byte
	err := c.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	return v, err
}

// WaitFree waits until no process holds home (bounded by timeout): how
// "n2n stop" knows the daemon has closed its store.
func WaitFree(ctx context.Context, home string, timeout time.Duration) error {
	f, err := lockHome(ctx, home, true, timeout)
	if err != nil {
		return err
	}
	return f.Close()
}
