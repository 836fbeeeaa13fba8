package daemon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/chain"
)

// auditRetention keeps the audit log within Quotas.AuditAge and
// Quotas.AuditBytes: it knows the log's size (keys and values) and its
// oldest record, read from the keys when first needed, and drops records
// oldest first. Safe for concurrent use.
type auditRetention struct {
	maxAge   time.Duration
	maxBytes int64

	once    sync.Once
	loadErr error

	mu     sync.Mutex // guards bytes and oldest
	bytes  int64      // of keys and values
	oldest int64      // µs of the oldest record; 0 when there is none

	pruning sync.Mutex // one prune at a time
}

// pruneSlack: past its size, the log is cut to this much below it, so that
// records are dropped in batches rather than one per call.
const pruneSlack = 16

// load reads the log's size and oldest record from its keys, once.
func (r *auditRetention) load(s *chain.Side) error {
	r.once.Do(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.loadErr = s.Keys(nil, func(k []byte, size int64) error {
			if r.oldest == 0 {
				r.oldest = recordTime(k)
			}
			r.bytes += int64(len(k)) + size
			return nil
		})
		if r.loadErr != nil {
			r.loadErr = fmt.Errorf("daemon: audit: %w", r.loadErr)
		}
	})
	return r.loadErr
}

// recordTime is the time (µs) a key of the log begins with.
func recordTime(k []byte) int64 {
	if len(k) < 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(k))
}

// added counts a record of n bytes at t (µs) written to s, and prunes the
// log if it is over its bounds at now.
func (r *auditRetention) added(s *chain.Side, n, t int64, now time.Time) error {
	r.mu.Lock()
	r.bytes += n
	if r.oldest == 0 || t < r.oldest {
		r.oldest = t
	}
	over := r.over(now)
	r.mu.Unlock()
	if !over {
		return nil
	}
	return r.prune(s, now)
}

// over reports whether the log is over a bound at now (under r.mu).
func (r *auditRetention) over(now time.Time) bool {
	return r.bytes > r.maxBytes || r.oldest != 0 && r.oldest < now.Add(-r.maxAge).UnixMicro()
}

// trim drops what is past the bounds at now (as the daemon starts).
func (r *auditRetention) trim(s *chain.Side, now time.Time) error {
	if err := r.load(s); err != nil {
		return err
	}
	r.mu.Lock()
	over := r.over(now)
	r.mu.Unlock()
	if !over {
		return nil
	}
	return r.prune(s, now)
}

// errEnough stops the walk of the keys once enough is found to drop.
var errEnough = errors.New("enough")

// prune drops the records older than maxAge and, while the log is over
// maxBytes, the oldest, down to pruneSlack below maxBytes.
func (r *auditRetention) prune(s *chain.Side, now time.Time) error {
	r.pruning.Lock()
	defer r.pruning.Unlock()
	cutoff := now.Add(-r.maxAge).UnixMicro()
	r.mu.Lock()
	excess := r.bytes - (r.maxBytes - r.maxBytes/pruneSlack)
	if r.bytes <= r.maxBytes {
		excess = 0
	}
	r.mu.Unlock()

	var drop [][]byte
	var freed int64
	next := int64(0) // time of the first record kept
	err := s.Keys(nil, func(k []byte, size int64) error {
		if recordTime(k) >= cutoff && freed >= excess {
			next = recordTime(k)
			return errEnough
		}
		drop = append(drop, k)
		freed += int64(len(k)) + size
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return fmt.Errorf("daemon: audit: %w", err)
	}
	for i := 0; i < len(drop); i += maxGroup {
		if err := s.DeleteMany(drop[i:min(i+maxGroup, len(drop))]); err != nil {
			return fmt.Errorf("daemon: audit: %w", err)
		}
	}
	r.mu.Lock()
	r.bytes -= freed
	r.oldest = next
	r.mu.Unlock()
	return nil
}
