package peers

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	record "github.com/libp2p/go-libp2p-record"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

// Protocol constants of the agent record. They are frozen: a change makes
// records of older versions unreadable and their signatures invalid.
const (
	// RecordNamespace is the DHT namespace the record validator is
	// registered under: DHT keys of agent records start with "/n2n/".
	RecordNamespace = "n2n"
	// recordKeyPrefix is followed by the 32 raw bytes of the agent key (not
	// its text form: the DHT hashes the key anyway, and raw bytes keep it
	// short and unambiguous).
	recordKeyPrefix = "/" + RecordNamespace + "/agent/"
	// recordDomain is prepended to the unsigned encoding before signing, so
	// that a record signature can never be mistaken for any other signature
	// made with the agent key.
	recordDomain = "n2n agent record v1"
)

// Implementation limits on records read from the network.
const (
	// MaxRecordSize bounds the encoded record.
	MaxRecordSize = 4096
	// MaxRecordAddrs bounds the number of addresses in one record.
	MaxRecordAddrs = 32
	// maxAddrLen bounds one binary multiaddr.
	maxAddrLen = 256
	sigLen     = 64
)

// ErrBadRecord is wrapped by every error about a malformed, oversized,
// non-canonical or wrongly signed agent record.
var ErrBadRecord = errors.New("bad agent record")

// Record is a signed agent record: the addresses at which an agent can be
// reached, published in the DHT under RecordKey(Agent).
type Record struct {
	Agent keys.PublicKey
	Addrs []multiaddr.Multiaddr
	Seq   uint64 // higher wins; the publisher uses Unix microseconds
	Sig   []byte // Ed25519 by Agent over recordDomain ‖ unsigned encoding
}

// wireRecord is the CBOR form. Sig is absent in the encoding that is signed.
type wireRecord struct {
	Key   []byte   `cbor:"key"`
	Addrs [][]byte `cbor:"addrs"`
	Seq   uint64   `cbor:"seq"`
	Sig   []byte   `cbor:"sig,omitempty"`
}

// decMode reads records, from the network.
var decMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: MaxRecordAddrs, MaxMapPairs: 16})

// RecordKey is the DHT key of an agent's record: "/n2n/agent/" followed by
// the 32 raw bytes of the agent key.
func RecordKey(agent keys.PublicKey) string { return recordKeyPrefix + string(agent[:]) }

// agentFromRecordKey parses a DHT key made by RecordKey.
func agentFromRecordKey(key string) (keys.PublicKey, error) {
	var k keys.PublicKey
	rest, ok := strings.CutPrefix(key, recordKeyPrefix)
	if !ok || len(rest) != len(k) {
		return k, fmt.Errorf("%w: DHT key is not %q followed by 32 bytes", ErrBadRecord, recordKeyPrefix)
	}
	copy(k[:], rest)
	return k, nil
}

func (r *Record) wire(withSig bool) wireRecord {
	w := wireRecord{Key: r.Agent[:], Addrs: make([][]byte, 0, len(r.Addrs)), Seq: r.Seq}
	for _, a := range r.Addrs {
		w.Addrs = append(w.Addrs, a.Bytes())
	}
	if withSig {
		w.Sig = r.Sig
	}
	return w
}

// signedMessage is what the agent signs: the domain string, then the
// deterministic encoding of the record without its signature.
func (r *Record) signedMessage() ([]byte, error) {
	b, err := detcbor.EncMode().Marshal(r.wire(false))
	if err != nil {
		return nil, err
	}
	return append([]byte(recordDomain), b...), nil
}

// SignRecord makes id's record for addrs with sequence number seq.
func SignRecord(id *keys.Identity, addrs []multiaddr.Multiaddr, seq uint64) (*Record, error) {
	if len(addrs) > MaxRecordAddrs {
		addrs = addrs[:MaxRecordAddrs]
	}
	r := &Record{Agent: id.Public(), Addrs: append([]multiaddr.Multiaddr(nil), addrs...), Seq: seq}
	for _, a := range r.Addrs {
		if n := len(a.Bytes()); n == 0 || n > maxAddrLen {
			return nil, fmt.Errorf("peers: sign record: %w: address of %d bytes", ErrBadRecord, n)
		}
	}
	msg, err := r.signedMessage()
	if err != nil {
		return nil, fmt.Errorf("peers: sign record: %w", err)
	}
	r.Sig = id.Sign(msg)
	return r, nil
}

