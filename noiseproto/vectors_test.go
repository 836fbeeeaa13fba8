package noiseproto

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/flynn/noise"

	"github.com/n2n-dev/n2n/keys"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.txt from the code")

const vectorsFile = "testdata/vectors.txt"

const vectorsHeader = `# n2n noiseproto test vector: Noise_IK_25519_ChaChaPoly_BLAKE2s, prologue "n2n/1".
# Inputs: the two Ed25519 seeds, each side's 32 bytes of ephemeral randomness,
# and one application frame each way. Outputs: the Noise messages (on the wire
# each is preceded by its length, 2 bytes big-endian), the handshake hash, and
# the first transport message each way, whose plaintext is the frame's length
# (4 bytes big-endian) followed by the frame.
# *_static is the X25519 public key derived from the agent key.
# Regenerate: go test ./noiseproto -run TestVectors -update
`

type field struct {
	name  string
	value []byte
}

// seq is 32 bytes start, start+1, ….
func seq(start byte) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// makeVector runs one session with the vector's fixed inputs and records it.
func makeVector(t testing.TB, dhI, dhR dhFunc) []field {
	t.Helper()
	return makeVectorWith(t, dhI, dhR, nil, nil)
}

// vectorIdentities are the vector's initiator and responder.
func vectorIdentities(t testing.TB) (ini, resp *keys.Identity) {
	t.Helper()
	ini, err := keys.FromSeed(seq(0x00))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = keys.FromSeed(seq(0x20))
	if err != nil {
		t.Fatal(err)
	}
	return ini, resp
}

// makeVectorWith is makeVector with Config.Static set on either side
// (non-nil: the vector identity's).
func makeVectorWith(t testing.TB, dhI, dhR dhFunc, stI, stR *Static) []field {
	t.Helper()
	iniSeed, respSeed, iniEph, respEph := seq(0x00), seq(0x20), seq(0x40), seq(0x60)
	request, reply := []byte("call: hello over n2n/1"), []byte("ok")
	iniID, err := keys.FromSeed(iniSeed)
	if err != nil {
		t.Fatal(err)
	}
	respID, err := keys.FromSeed(respSeed)
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := net.Pipe()
	defer ca.Close()
	defer cb.Close()
	recI, recR := &recorder{ReadWriter: ca}, &recorder{ReadWriter: cb}
	ri, rr := handshakePair(recI, recR,
		Config{Local: iniID, Static: stI, Random: bytes.NewReader(iniEph)},
		Config{Local: respID, Static: stR, Random: bytes.NewReader(respEph)},
		respID.Public(), dhI, dhR)
	if ri.err != nil || rr.err != nil {
		t.Fatal(ri.err, rr.err)
	}
	for _, x := range []struct {
		w, r *Session
		p    []byte
	}{{ri.s, rr.s, request}, {rr.s, ri.s, reply}} {
		go x.w.WriteFrame(x.p)
		if got, err := x.r.ReadFrame(); err != nil || !bytes.Equal(got, x.p) {
			t.Fatalf("frame: %v", err)
		}
	}
	if !bytes.Equal(ri.s.HandshakeHash(), rr.s.HandshakeHash()) {
		t.Fatal("handshake hashes differ")
	}
	mI, mR := splitWire(t, recI.bytes()), splitWire(t, recR.bytes())
	if len(mI) != 2 || len(mR) != 2 {
		t.Fatalf("%d and %d messages, want 2 each", len(mI), len(mR))
	}
	iniKey, respKey := iniID.Public(), respID.Public()
	return []field{
		{"init_seed", iniSeed},
		{"init_agent_key", iniKey[:]},
		{"init_static", mustX25519(t, iniKey)},
		{"resp_seed", respSeed},
		{"resp_agent_key", respKey[:]},
		{"resp_static", mustX25519(t, respKey)},
		{"init_ephemeral", iniEph},
		{"resp_ephemeral", respEph},
		{"message1", mI[0]},
		{"message2", mR[0]},
		{"handshake_hash", ri.s.HandshakeHash()},
		{"request", request},
		{"transport1", mI[1]},
		{"reply", reply},
		{"transport2", mR[1]},
	}
}

func render(fields []field) []byte {
	var b bytes.Buffer
	b.WriteString(vectorsHeader)
	for _, f := range fields {
		fmt.Fprintf(&b, "%s: %x\n", f.name, f.value)
	}
	return b.Bytes()
}

