package inproc

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
)

// bigChainSize is the length of P9's chain (N2N_BENCH_CHAIN overrides it,
// for trying the suite quickly).
func bigChainSize() int {
	if n, err := strconv.Atoi(os.Getenv("N2N_BENCH_CHAIN")); err == nil && n > 1 {
		return n
	}
	return 1_000_000
}

// outDir is where built data is cached between runs (git-ignored).
func outDir() string {
	if d := os.Getenv("N2N_BENCH_OUT"); d != "" {
		return d
	}
	return filepath.Join("..", "out")
}

func repoDir() string {
	if d := os.Getenv("N2N_REPO"); d != "" {
		return d
	}
	return filepath.Join("..", "..")
}

var (
	bigOnce sync.Once
	bigHome string
	bigErr  error
)

// bigChain returns a home whose chain has bigChainSize actions, building it
// once and caching it under outDir. The cache is keyed by the size, the
// builder's version and the chain package's source, so a change of the
// stored format, of the store options or of how it is built rebuilds it.
func bigChain(b testing.TB) string {
	bigOnce.Do(func() { bigHome, bigErr = cachedBigChain(bigChainSize()) })
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigHome
}

func cachedBigChain(n int) (string, error) {
	stamp, err := chainStamp(n)
	if err != nil {
		return "", err
	}
	home := filepath.Join(outDir(), fmt.Sprintf("chain-%d", n))
	if b, err := os.ReadFile(filepath.Join(home, "bench-stamp")); err == nil && string(b) == stamp {
		return home, nil
	}
	os.RemoveAll(home)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	start := time.Now()
	if err := buildChain(home, n); err != nil {
		os.RemoveAll(home)
		return "", fmt.Errorf("build a chain of %d actions: %w", n, err)
	}
	fmt.Fprintf(os.Stderr, "inproc: built a chain of %d actions in %s (cached in %s)\n", n, time.Since(start).Round(time.Second), home)
	return home, os.WriteFile(filepath.Join(home, "bench-stamp"), []byte(stamp), 0o600)
}

// bigChainBuild is the version of buildChain; raise it when the home it
// leaves changes. 2: the chain's own store options and close path.
const bigChainBuild = 2