// Verify checks the record's signature by its agent.
func (r *Record) Verify() error {
	msg, err := r.signedMessage()
	if err != nil {
		return fmt.Errorf("peers: verify record: %w", err)
	}
	if !r.Agent.Verify(msg, r.Sig) {
		return fmt.Errorf("peers: verify record: %w: signature does not verify", ErrBadRecord)
	}
	return nil
}

// Encode is the deterministic CBOR encoding of the signed record.
func (r *Record) Encode() ([]byte, error) {
	b, err := detcbor.EncMode().Marshal(r.wire(true))
	if err != nil {
		return nil, fmt.Errorf("peers: encode record: %w", err)
	}
	return b, nil
}

// DecodeRecord parses a signed record. It accepts only the canonical
// encoding (re-encoding gives the same bytes) and checks sizes, but not the
// signature: call Verify.
func DecodeRecord(b []byte) (*Record, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("peers: decode record: %w: %s", ErrBadRecord, fmt.Sprintf(format, args...))
	}
	if len(b) > MaxRecordSize {
		return nil, bad("%d bytes, limit %d", len(b), MaxRecordSize)
	}
	var w wireRecord
	if err := decMode().Unmarshal(b, &w); err != nil {
		return nil, bad("%v", err)
	}
	r := &Record{Seq: w.Seq, Sig: w.Sig}
	if len(w.Key) != len(r.Agent) {
		return nil, bad("key of %d bytes", len(w.Key))
	}
	copy(r.Agent[:], w.Key)
	if len(w.Sig) != sigLen {
		return nil, bad("signature of %d bytes", len(w.Sig))
	}
	if len(w.Addrs) > MaxRecordAddrs {
		return nil, bad("%d addresses, limit %d", len(w.Addrs), MaxRecordAddrs)
	}
	r.Addrs = make([]multiaddr.Multiaddr, 0, len(w.Addrs))
	for _, ab := range w.Addrs {
		if len(ab) == 0 || len(ab) > maxAddrLen {
			return nil, bad("address of %d bytes", len(ab))
		}
		a, err := multiaddr.NewMultiaddrBytes(ab)
		if err != nil {
			return nil, bad("address: %v", err)
		}
		r.Addrs = append(r.Addrs, a)
	}
	again, err := r.Encode()
	if err != nil || !bytes.Equal(again, b) {
		return nil, bad("not in canonical form")
	}
	return r, nil
}

// Validator is the DHT record validator for agent records (namespace
// RecordNamespace): a value under RecordKey(K) must be a canonical record
// of agent K with a valid signature by K; of several, the highest Seq wins.
type Validator struct{}

var _ record.Validator = Validator{}

// Validate implements record.Validator.
func (Validator) Validate(key string, value []byte) error {
	_, err := validRecord(key, value)
	return err
}

func validRecord(key string, value []byte) (*Record, error) {
	agent, err := agentFromRecordKey(key)
	if err != nil {
		return nil, fmt.Errorf("peers: validate: %w", err)
	}
	r, err := DecodeRecord(value)
	if err != nil {
		return nil, err
	}
	if r.Agent != agent {
		return nil, fmt.Errorf("peers: validate: %w: record of %s under the key of %s", ErrBadRecord, r.Agent, agent)
	}
	if err := r.Verify(); err != nil {
		return nil, err
	}
	return r, nil
}

// Select implements record.Validator: the index of the valid record with
// the highest Seq, the first of equals (so the choice is stable). Invalid
// values are never selected.
func (Validator) Select(key string, values [][]byte) (int, error) {
	best, bestSeq := -1, uint64(0)
	for i, v := range values {
		r, err := validRecord(key, v)
		if err != nil {
			continue
		}
		if best < 0 || r.Seq > bestSeq {
			best, bestSeq = i, r.Seq
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("peers: select: %w: no valid record among %d", ErrBadRecord, len(values))
	}
	return best, nil
}
