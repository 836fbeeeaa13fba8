package peers

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
)

func testIdentity(t testing.TB, b byte) *keys.Identity {
	t.Helper()
	seed := bytes.Repeat([]byte{b}, keys.SeedSize)
	id, err := keys.FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustAddrs(t testing.TB, ss ...string) []multiaddr.Multiaddr {
	t.Helper()
	var out []multiaddr.Multiaddr
	for _, s := range ss {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func signedRecord(t testing.TB, id *keys.Identity, seq uint64) []byte {
	t.Helper()
	r, err := SignRecord(id, mustAddrs(t, "/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/udp/4001/quic-v1"), seq)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordRoundTrip(t *testing.T) {
	id := testIdentity(t, 1)
	b := signedRecord(t, id, 42)
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Agent != id.Public() || r.Seq != 42 || len(r.Addrs) != 2 || r.Addrs[1].String() != "/ip4/127.0.0.1/udp/4001/quic-v1" {
		t.Fatalf("decoded %+v", r)
	}
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	again, _ := r.Encode()
	if !bytes.Equal(again, b) {
		t.Fatal("re-encoding differs")
	}
	if err := (Validator{}).Validate(RecordKey(id.Public()), b); err != nil {
		t.Fatal(err)
	}
}

type recordVector struct {
	seed   []byte
	agent  string
	addrs  []string
	seq    uint64
	expect []byte
}

func readRecordVector(t testing.TB) recordVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/agent_record_v1.txt")
	if err != nil {
		t.Fatal(err)
	}
	var v recordVector
	for _, line := range strings.Split(string(raw), "\n") {
		k, val, ok := strings.Cut(line, ": ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		switch k {
		case "seed":
			v.seed, err = hex.DecodeString(val)
		case "agent":
			v.agent = val
		case "addr":
			v.addrs = append(v.addrs, val)
		case "seq":
			v.seq, err = strconv.ParseUint(val, 10, 64)
		case "expect":
			v.expect, err = hex.DecodeString(val)
		}
		if err != nil {
			t.Fatalf("vector line %q: %v", line, err)
		}
	}
	return v
}

func TestRecordVector(t *testing.T) {
	v := readRecordVector(t)
	id, err := keys.FromSeed(v.seed)
	if err != nil {
		t.Fatal(err)
	}
	if id.Public().String() != v.agent {
		t.Fatalf("agent %s, want %s", id.Public(), v.agent)
	}
	r, err := SignRecord(id, mustAddrs(t, v.addrs...), v.seq)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Encode()
	if err != nil || !bytes.Equal(got, v.expect) {
		t.Fatalf("encoding %x (%v)\nwant     %x", got, err, v.expect)
	}
	back, err := DecodeRecord(v.expect)
	if err != nil || back.Verify() != nil || back.Seq != v.seq || len(back.Addrs) != len(v.addrs) {
		t.Fatalf("decode vector: %+v, %v", back, err)
	}
	if err := (Validator{}).Validate(RecordKey(id.Public()), v.expect); err != nil {
		t.Fatal(err)
	}
}

func TestValidatorRejects(t *testing.T) {
	a, b := testIdentity(t, 1), testIdentity(t, 2)
	good := signedRecord(t, a, 7)
	forged := bytes.Clone(good)
	forged[len(forged)-1] ^= 1 // last byte of the signature

	// A record of a, re-signed by b but still naming a.
	r, _ := DecodeRecord(good)
	msg, _ := r.signedMessage()
	r.Sig = b.Sign(msg)
	wrongSigner, _ := r.Encode()

	// An otherwise valid record, with a byte appended.
	trailing := append(bytes.Clone(good), 0)

	// Same content with a non-canonical (longer) length for seq: 7 as uint8.
	nonCanon := bytes.Replace(good, []byte("seq\x07"), []byte("seq\x18\x07"), 1)

	cases := []struct {
		name  string
		key   string
		value []byte
	}{
		{"forged signature", RecordKey(a.Public()), forged},
		{"signed by another agent", RecordKey(a.Public()), wrongSigner},
		{"key mismatch", RecordKey(b.Public()), good},
		{"bad DHT key", "/n2n/agent/short", good},
		{"other namespace", "/pk/" + string(a.Public().PeerIDBytes()), good},
		{"trailing bytes", RecordKey(a.Public()), trailing},
		{"non-canonical", RecordKey(a.Public()), nonCanon},
		{"oversized", RecordKey(a.Public()), make([]byte, MaxRecordSize+1)},
		{"empty", RecordKey(a.Public()), nil},
	}
	if bytes.Equal(nonCanon, good) {
		t.Fatal("test bug: non-canonical form not built")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := (Validator{}).Validate(c.key, c.value)
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("Validate = %v, want ErrBadRecord", err)
			}
		})
	}
}

func TestValidatorSelect(t *testing.T) {
	a := testIdentity(t, 1)
	key := RecordKey(a.Public())
	low, high := signedRecord(t, a, 5), signedRecord(t, a, 9)
	forgedHigher := signedRecord(t, a, 100)
	forgedHigher[len(forgedHigher)-1] ^= 1
	cases := []struct {
		name   string
		values [][]byte
		want   int
	}{
		{"higher second", [][]byte{low, high}, 1},
		{"higher first", [][]byte{high, low}, 0},
		{"equal keeps first", [][]byte{high, high}, 0},
		{"invalid never wins", [][]byte{low, forgedHigher}, 0},
	}
	for _, c := range cases {
		got, err := (Validator{}).Select(key, c.values)
		if err != nil || got != c.want {
			t.Errorf("%s: Select = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	if _, err := (Validator{}).Select(key, [][]byte{forgedHigher}); err == nil {
		t.Error("Select of only invalid values succeeded")
	}
}

func TestSignRecordCapsAddrs(t *testing.T) {
	var many []string
	for i := 0; i < MaxRecordAddrs+5; i++ {
		many = append(many, "/ip4/10.0.0.1/tcp/"+string(rune('1'+i%9)))
	}
	r, err := SignRecord(testIdentity(t, 1), mustAddrs(t, many...), 1)
	if err != nil || len(r.Addrs) != MaxRecordAddrs {
		t.Fatalf("%v, %d addrs", err, len(r.Addrs))
	}
}

func FuzzDecodeRecord(f *testing.F) {
	id := testIdentity(f, 3)
	f.Add(readRecordVector(f).expect)
	f.Add(signedRecord(f, id, 1))
	f.Add(signedRecord(f, id, 1<<60))
	r, _ := SignRecord(id, nil, 0)
	empty, _ := r.Encode()
	f.Add(empty)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecord(b)
		if err != nil {
			return
		}
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decode then encode differs:\n%x\n%x", b, again)
		}
		_ = r.Verify() // must not panic
	})
}