// readVectors parses testdata/vectors.txt.
func readVectors(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hx, ok := strings.Cut(line, ": ")
		b, err := hex.DecodeString(hx)
		if !ok || err != nil {
			t.Fatalf("%s: bad line %q", vectorsFile, line)
		}
		v[name] = b
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVectors regenerates the vector and compares it with the file byte for
// byte, with this package's DH and with flynn/noise's stock one.
func TestVectors(t *testing.T) {
	got := render(makeVector(t, newDH25519(), newDH25519()))
	if *update {
		if err := os.WriteFile(vectorsFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale or the wire format changed:\n%s", vectorsFile, lineDiff(want, got))
	}
	for _, dh := range []struct {
		name     string
		ini, res func() dhFunc
	}{{"stock-stock", newStockDH, newStockDH}, {"own-stock", newOwnDH, newStockDH}, {"stock-own", newStockDH, newOwnDH}} {
		if other := render(makeVector(t, dh.ini(), dh.res())); !bytes.Equal(other, want) {
			t.Errorf("%s differs from the vector:\n%s", dh.name, lineDiff(want, other))
		}
	}
	// With static keys made once, on either side or both: the same bytes,
	// the first time and again with the same Statics.
	iniID, respID := vectorIdentities(t)
	for _, st := range []struct {
		name     string
		ini, res bool
	}{{"static-both", true, true}, {"static-initiator", true, false}, {"static-responder", false, true}} {
		var stI, stR *Static
		if st.ini {
			stI = mustStatic(t, iniID)
		}
		if st.res {
			stR = mustStatic(t, respID)
		}
		for round := range 2 {
			for _, dh := range []struct {
				name     string
				ini, res func() dhFunc
			}{{"own", newOwnDH, newOwnDH}, {"stock", newStockDH, newStockDH}} {
				if other := render(makeVectorWith(t, dh.ini(), dh.res(), stI, stR)); !bytes.Equal(other, want) {
					t.Errorf("%s %s round %d differs from the vector:\n%s", st.name, dh.name, round, lineDiff(want, other))
				}
			}
		}
	}
}

func lineDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "- %s\n+ %s\n", wl, gl)
		}
	}
	return b.String()
}

// TestVectorsByHand derives the vector file's outputs from its inputs with
// flynn/noise alone, none of this package's handshake or framing code.
func TestVectorsByHand(t *testing.T) {
	v := readVectors(t)
	iniID, err := keys.FromSeed(v["init_seed"])
	if err != nil {
		t.Fatal(err)
	}
	respID, err := keys.FromSeed(v["resp_seed"])
	if err != nil {
		t.Fatal(err)
	}
	iniKey, respKey := iniID.Public(), respID.Public()
	if !bytes.Equal(iniKey[:], v["init_agent_key"]) || !bytes.Equal(respKey[:], v["resp_agent_key"]) {
		t.Fatal("agent keys")
	}
	hsI := rawInitiator(t, iniID, respKey, bytes.NewReader(v["init_ephemeral"]))
	hsR := rawResponder(t, respID, bytes.NewReader(v["resp_ephemeral"]))
	msg1, _, _, err := hsI.WriteMessage(nil, iniKey[:])
	if err != nil || !bytes.Equal(msg1, v["message1"]) {
		t.Fatalf("message1: %v", err)
	}
	payload, _, _, err := hsR.ReadMessage(nil, msg1)
	if err != nil || !bytes.Equal(payload, iniKey[:]) || !bytes.Equal(hsR.PeerStatic(), v["init_static"]) {
		t.Fatalf("message1 payload: %v", err)
	}
	msg2, rRecv, rSend, err := hsR.WriteMessage(nil, nil)
	if err != nil || !bytes.Equal(msg2, v["message2"]) {
		t.Fatalf("message2: %v", err)
	}
	_, iSend, iRecv, err := hsI.ReadMessage(nil, msg2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hsR.ChannelBinding(), v["handshake_hash"]) || !bytes.Equal(hsI.ChannelBinding(), v["handshake_hash"]) {
		t.Fatal("handshake_hash")
	}
	for _, x := range []struct {
		send, recv   *noise.CipherState
		plain, trans string
	}{{iSend, rRecv, "request", "transport1"}, {rSend, iRecv, "reply", "transport2"}} {
		plaintext := header(uint32(len(v[x.plain])), v[x.plain])
		m, err := x.send.Encrypt(nil, nil, plaintext)
		if err != nil || !bytes.Equal(m, v[x.trans]) {
			t.Fatalf("%s: %v", x.trans, err)
		}
		if p, err := x.recv.Decrypt(nil, nil, m); err != nil || !bytes.Equal(p, plaintext) {
			t.Fatalf("%s: %v", x.trans, err)
		}
	}
}
