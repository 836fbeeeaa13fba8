package chain

import (
	"context"
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
