package peers

import (
	"bytes"
	"slices"
	"sort"
	"sync"
)

// MemStore is an in-memory Store, for tests and for commands that need no
// persistence. Safe for concurrent use.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Get implements Store.
func (s *MemStore) Get(key []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[string(key)]
	if !ok {
		return nil, nil
	}
	return slices.Clone(v), nil
}

// Set implements Store.
func (s *MemStore) Set(key, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[string(key)] = slices.Clone(value)
	return nil
}

// Delete implements Store.
func (s *MemStore) Delete(key []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, string(key))
	return nil
}

// Iterate implements Store. fn runs without the lock held, on copies.
func (s *MemStore) Iterate(prefix []byte, fn func(key, value []byte) error) error {
	s.mu.Lock()
	var ks []string
	for k := range s.m {
		if bytes.HasPrefix([]byte(k), prefix) {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	vs := make([][]byte, len(ks))
	for i, k := range ks {
		vs[i] = slices.Clone(s.m[k])
	}
	s.mu.Unlock()
	for i, k := range ks {
		if err := fn([]byte(k), vs[i]); err != nil {
			return err
		}
	}
	return nil
}
