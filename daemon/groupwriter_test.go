package daemon

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// slowBatches is a batchStore whose every write takes a while, as a synced
// Badger transaction does.
type slowBatches struct {
	mu     sync.Mutex
	writes int
	pairs  map[string]string
}

func (s *slowBatches) SetMany(kvs [][2][]byte) error {
	time.Sleep(5 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	for _, kv := range kvs {
		s.pairs[string(kv[0])] = string(kv[1])
	}
	return nil
}

// TestGroupWriter: pairs set at the same time by many goroutines are all
// stored, each set returning once its pair is, in far fewer writes than
// pairs.
func TestGroupWriter(t *testing.T) {
	s := &slowBatches{pairs: map[string]string{}}
	g := newGroupWriter(s)
	const n = 500
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprint("k", i)
			if err := g.set([]byte(k), []byte(k)); err != nil {
				t.Error(err)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.pairs[k] != k {
				t.Errorf("set %s returned before the pair was stored", k)
			}
		}()
	}
	wg.Wait()
	if len(s.pairs) != n {
		t.Fatalf("%d pairs stored, want %d", len(s.pairs), n)
	}
	if s.writes > n/4 { // 2 on an idle machine
		t.Fatalf("%d writes for %d pairs set at once", s.writes, n)
	}
	t.Logf("%d pairs in %d writes", n, s.writes)
}
