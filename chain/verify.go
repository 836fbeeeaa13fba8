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

// verifyChunk is how many stored actions are read before they are checked
// in parallel; the reader goes on with the next chunk meanwhile.
const verifyChunk = 4096

// checked is one action after the per-action checks (done in parallel).
type checked struct {
	seq    uint64
	raw    []byte // the stored value, until checkOne has decoded it
	sig    []byte
	action Action
	hash   keys.Hash
	reason string // first per-action failure, if any
}

// linkInfo is what the sequential pass keeps of each action to check the
// targets of later updates and deletes.
type linkInfo struct {
	seq       uint64
	typ       ActionType
	entryType string
}

// Verify checks the whole chain: canonical encodings, hashes, signatures,
// seq/prev links, the hash index, entries, and that every update or delete
// targets an earlier action of the right kind. It returns the number of
// actions checked and an *IntegrityError for the first bad one.
//
// Reading runs alongside checking; per-action checks (decoding, hashing, the
// signature, index and entry lookups) run on all cores, and the links are
// then checked in order.
func (c *Chain) Verify() (uint64, error) {
	chunks := make(chan []checked, 2)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() { readErr <- c.readChunks(chunks, stop) }()

	var (
		n       uint64
		prev    keys.Hash
		author  keys.PublicKey
		links   = map[keys.Hash]linkInfo{}
		deleted = map[keys.Hash]bool{}
		intern  = map[string]string{}
	)
	for chunk := range chunks {
		c.checkChunk(chunk)
		for i := range chunk {
			p := &chunk[i]
			if bad := c.link(p, n, &prev, &author, links, deleted, intern); bad != "" {
				return n, &IntegrityError{Seq: p.seq, Reason: bad}
			}
			n++
		}
	}
	if err := <-readErr; err != nil {
		return n, fmt.Errorf("chain: verify: %w", err)
	}
	if head, err := c.get(keyHead); err != nil || n == 0 || binary.BigEndian.Uint64(head[:8]) != n-1 {
		return n, &IntegrityError{Seq: n, Reason: "head does not point at the last action"}
	}
	return n, nil
}

// readChunks reads the stored actions in seq order, verifyChunk at a time.
func (c *Chain) readChunks(out chan<- []checked, stop <-chan struct{}) error {
	defer close(out)
	return c.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{nsAction}
		it := txn.NewIterator(opt)
		defer it.Close()
		chunk := make([]checked, 0, verifyChunk)
		send := func() bool {
			select {
			case out <- chunk:
			case <-stop:
				return false
			}
			chunk = make([]checked, 0, verifyChunk)
			return true
		}
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			chunk = append(chunk, checked{seq: binary.BigEndian.Uint64(it.Item().Key()[1:]), raw: v})
			if len(chunk) == verifyChunk && !send() {
				return nil
			}
		}
		if len(chunk) > 0 {
			send()
		}
		return nil
	})
}

// checkChunk runs the per-action checks of a chunk on all cores.
func (c *Chain) checkChunk(chunk []checked) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []*checked
			c.db.View(func(txn *badger.Txn) error {
				for i := w; i < len(chunk); i += workers {
					checkOne(txn, &chunk[i])
					mine = append(mine, &chunk[i])
				}
				return nil
			})
			checkSignatures(mine)
		}(w)
	}
	wg.Wait()
}

// checkSignatures verifies the signatures of actions that passed checkOne:
// in one batch (several times faster), and one by one only if the batch
// fails, to name the bad ones.
func checkSignatures(ps []*checked) {
	var msgs, sigs [][]byte
	var batch []*checked
	for _, p := range ps {
		if p.reason == "" {
			msgs, sigs, batch = append(msgs, p.hash[:]), append(sigs, p.sig), append(batch, p)
		}
	}
	if len(batch) == 0 || sameAuthor(batch) && batch[0].action.Author.VerifyBatch(msgs, sigs) {
		return
	}
	for _, p := range batch {
		if !p.action.Author.Verify(p.hash[:], p.sig) {
			p.reason = "signature does not verify"
		}
	}
}

func sameAuthor(ps []*checked) bool {
	for _, p := range ps {
		if p.action.Author != ps[0].action.Author {
			return false
		}
	}
	return true
}

// checkOne decodes one stored action and checks what needs no other action:
// encoding, hash index, entry. Signatures are checked in batches after.
func checkOne(txn *badger.Txn, p *checked) {
	v := p.raw
	p.raw = nil
	if len(v) <= sigLen {
		p.reason = "stored action too short"
		return
	}
	a, err := DecodeAction(v[sigLen:])
	if err != nil {
		p.reason = err.Error()
		return
	}
	p.action, p.hash = a, keys.Sum256(v[sigLen:])
	if a.Seq != p.seq {
		p.reason = fmt.Sprintf("stored under seq %d but says %d", p.seq, a.Seq)
		return
	}
	p.sig = v[:sigLen]
	if idx, err := txnGet(txn, hashKey(nsHash, p.hash)); err != nil || len(idx) != 8 || binary.BigEndian.Uint64(idx) != p.seq {
		p.reason = "hash index does not point here"
		return
	}
	if a.Type != Delete {
		e, err := txnGet(txn, hashKey(nsEntry, a.EntryHash))
		switch {
		case err != nil:
			p.reason = fmt.Sprintf("entry %s missing", a.EntryHash.EntryString())
		case keys.Sum256(e) != a.EntryHash:
			p.reason = "entry does not match its hash"
		case p.seq == 0 && !bytes.Equal(e, a.Author[:]):
			p.reason = "genesis entry is not the author's key"
		}
	}
}

// link checks, in order, what relates an action to those before it.
func (c *Chain) link(p *checked, n uint64, prev *keys.Hash, author *keys.PublicKey,
	links map[keys.Hash]linkInfo, deleted map[keys.Hash]bool, intern map[string]string) string {
	a := &p.action
	switch {
	case p.seq != n:
		return fmt.Sprintf("expected seq %d here", n)
	case p.reason != "":
		return p.reason
	case n > 0 && !bytes.Equal(a.Prev, prev[:]):
		return fmt.Sprintf("prev does not link to action %d", n-1)
	case n == 0 && (a.Type != Create || a.EntryType != EntryAgentKey):
		return "genesis is not the agent key"
	case n > 0 && a.Author != *author:
		return "author is not the chain's agent"
	}
	if n == 0 {
		*author = a.Author
	}
	if a.Type != Create {
		t, ok := links[a.TargetHash()]
		switch {
		case !ok:
			return fmt.Sprintf("target %s is not an earlier action", a.TargetHash().ActionString())
		case deleted[a.TargetHash()]:
			return fmt.Sprintf("target %s was already deleted", a.TargetHash().ActionString())
		}
		if err := targetFits(&Action{Seq: t.seq, Type: t.typ, EntryType: t.entryType}, a); err != nil {
			return err.Error()
		}
		if a.Type == Delete {
			deleted[a.TargetHash()] = true
		}
	}
	if a.Type != Delete {
		et, ok := intern[a.EntryType]
		if !ok {
			et = a.EntryType
			intern[et] = et
		}
		links[p.hash] = linkInfo{seq: a.Seq, typ: a.Type, entryType: et}
	}
	*prev = p.hash
	return ""
}
