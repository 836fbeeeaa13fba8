package chain

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/n2n-dev/n2n/keys"
)

// IntegrityError names the first action that failed verification.
type IntegrityError struct {
	Seq    uint64
	Reason string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("chain: action %d: %s", e.Seq, e.Reason)
}

// verifyChunk is how many actions are read before their signatures are
// checked in parallel.
const verifyChunk = 4096

type pending struct {
	seq      uint64
	hash     keys.Hash
	sig      []byte
	author   keys.PublicKey
	reason   string // set when a sequential check already failed
	entry    []byte
	hasEntry bool
	entryOK  keys.Hash
}

// Verify checks the whole chain: canonical encodings, hashes, signatures,
// seq/prev links, the hash index, entries, and that every update or delete
// targets an earlier action of the right kind. It returns the number of
// actions checked and an *IntegrityError for the first bad one.
func (c *Chain) Verify() (uint64, error) {
	var (
		n        uint64
		prev     keys.Hash
		author   keys.PublicKey
		chunk    []pending
		firstBad *IntegrityError
		targets  = map[keys.Hash]Action{} // creates/updates seen, for link checks
		deleted  = map[keys.Hash]bool{}
	)
	flush := func() {
		if bad := checkSignatures(chunk); bad != nil && firstBad == nil {
			firstBad = bad
		}
		chunk = chunk[:0]
	}
	err := c.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{nsAction}
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid() && firstBad == nil; it.Next() {
			key := it.Item().Key()
			seq := binary.BigEndian.Uint64(key[1:])
			p := pending{seq: seq}
			fail := func(format string, args ...any) {
				if p.reason == "" {
					p.reason = fmt.Sprintf(format, args...)
				}
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if seq != n {
				fail("expected seq %d here", n)
			}
			if len(v) <= sigLen {
				fail("stored action too short")
			} else if a, err := DecodeAction(v[sigLen:]); err != nil {
				fail("%v", err)
			} else {
				p.hash, p.sig = keys.Sum256(v[sigLen:]), v[:sigLen]
				p.author = a.Author
				switch {
				case a.Seq != seq:
					fail("stored under seq %d but says %d", seq, a.Seq)
				case seq > 0 && !bytes.Equal(a.Prev, prev[:]):
					fail("prev does not link to action %d", seq-1)
				case seq == 0 && (a.Type != Create || a.EntryType != EntryAgentKey):
					fail("genesis is not the agent key")
				case seq > 0 && a.Author != author:
					fail("author is not the chain's agent")
				}
				if seq == 0 {
					author = a.Author
				}
				if idx, err := txnGet(txn, hashKey(nsHash, p.hash)); err != nil || binary.BigEndian.Uint64(idx) != seq {
					fail("hash index does not point here")
				}
				if a.Type != Delete {
					e, err := txnGet(txn, hashKey(nsEntry, a.EntryHash))
					if err != nil {
						fail("entry %s missing", a.EntryHash.EntryString())
					} else {
						p.entry, p.hasEntry, p.entryOK = e, true, a.EntryHash
					}
				}
				if seq == 0 && p.hasEntry && !bytes.Equal(p.entry, a.Author[:]) {
					fail("genesis entry is not the author's key")
				}
				if a.Type != Create {
					t, ok := targets[a.TargetHash()]
					switch {
					case !ok:
						fail("target %s is not an earlier action", a.TargetHash().ActionString())
					case deleted[a.TargetHash()]:
						fail("target %s was already deleted", a.TargetHash().ActionString())
					default:
						if err := targetFits(&t, &a); err != nil {
							fail("%v", err)
						}
					}
					if a.Type == Delete {
						deleted[a.TargetHash()] = true
					}
				}
				if a.Type != Delete {
					targets[p.hash] = Action{Seq: a.Seq, Type: a.Type, EntryType: a.EntryType}
				}
				prev = p.hash
			}
			chunk = append(chunk, p)
			n++
			if len(chunk) == verifyChunk {
				flush()
			}
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("chain: verify: %w", err)
	}
	if firstBad == nil {
		flush()
	}
	if firstBad != nil {
		return n, firstBad
	}
	if head, err := c.get(keyHead); err != nil || n == 0 || binary.BigEndian.Uint64(head[:8]) != n-1 {
		return n, &IntegrityError{Seq: n, Reason: "head does not point at the last action"}
	}
	return n, nil
}

// checkSignatures verifies a chunk on all cores and returns the failure with
// the lowest seq (sequential failures were recorded in reason already).
func checkSignatures(chunk []pending) *IntegrityError {
	bad := make([]string, len(chunk))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(chunk); i += workers {
				p := &chunk[i]
				switch {
				case p.reason != "":
					bad[i] = p.reason
				case !p.author.Verify(p.hash[:], p.sig):
					bad[i] = "signature does not verify"
				case p.hasEntry && keys.Sum256(p.entry) != p.entryOK:
					bad[i] = "entry does not match its hash"
				}
			}
		}(w)
	}
	wg.Wait()
	for i, r := range bad {
		if r != "" {
			return &IntegrityError{Seq: chunk[i].seq, Reason: r}
		}
	}
	return nil
}
