package daemon

import (
	"fmt"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
)

// AuditSide is the side store of the home that holds the audit log.
const AuditSide = "audit"

// AuditRecord is one incoming call as the audit log keeps it (in the home,
// not on the chain). It never holds the presented secret.
type AuditRecord struct {
	Time     int64          `cbor:"1,keyasint"` // µs
	Caller   keys.PublicKey `cbor:"2,keyasint"`
	Function string         `cbor:"3,keyasint"`
	Access   string         `cbor:"4,keyasint,omitempty"` // author|unrestricted|transferable|assigned; empty if refused
	GrantID  []byte         `cbor:"5,keyasint,omitempty"`
	Outcome  rpc.Status     `cbor:"6,keyasint"`
	Duration int64          `cbor:"7,keyasint"` // µs
	// InvalidFunction says the function name called was not a valid name
	// (caps.ValidFunction): Function is then empty and FunctionLen is the
	// name's length in bytes. A caller chooses those bytes; the log keeps
	// none of them.
	InvalidFunction bool `cbor:"8,keyasint,omitempty"`
	FunctionLen     int  `cbor:"9,keyasint,omitempty"`
}

// newAuditRecord is the record of a call of function by caller at t, with
// what the caller chose checked before it is kept: a function name that is
// not valid is recorded by its length.
func newAuditRecord(t time.Time, caller keys.PublicKey, function string) *AuditRecord {
	r := &AuditRecord{Time: t.UnixMicro(), Caller: caller, Function: function}
	if !caps.ValidFunction(function) {
		r.Function, r.InvalidFunction, r.FunctionLen = "", true, len(function)
	}
	return r
}

// Audit is the audit log of incoming calls, in the home's AuditSide. The
// daemon's (Daemon.Audit) writes records after the reply has gone (see
// Daemon.call) and keeps the log within its Quotas (auditRetention); its
// List first waits for the records still being written.
type Audit struct {
	Store     *chain.Side
	writer    *groupWriter
	pending   *pendingWrites
	retention *auditRetention // nil outside the daemon
}

// Add appends r, and drops old records if the log is over its bounds.
func (a Audit) Add(r *AuditRecord) error {
	if a.retention != nil {
		if err := a.retention.load(a.Store); err != nil {
			return err
		}
	}
	k, v := timedKey(r.Time), detcbor.Marshal(r)
	if err := storeTimed(a.Store, a.writer, k, v); err != nil {
		return err
	}
	if a.retention != nil {
		return a.retention.added(a.Store, int64(len(k)+len(v)), r.Time, time.Now())
	}
	return nil
}

// List calls fn for each record, oldest first.
func (a Audit) List(fn func(*AuditRecord) error) error {
	if a.pending != nil {
		a.pending.wait()
	}
	return a.Store.Iterate(nil, func(_, v []byte) error {
		var r AuditRecord
		if err := storedDecMode().Unmarshal(v, &r); err != nil {
			return fmt.Errorf("daemon: audit: %w", err)
		}
		return fn(&r)
	})
}

// pendingWrites counts writes in progress, for those that must see them
// done.
type pendingWrites struct {
	mu   sync.Mutex
	n    int
	zero *sync.Cond
}

func (p *pendingWrites) add() {
	p.mu.Lock()
	p.n++
	p.mu.Unlock()
}

func (p *pendingWrites) done() {
	p.mu.Lock()
	if p.n--; p.n == 0 && p.zero != nil {
		p.zero.Broadcast()
	}
	p.mu.Unlock()
}

// wait returns once no write is in progress.
func (p *pendingWrites) wait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.zero == nil {
		p.zero = sync.NewCond(&p.mu)
	}
	for p.n > 0 {
		p.zero.Wait()
	}
}
