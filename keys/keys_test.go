package keys

import (
	"bytes"
	"crypto/ecdh"
	"errors"
	"strings"
	"testing"
)

func TestAgentIDVectors(t *testing.T) {
	var k PublicKey
	for i := range k {
		k[i] = byte(i)
	}
	const want = "uhCAkAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-yNE02"
	if got := k.String(); got != want {
		t.Fatalf("encode 00..1f = %s, want %s", got, want)
	}
	back, err := ParseAgent(want)
	if err != nil || back != k {
		t.Fatalf("decode: %v %x", err, back)
	}

	// A real Holochain agent key decodes and re-encodes to the same text.
	const holo = "uhCAkt_cNGyYJZIp08b2ZzxoE6EqPndRPb_WwjVkM_mOBcFyq7zCw"
	hk, err := ParseAgent(holo)
	if err != nil {
		t.Fatal(err)
	}
	if hk.String() != holo {
		t.Fatalf("re-encode = %s", hk.String())
	}
}

func TestAgentIDRejects(t *testing.T) {
	const good = "uhCAkt_cNGyYJZIp08b2ZzxoE6EqPndRPb_WwjVkM_mOBcFyq7zCw"
	for i := 5; i < len(good); i++ {
		b := []byte(good)
		b[i] = map[bool]byte{true: 'A', false: 'B'}[b[i] != 'A']
		_, err := ParseAgent(string(b))
		if err == nil {
			t.Fatalf("changed char %d accepted", i)
		}
		// The last character carries 2 padding bits; every change there either
		// breaks the checksum or is non-canonical base64.
		if !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("char %d: %v", i, err)
		}
	}
	b := []byte(good)
	b[20] = 'Q'
	if _, err := ParseAgent(string(b)); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("typo: %v", err)
	}
	for _, bad := range []string{"", "uhCAk", good[:len(good)-1], good + "A", "uhCkk" + good[5:], "xhCAk" + good[5:], strings.Replace(good, "_", "/", 1)} {
		if _, err := ParseAgent(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v, want malformed", bad, err)
		}
	}
}

func TestPeerIDForm(t *testing.T) {
	id, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	pid := id.Public().PeerID()
	if !strings.HasPrefix(pid, "12D3KooW") {
		t.Fatalf("peer ID %s", pid)
	}
	back, err := ParseAgent(pid)
	if err != nil || back != id.Public() {
		t.Fatalf("peer ID round trip: %v", err)
	}
}

func TestX25519Agrees(t *testing.T) {
	a, _ := Generate()
	b, _ := Generate()
	ax, bx := a.X25519(), b.X25519()
	apub, err := a.Public().X25519()
	if err != nil {
		t.Fatal(err)
	}
	bpub, _ := b.Public().X25519()
	// The converted private key's public half must equal the converted public key.
	ak, _ := ecdh.X25519().NewPrivateKey(ax[:])
	if !bytes.Equal(ak.PublicKey().Bytes(), apub[:]) {
		t.Fatal("X25519(private) does not match X25519(public)")
	}
	bk, _ := ecdh.X25519().NewPrivateKey(bx[:])
	s1, _ := ak.ECDH(bk.PublicKey())
	s2, _ := bk.ECDH(ak.PublicKey())
	if !bytes.Equal(s1, s2) || !bytes.Equal(bk.PublicKey().Bytes(), bpub[:]) {
		t.Fatal("DH disagrees")
	}
}

func TestSignVerify(t *testing.T) {
	id, _ := Generate()
	sig := id.Sign([]byte("m"))
	if !id.Public().Verify([]byte("m"), sig) || id.Public().Verify([]byte("n"), sig) {
		t.Fatal("verify")
	}
}