func chainStamp(n int) (string, error) {
	files, err := filepath.Glob(filepath.Join(repoDir(), "chain", "*.go"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("chain sources not found under %s (set N2N_REPO)", repoDir())
	}
	slices.Sort(files)
	h := sha256.New()
	fmt.Fprintf(h, "actions %d build %d\n", n, bigChainBuild)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildChain makes a home with chain.Init (identity and genesis), then
// appends n-1 app entries. chain.Append commits and syncs one action at a
// time (about 0.3 ms here, so 5 minutes for a million) and the chain package
// offers no batch append, so the actions are written with Badger batch
// writes in the chain's key layout (chain/store.go), signed by the home's
// identity on all cores. The layout is repeated here, not imported: if it
// drifts, chain.Open below or BenchmarkP9Verify fails loudly, and the stamp
// (the chain package's source) makes any change of it rebuild the home.
func buildChain(home string, n int) error {
	ctx := context.Background()
	id, err := keys.Generate()
	if err != nil {
		return err
	}
	c, err := chain.Init(ctx, home, id, chain.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	genesis, err := c.Head()
	c.Close()
	if err != nil {
		return err
	}

	// The chain's own store options (table and block sizes, level 0
	// limits), so the tables come out as the chain's writes make them; only
	// the per-commit sync is left to the final Close.
	db, err := badger.Open(chain.StoreOptions(home).WithSyncWrites(false))
	if err != nil {
		return err
	}
	defer db.Close()
	wb := db.NewWriteBatch()
	defer wb.Cancel()

	const chunk = 8192
	prev := genesis.Hash
	ts := genesis.Timestamp
	workers := runtime.GOMAXPROCS(0)
	type item struct {
		enc, entry []byte
		hash       keys.Hash
		sig        []byte
		a          chain.Action
	}
	items := make([]item, chunk)
	for seq := uint64(1); seq < uint64(n); {
		m := min(uint64(chunk), uint64(n)-seq)
		// Hashes link sequentially; signatures do not.
		for i := range m {
			entry := []byte(fmt.Sprintf("bench entry %d", seq+i))
			ts++
			a := chain.Action{Seq: seq + i, Prev: append([]byte{}, prev[:]...), Timestamp: ts, Author: id.Public(),
				Type: chain.Create, EntryType: chain.AppPrefix + "bench", EntryHash: keys.Sum256(entry)}
			enc := a.Encode()
			items[i] = item{enc: enc, entry: entry, hash: keys.Sum256(enc), a: a}
			prev = items[i].hash
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := uint64(w); i < m; i += uint64(workers) {
					items[i].sig = id.Sign(items[i].hash[:])
				}
			})
		}
		wg.Wait()
		for _, it := range items[:m] {
			s := it.a.Seq
			sets := [][2][]byte{
				{seqKey('a', nil, s), append(append([]byte{}, it.sig...), it.enc...)},
				{append([]byte{'h'}, it.hash[:]...), binary.BigEndian.AppendUint64(nil, s)},
				{append([]byte{'e'}, it.a.EntryHash[:]...), it.entry},
				{seqKey('t', append([]byte(it.a.EntryType), 0), s), nil},
			}
			for _, kv := range sets {
				if err := wb.Set(kv[0], kv[1]); err != nil {
					return err
				}
			}
		}
		seq += m
		if seq == uint64(n) {
			head := append(binary.BigEndian.AppendUint64(nil, seq-1), prev[:]...)
			if err := wb.Set([]byte("m/head"), head); err != nil {
				return err
			}
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	// End as a home ends after a run of n2n that compacted at Close: one
	// level holding everything (chain's Close flattens the same way once
	// level 0 fills), then the closing flush of the memtable.
	if err := db.Flatten(workers); err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	// And through the chain's own open and close for writing.
	if c, err = chain.Open(ctx, home, chain.Options{LockTimeout: 5 * time.Second}); err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}

	// The chain package must read it as its own.
	c, err = chain.Open(ctx, home, chain.Options{ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	h, err := c.Head()
	if err != nil {
		return err
	}
	if h.Seq != uint64(n-1) || h.Hash != prev {
		return errors.New("the chain package does not see the head written")
	}
	if _, err := c.BySeq(uint64(n / 2)); err != nil {
		return err
	}
	return nil
}

func seqKey(ns byte, prefix []byte, seq uint64) []byte {
	k := append([]byte{ns}, prefix...)
	return binary.BigEndian.AppendUint64(k, seq)
}

// emptyHome is a home with only its genesis, as `n2n init` leaves it.
func emptyHome(b testing.TB) string {
	home := b.TempDir()
	c, err := chain.Init(context.Background(), home, newID(b), chain.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
	return home
}

// BenchmarkP9Open: opening a home (chain.Open; Close is not timed), with a
// chain of genesis only ("empty") and of a million actions ("big";
// N2N_BENCH_CHAIN sets its size), read-write (what a
// writing command does) and read-only (what a reading command does). It
// reports the median as median-ns.
func BenchmarkP9Open(b *testing.B) {
	for _, size := range []string{"empty", "big"} {
		for _, ro := range []bool{false, true} {
			name := size + "/rw"
			if ro {
				name = size + "/ro"
			}
			b.Run(name, func(b *testing.B) {
				home := ""
				if size == "empty" {
					home = emptyHome(b)
				} else {
					home = bigChain(b)
				}
				var ts []time.Duration
				ctx := context.Background()
				for b.Loop() {
					start := time.Now()
					c, err := chain.Open(ctx, home, chain.Options{ReadOnly: ro, LockTimeout: 5 * time.Second})
					if err != nil {
						b.Fatal(err)
					}
					ts = append(ts, time.Since(start))
					b.StopTimer()
					if err := c.Close(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				slices.Sort(ts)
				b.ReportMetric(float64(ts[len(ts)/2]), "median-ns")
			})
		}
	}
}

// BenchmarkP9Verify: chain.Verify of the million-action chain, as actions
// per second.
func BenchmarkP9Verify(b *testing.B) {
	home := bigChain(b)
	c, err := chain.Open(context.Background(), home, chain.Options{ReadOnly: true, LockTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var total uint64
	for b.Loop() {
		n, err := c.Verify()
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "actions/s")
}
