package chain

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestManyShortRuns is the life of a home used by one-shot commands: 500
// open/append/close cycles must all work, and level 0 must stay small.
func TestManyShortRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	c, home := newChain(t, nil)
	c.Close()
	var first, last time.Duration
	for i := 0; i < 500; i++ {
		start := time.Now()
		c, err := Open(context.Background(), home, Options{LockTimeout: time.Second})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if i == 0 {
			first = time.Since(start)
		}
		last = time.Since(start)
		if _, err := c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Open(context.Background(), home, Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, l := range c.db.Levels() {
		if l.Level == 0 && l.NumTables > l0Compact {
			t.Errorf("level 0 has %d tables", l.NumTables)
		}
	}
	if n, err := c.Verify(); err != nil || n != 501 {
		t.Fatalf("verify: %d %v", n, err)
	}
	t.Logf("open: first %v, last %v", first, last)
}

// BenchmarkOpen: opening a home with genesis only, what every one-shot
// command pays. "rw" and "ro" time Open alone (Close is not timed); "run"
// is a writing command's whole use of the store: Open, one Append, Close
// (which flushes a level-0 table).
func BenchmarkOpen(b *testing.B) {
	for _, name := range []string{"rw", "ro"} {
		b.Run(name, func(b *testing.B) {
			c, home := newChain(b, nil)
			c.Close()
			for b.Loop() {
				c, err := Open(context.Background(), home, Options{ReadOnly: name == "ro", LockTimeout: time.Second})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := c.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
	b.Run("run", func(b *testing.B) {
		c, home := newChain(b, nil)
		c.Close()
		for b.Loop() {
			c, err := Open(context.Background(), home, Options{LockTimeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Append(Draft{Type: Create, EntryType: "app:n", Entry: []byte("bench")}); err != nil {
				b.Fatal(err)
			}
			if err := c.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestLongRunCompactsLevelZero is the life of a home held by a daemon:
// Badger's compactors are off (they would wake the process 40 times a
// second), so the chain must compact level 0 itself as writes come in.
// Ten memtables of side-store writes leave level 0 at most one table past
// l0Compact (without the chain's compaction it would hold about ten, and
// past l0Compact*4 every write would stall), and no compactor goroutine
// runs.
func TestLongRunCompactsLevelZero(t *testing.T) {
	c, _ := newChain(t, nil)
	defer c.Close()
	if n := goroutinesIn("runCompactor"); n != 0 {
		t.Fatalf("%d Badger compactor goroutines run", n)
	}
	side := c.Side("test")
	value := make([]byte, 16<<10)
	const batch = 30 // 480 KiB a transaction, within Badger's batch limit
	for i := 0; i < 10*memTableSize/len(value); i += batch {
		kvs := make([][2][]byte, batch)
		for j := range kvs {
			kvs[j] = [2][]byte{fmt.Appendf(nil, "k%08d", i+j), value}
		}
		if err := side.SetMany(kvs); err != nil {
			t.Fatal(err)
		}
	}
	c.compactWG.Wait()
	for _, l := range c.db.Levels() {
		t.Logf("level %d: %d tables, %d bytes", l.Level, l.NumTables, l.Size)
		if l.Level == 0 && l.NumTables > l0Compact+1 {
			t.Errorf("level 0 has %d tables after ten memtables of writes, want at most %d", l.NumTables, l0Compact+1)
		}
	}
	if v, err := side.Get([]byte("k00000000")); err != nil || len(v) != len(value) {
		t.Fatalf("first value after compaction: %d bytes, %v", len(v), err)
	}
	// The room a compaction needs counts the tables it rewrites: their
	// size, which Badger's own Size (metrics, off) would give as 0.
	if got := c.tablesSize(); got < 4*memTableSize {
		t.Errorf("tablesSize %d after ten memtables of writes, want at least %d", got, 4*memTableSize)
	}
}

// goroutinesIn counts the goroutines whose stack names fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}