func TestAbbrev(t *testing.T) {
	var h Hash
	for i := range h {
		h[i] = byte(i * 7)
	}
	full := h.ActionString()
	for n := 5 + MinPrefix; n <= len(full); n++ {
		a, err := ParseAbbrev(KindAction, full[:n])
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if !a.Match(h) || !bytes.HasPrefix(h[:], a.Bytes) {
			t.Fatalf("%d: no match", n)
		}
	}
	if _, err := ParseAbbrev(KindAction, full[:5+MinPrefix-1]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short prefix: %v", err)
	}
	if _, err := ParseAbbrev(KindEntry, full); !errors.Is(err, ErrMalformed) {
		t.Fatalf("wrong kind: %v", err)
	}
	if KindAction.TypePrefix() != "uhCkk" || KindEntry.TypePrefix() != "uhCEk" || KindAgent.TypePrefix() != "uhCAk" {
		t.Fatal("type prefixes")
	}
}

func TestKDFText(t *testing.T) {
	k, err := NewKDF()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.MarshalText()
	var k2 KDF
	if err := k2.UnmarshalText(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := k2.MarshalText()
	if !bytes.Equal(b, b2) {
		t.Fatalf("%s != %s", b, b2)
	}
	SetKDFCostForTests()
	k3, _ := NewKDF()
	if bytes.Equal(k3.Key([]byte("a")), k3.Key([]byte("b"))) || len(k3.Key(nil)) != 32 {
		t.Fatal("key")
	}
}

func FuzzDecodeID(f *testing.F) {
	f.Add("uhCAkAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-yNE02")
	f.Add("uhCAkt_cNGyYJZIp08b2ZzxoE6EqPndRPb_WwjVkM_mOBcFyq7zCw")
	f.Add("12D3KooWA")
	f.Add("uhCkkAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-yNE02")
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []Kind{KindAgent, KindAction, KindEntry} {
			core, err := Decode(k, s)
			if err == nil && Encode(k, core) != s {
				t.Fatalf("%s decodes but re-encodes to %s", s, Encode(k, core))
			}
			if a, err := ParseAbbrev(k, s); err == nil && !strings.HasPrefix(s, k.TypePrefix()) {
				t.Fatalf("abbrev %v of wrong kind", a)
			}
		}
		if pk, err := ParseAgent(s); err == nil {
			if pk.String() != strings.TrimSpace(s) && pk.PeerID() != strings.TrimSpace(s) {
				t.Fatalf("%q parses to %s", s, pk)
			}
		}
	})
}

func TestVerifyBatch(t *testing.T) {
	id, _ := Generate()
	other, _ := Generate()
	var msgs, sigs [][]byte
	for i := 0; i < 100; i++ {
		m := []byte{byte(i), 1, 2, 3}
		msgs, sigs = append(msgs, m), append(sigs, id.Sign(m))
	}
	if !id.Public().VerifyBatch(msgs, sigs) {
		t.Fatal("good batch refused")
	}
	if id.Public().VerifyBatch(msgs, sigs[:99]) || !id.Public().VerifyBatch(nil, nil) {
		t.Fatal("lengths")
	}
	for _, tamper := range []func([][]byte, [][]byte){
		func(m, s [][]byte) { s[37][5] ^= 1 },               // R
		func(m, s [][]byte) { s[99][40] ^= 1 },              // s
		func(m, s [][]byte) { m[0] = []byte("other") },      // message
		func(m, s [][]byte) { s[3] = other.Sign(m[3]) },     // another key
		func(m, s [][]byte) { s[50], s[51] = s[51], s[50] }, // swapped
	} {
		m := append([][]byte{}, msgs...)
		s := make([][]byte, len(sigs))
		for i := range sigs {
			s[i] = append([]byte{}, sigs[i]...)
		}
		tamper(m, s)
		if id.Public().VerifyBatch(m, s) {
			t.Fatal("tampered batch accepted")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	id, _ := Generate()
	var msgs, sigs [][]byte
	for i := 0; i < 2048; i++ {
		m := []byte{byte(i), byte(i >> 8)}
		msgs, sigs = append(msgs, m), append(sigs, id.Sign(m))
	}
	b.Run("single", func(b *testing.B) {
		for b.Loop() {
			for i := range msgs {
				id.Public().Verify(msgs[i], sigs[i])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/sig")
	})
	b.Run("batch", func(b *testing.B) {
		for b.Loop() {
			id.Public().VerifyBatch(msgs, sigs)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/sig")
	})
}
