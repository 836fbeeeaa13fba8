package chain

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// ActionType is what an action does to its entry.
type ActionType string

// The action types.
const (
	Create ActionType = "create"
	Update ActionType = "update"
	Delete ActionType = "delete"
)

// Built-in entry types. Application entries are "app:<name>".
const (
	EntryAgentKey = "agent_key"
	EntryCapGrant = "cap_grant"
	EntryCapClaim = "cap_claim"
	AppPrefix     = "app:"
)

// Action is one link of the chain. Its canonical encoding is deterministic
// CBOR with small integer map keys; the action hash is BLAKE2b-256 of it.
type Action struct {
	Seq       uint64         `cbor:"1,keyasint"`
	Prev      []byte         `cbor:"2,keyasint"` // empty for seq 0
	Timestamp int64          `cbor:"3,keyasint"` // µs since the Unix epoch
	Author    keys.PublicKey `cbor:"4,keyasint"`
	Type      ActionType     `cbor:"5,keyasint"`
	EntryType string         `cbor:"6,keyasint"`
	EntryHash keys.Hash      `cbor:"7,keyasint"`
	Target    []byte         `cbor:"8,keyasint,omitempty"` // update/delete only
}

// Record is a stored action with its hash and signature.
type Record struct {
	Action
	Hash      keys.Hash
	Signature []byte
}

// TargetHash returns the target as a hash (zero when there is none).
func (a *Action) TargetHash() keys.Hash {
	var h keys.Hash
	copy(h[:], a.Target)
	return h
}

// decMode reads actions: flat maps of plain fields. The entry-type pattern
// is built on first use, not at package init, so a command that never
// checks one (version, help) does not pay for it.
var (
	decMode     = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 64, MaxMapPairs: 16})
	entryTypeRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(agent_key|cap_grant|cap_claim|app:[a-z][a-z0-9_]{0,63})$`)
	})
)

// ErrEncoding is wrapped by decoding errors of stored or received actions.
var ErrEncoding = errors.New("bad encoding")

// Encode is the canonical encoding of a.
func (a *Action) Encode() []byte {
	return detcbor.Marshal(a)
}

// DecodeAction parses a canonical action encoding. Anything that would not
// re-encode to the same bytes is rejected, so a hash names one encoding.
func DecodeAction(b []byte) (Action, error) {
	var a Action
	if err := decMode().Unmarshal(b, &a); err != nil {
		return Action{}, fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	if !bytes.Equal(a.Encode(), b) {
		return Action{}, fmt.Errorf("%w: not canonical", ErrEncoding)
	}
	if err := a.check(); err != nil {
		return Action{}, err
	}
	return a, nil
}

// check is the per-action well-formedness test (links are checked by Verify).
func (a *Action) check() error {
	switch a.Type {
	case Create:
		if len(a.Target) != 0 {
			return fmt.Errorf("%w: create with a target", ErrEncoding)
		}
	case Update, Delete:
		if len(a.Target) != 32 {
			return fmt.Errorf("%w: %s without a target", ErrEncoding, a.Type)
		}
	default:
		return fmt.Errorf("%w: action type %q", ErrEncoding, a.Type)
	}
	if !entryTypeRE().MatchString(a.EntryType) {
		return fmt.Errorf("%w: entry type %q", ErrEncoding, a.EntryType)
	}
	if (a.Seq == 0) != (len(a.Prev) == 0) || (len(a.Prev) != 0 && len(a.Prev) != 32) {
		return fmt.Errorf("%w: prev does not fit seq %d", ErrEncoding, a.Seq)
	}
	return nil
}

// ValidAppName reports whether name may follow "app:" in an entry type.
func ValidAppName(name string) bool { return entryTypeRE().MatchString(AppPrefix + name) }

// stored record layout: signature (64 bytes) ‖ canonical action encoding.
const sigLen = 64

func encodeStored(sig, action []byte) []byte {
	return append(append(make([]byte, 0, sigLen+len(action)), sig...), action...)
}

func decodeStored(v []byte) (Record, error) {
	if len(v) <= sigLen {
		return Record{}, fmt.Errorf("%w: stored action too short", ErrEncoding)
	}
	a, err := DecodeAction(v[sigLen:])
	if err != nil {
		return Record{}, err
	}
	return Record{Action: a, Hash: keys.Sum256(v[sigLen:]), Signature: append([]byte{}, v[:sigLen]...)}, nil
}
