package vectors

import (
	"bytes"
	"fmt"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// record.txt: the agent record published in the DHT.

var (
	recordAddrs = []string{"/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/udp/4001/quic-v1"}
	recordSeq   = uint64(1700000000000000)
)

// recordDomain is what the agent signs before the unsigned record; the
// vector shows it, and checks that the implementation signs it.
const recordDomain = "n2n agent record v1"

func buildRecord() (*file, error) {
	id := identity(initSeed)
	addrs := (&peers.Record{}).Addrs // multiaddrs, whose package only peers imports
	for _, s := range recordAddrs {
		a, err := peers.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a)
	}
	r, err := peers.SignRecord(id, addrs, recordSeq)
	if err != nil {
		return nil, err
	}
	signed, err := r.Encode()
	if err != nil {
		return nil, err
	}
	unsigned, err := (&peers.Record{Agent: r.Agent, Addrs: r.Addrs, Seq: r.Seq}).Encode()
	if err != nil {
		return nil, err
	}
	f := &file{name: "record.txt"}
	f.comment(
		"n2n test vector: the agent record (PROTOCOL.md, \"The agent record in the DHT\").",
		"Inputs: seed (ids.txt's init_seed), addr_N (multiaddrs, text), seq. Outputs: agent_key;",
		"addr_N_bytes, the binary multiaddrs; unsigned, the canonical CBOR map",
		"{\"key\": agent_key, \"seq\": seq, \"addrs\": [addr_N_bytes…]}; signing_input,",
		"\"n2n agent record v1\" ‖ unsigned; signature, Ed25519 by the agent over signing_input;",
		"record, the same map with \"sig\": signature added, as stored in the DHT; dht_key, the",
		"DHT key it is stored under: \"/n2n/agent/\" ‖ agent_key (raw bytes).",
	)
	f.blank()
	f.hex("seed", initSeed)
	for i, s := range recordAddrs {
		f.text(fmt.Sprintf("addr_%d", i+1), s)
	}
	f.uint("seq", recordSeq)
	f.blank()
	f.hex("agent_key", r.Agent[:])
	for i, a := range addrs {
		f.hex(fmt.Sprintf("addr_%d_bytes", i+1), a.Bytes())
	}
	f.hex("unsigned", unsigned)
	f.hex("signing_input", append([]byte(recordDomain), unsigned...))
	f.hex("signature", r.Sig)
	f.hex("record", signed)
	f.hex("dht_key", []byte(peers.RecordKey(r.Agent)))
	return f, nil
}

func checkRecord(p *fields) {
	seed := p.hex("seed")
	var addrs []string
	for i := range recordAddrs {
		addrs = append(addrs, p.text(fmt.Sprintf("addr_%d", i+1)))
	}
	seq := p.uint("seq")
	b := p.hex("record")
	id, err := keys.FromSeed(seed)
	p.check("seed", err)
	if p.err != nil {
		return
	}
	// Decoding: the record is the agent's, with the inputs, and verifies.
	r, err := peers.DecodeRecord(b)
	p.check("record", err)
	if p.err != nil {
		return
	}
	p.check("signature", r.Verify())
	p.check("dht_key", peers.Validator{}.Validate(string(p.hex("dht_key")), b))
	p.equal("agent_key", r.Agent[:])
	p.equal("signature", r.Sig)
	if r.Agent != id.Public() || r.Seq != seq || len(r.Addrs) != len(addrs) {
		p.fail("record: decodes to another agent, seq or number of addresses than the inputs")
		return
	}
	for i, a := range r.Addrs {
		if a.String() != addrs[i] {
			p.fail("record: address %d decodes to %s", i+1, a)
		}
		p.equal(fmt.Sprintf("addr_%d_bytes", i+1), a.Bytes())
	}
	unsigned, err := (&peers.Record{Agent: r.Agent, Addrs: r.Addrs, Seq: r.Seq}).Encode()
	p.check("unsigned", err)
	p.equal("unsigned", unsigned)
	input := append([]byte(recordDomain), unsigned...)
	p.equal("signing_input", input)
	if !r.Agent.Verify(p.hex("signing_input"), p.hex("signature")) {
		p.fail("signature: does not verify over signing_input")
	}
	// Encoding: the inputs give the record.
	again, err := peers.SignRecord(id, r.Addrs, seq)
	p.check("record", err)
	if p.err == nil {
		enc, err := again.Encode()
		p.check("record", err)
		if !bytes.Equal(enc, b) {
			p.fail("record: the implementation gives %x", enc)
		}
	}
	p.equal("dht_key", []byte(peers.RecordKey(id.Public())))
}
