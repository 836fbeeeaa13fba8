package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// allocatedSize is AllocatedSize, failing t on an error.
func allocatedSize(t testing.TB, dir string) int64 {
	t.Helper()
	n, err := AllocatedSize(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// value is the content stored under key in these tests: size bytes that
// depend on the key, so a value moved by the value-log rewrite is checked
// byte for byte.
func value(key []byte, size int) []byte {
	v := bytes.Repeat(key, size/len(key)+1)
	return v[:size]
}

// TestReclaimSpaceKeepsLiveValues deletes most large values of each of six
// rounds and keeps some, so the value-log rewrites must move live values:
// the store's room on disk stays within a bound (it grew by each round's
// data before ReclaimSpace), in the store and after Close and a reopen,
// and every kept value reads back exactly, the deleted ones not at all; in
// a store with a passphrase too.
func TestReclaimSpaceKeepsLiveValues(t *testing.T) {
	t.Run("plain", func(t *testing.T) { reclaimKeepsLiveValues(t, nil) })
	t.Run("encrypted", func(t *testing.T) { reclaimKeepsLiveValues(t, bytes.Repeat([]byte{7}, 32)) })
}

func reclaimKeepsLiveValues(t *testing.T, key []byte) {
	c, home := newChain(t, key)
	db := filepath.Join(home, dbName)
	side := c.Side("big")
	const (
		rounds, perRound, keepEvery = 6, 48, 6
		size                        = 1<<20 + 4096 // not a divisor of a value-log file
	)
	var kept, gone [][]byte
	for r := range rounds {
		var drop [][]byte
		for i := range perRound {
			k := fmt.Appendf(nil, "r%d-%03d", r, i)
			if err := side.Set(k, value(k, size)); err != nil {
				t.Fatal(err)
			}
			if i%keepEvery == 0 {
				kept = append(kept, k)
			} else {
				drop = append(drop, k)
			}
		}
		if err := side.DeleteMany(drop); err != nil {
			t.Fatal(err)
		}
		gone = append(gone, drop...)
		if err := c.ReclaimSpace(); err != nil {
			t.Fatal(err)
		}
		// The live values, the value-log file being written (64 MiB) and
		// what the rewrites leave: a file less than half garbage.
		bound := int64(len(kept)*size) + 2*vlogFileSize
		got := allocatedSize(t, db)
		t.Logf("round %d: %d MiB on disk, %d MiB live, bound %d MiB", r, got>>20, len(kept)*size>>20, bound>>20)
		if got > bound {
			t.Fatalf("round %d: the store takes %d MiB, more than %d MiB", r, got>>20, bound>>20)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(context.Background(), home, Options{EncryptionKey: key, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, bound := allocatedSize(t, db), int64(len(kept)*size)+2*vlogFileSize; got > bound {
		t.Fatalf("reopened: the store takes %d MiB, more than %d MiB", got>>20, bound>>20)
	}
	side = c.Side("big")
	for _, k := range kept {
		if v, err := side.Get(k); err != nil || !bytes.Equal(v, value(k, size)) {
			t.Fatalf("kept %s: %d bytes, %v", k, len(v), err)
		}
	}
	for _, k := range gone {
		if v, err := side.Get(k); err != nil || v != nil {
			t.Fatalf("deleted %s: %d bytes, %v", k, len(v), err)
		}
	}
	if n, err := c.Verify(); err != nil || n != 1 {
		t.Fatalf("verify: %d actions, %v", n, err)
	}
}

// TestReclaimSpaceWritersWait runs every kind of write of the chain in
// goroutines while ReclaimSpace runs again and again: Badger refuses writes
// while it flushes and compacts (ErrBlockedWrites), so without the chain's
// writers waiting for it some of these writes failed.
func TestReclaimSpaceWritersWait(t *testing.T) {
	c, _ := newChain(t, nil)
	big := c.Side("big")
	small := c.Side("small")
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		mu      sync.Mutex
		failed  []error
		started sync.WaitGroup
		writes  atomic.Int64
	)
	fail := func(err error) {
		mu.Lock()
		failed = append(failed, err)
		mu.Unlock()
	}
	writers := map[string]func(i int) error{
		"append": func(i int) error {
			_, err := c.Append(Draft{Type: Create, EntryType: "app:note", Entry: fmt.Appendf(nil, "note %d", i),
				Index: []IndexWrite{{Name: "notes", Key: fmt.Appendf(nil, "%08d", i), Value: []byte("x")}}})
			return err
		},
		"set": func(i int) error { return small.Set(fmt.Appendf(nil, "set%08d", i), []byte("v")) },
		"set many": func(i int) error {
			return small.SetMany([][2][]byte{{fmt.Appendf(nil, "many%08d-a", i), []byte("a")}, {fmt.Appendf(nil, "many%08d-b", i), []byte("b")}})
		},
		"delete": func(i int) error {
			k := fmt.Appendf(nil, "del%08d", i)
			if err := small.Set(k, []byte("v")); err != nil {
				return err
			}
			return small.Delete(k)
		},
		"delete many": func(i int) error {
			k := fmt.Appendf(nil, "delmany%08d", i)
			if err := big.Set(k, value(k, 100<<10)); err != nil {
				return err
			}
			return big.DeleteMany([][]byte{k})
		},
	}
	for name, write := range writers {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100_000 { // bounded; stopped once the reclaims are done
				if err := write(i); err != nil {
					fail(fmt.Errorf("%s %d: %w", name, i, err))
				}
				if i == 0 {
					started.Done()
				}
				writes.Add(1)
				if stop.Load() {
					return
				}
			}
		}()
	}
	started.Wait()
	const reclaims = 8
	during := int64(0)
	for r := range reclaims {
		var ks [][]byte
		for i := range 16 {
			k := fmt.Appendf(nil, "r%d-%02d", r, i)
			if err := big.Set(k, value(k, 1<<20)); err != nil {
				t.Fatal(err)
			}
			ks = append(ks, k)
		}
		if err := big.DeleteMany(ks); err != nil {
			t.Fatal(err)
		}
		before := writes.Load()
		if err := c.ReclaimSpace(); err != nil {
			t.Fatal(err)
		}
		during += writes.Load() - before
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d writes in all, %d of them while %d reclaims ran", writes.Load(), during, reclaims)
	for _, err := range failed {
		t.Error(err)
	}
	if during == 0 {
		t.Fatal("no write ran beside a reclaim: the test tested nothing")
	}
	if n, err := c.Verify(); err != nil {
		t.Fatalf("verify after %d actions: %v", n, err)
	}
}

func TestReclaimSpaceReadOnly(t *testing.T) {
	c, home := newChain(t, nil)
	c.Close()
	ro, err := Open(context.Background(), home, Options{ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.ReclaimSpace(); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("ReclaimSpace on a read-only store: %v", err)
	}
}
