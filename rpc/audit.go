package rpc

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/n2n-dev/n2n/keys"
)

// AuditRecord is one incoming call as the audit log keeps it (in the home,
// not on the chain). It never holds the presented secret.
type AuditRecord struct {
	Time     int64          `cbor:"1,keyasint"` // µs
	Caller   keys.PublicKey `cbor:"2,keyasint"`
	Function string         `cbor:"3,keyasint"`
	Access   string         `cbor:"4,keyasint,omitempty"` // author|unrestricted|transferable|assigned; empty if refused
	GrantID  []byte         `cbor:"5,keyasint,omitempty"`
	Outcome  Status         `cbor:"6,keyasint"`
	Duration int64          `cbor:"7,keyasint"` // µs
}

// Audit is the audit log of incoming calls.
type Audit struct{ Store Store }

// Add appends r.
func (a Audit) Add(r *AuditRecord) error {
	k := binary.BigEndian.AppendUint64(nil, uint64(r.Time))
	var n [4]byte
	rand.Read(n[:])
	return a.Store.Set(append(k, n[:]...), encode(r))
}

// List calls fn for each record, oldest first.
func (a Audit) List(fn func(*AuditRecord) error) error {
	return a.Store.Iterate(nil, func(_, v []byte) error {
		var r AuditRecord
		if err := cbor.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("rpc: audit: %w", err)
		}
		return fn(&r)
	})
}
