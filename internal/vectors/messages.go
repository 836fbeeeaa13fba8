package vectors

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/n2n-dev/n2n/rpc"
)

// messages.txt: encodings of requests and responses outside a session: the
// version rule's cases, and encodings a receiver must refuse.

var (
	extRequest = rpc.Request{ID: 5, Kind: rpc.KindCall, Function: "echo", Payload: []byte("hi"), Timeout: 1_000_000,
		Extensions: []rpc.Extension{{Key: 24, Value: []byte{0x64, 'h', 'i', 'g', 'h'}}, {Key: 30, Value: []byte{0x82, 0x01, 0x61, 'x'}}}}
	extResponse = rpc.Response{ID: 5, Status: rpc.StatusOK, Payload: []byte("hi"),
		Extensions: []rpc.Extension{{Key: 25, Value: []byte{0xf5}}}}
	unknownKindRequest  = rpc.Request{ID: 6, Kind: "subscribe", Timeout: 1_000_000}
	unknownKindResponse = rpc.Response{ID: 6, Status: rpc.StatusBadRequest, Error: "unknown request kind"}
	unknownStatus       = rpc.Response{ID: 7, Status: "quota_exceeded", Error: "over quota"}
	noSpace             = rpc.Response{ID: 8, Status: rpc.StatusNoSpace, Error: "nothing was stored"}
	malformedAnswer     = rpc.Response{Status: rpc.StatusBadRequest, Error: "malformed request"}
	busyAnswer          = rpc.Response{Status: rpc.StatusBusy, Error: "the agent is over its memory budget for requests in progress"}
	overQuotaAnswer     = rpc.Response{ID: 8, Status: rpc.StatusOverQuota, Error: "inbox is full (for you)"}
	pendingClaimReply   = rpc.Response{ID: 9, Status: rpc.StatusOK, Payload: []byte("pending\n")}
)

// refusal is an encoding a receiver must refuse: a valid one with one
// thing changed.
type refusal struct {
	name, why string
	response  bool // a response (else a request)
	bytes     []byte
}

// valid is {1: 1, 2: "ping", 7: 1000000}, the request the refusals alter.
var valid = []byte{0xa3, 0x01, 0x01, 0x02, 0x64, 'p', 'i', 'n', 'g', 0x07, 0x1a, 0x00, 0x0f, 0x42, 0x40}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var refusals = []refusal{
	{"refuse_deadline", "key 6, the retired absolute deadline", false,
		cat([]byte{0xa4}, valid[1:9], []byte{0x06, 0x1b, 0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00}, valid[9:])},
	{"refuse_core_key", "key 8, a core key v1 does not know", false,
		cat([]byte{0xa4}, valid[1:], []byte{0x08, 0x01})},
	{"refuse_float_timeout", "the timeout as a float (1e6, float32)", false,
		cat(valid[:10], []byte{0xfa, 0x49, 0x74, 0x24, 0x00})},
	{"refuse_id_zero", "request ID 0", false,
		cat(valid[:2], []byte{0x00}, valid[3:])},
	{"refuse_long_head", "the ID's head not in its shortest form", false,
		cat(valid[:2], []byte{0x18, 0x01}, valid[3:])},
	{"refuse_order", "keys out of order", false,
		cat(valid[:1], valid[3:9], valid[1:3], valid[9:])},
	{"refuse_duplicate", "key 1 twice", false,
		cat([]byte{0xa4}, valid[1:3], valid[1:])},
	{"refuse_empty_payload", "an empty payload present instead of omitted", false,
		cat([]byte{0xa4}, valid[1:9], []byte{0x04, 0x40}, valid[9:])},
	{"refuse_missing_timeout", "no key 7", false,
		cat([]byte{0xa2}, valid[1:9])},
	{"refuse_text_key", "a text key", false,
		cat([]byte{0xa4}, valid[1:], []byte{0x61, 'x', 0x01})},
	{"refuse_indefinite", "an indefinite-length map", false,
		cat([]byte{0xbf}, valid[1:], []byte{0xff})},
	{"refuse_extension_not_canonical", "extension key 24 whose value 1 is not in its shortest form", false,
		cat([]byte{0xa4}, valid[1:], []byte{0x18, 0x18, 0x18, 0x01})},
	{"refuse_extension_tag", "extension key 24 whose value is tagged", false,
		cat([]byte{0xa4}, valid[1:], []byte{0x18, 0x18, 0xc1, 0x01})},
	{"refuse_response_core_key", "a response with key 5, a core key v1 does not know", true,
		[]byte{0xa3, 0x01, 0x01, 0x02, 0x62, 'o', 'k', 0x05, 0x01}},
}

func buildMessages() *file {
	f := &file{name: "messages.txt"}
	f.comment(
		"n2n test vector: requests and responses and the version rule (PROTOCOL.md, \"Requests and",
		"responses\", \"Refusals\", \"Versions\"). Fields as in session.txt; prefix_extension_K is the",
		"encoded value of extension field K (a v1 receiver that does not know K keeps it aside and",
		"ignores it). No session: each encoding is a frame's content.",
	)
	f.blank()
	f.comment("A \"v1.1\" request with extension fields 24 (text \"high\") and 30 (array [1, \"x\"]).")
	writeRequestFields(f, "ext_request_", &extRequest)
	f.hex("ext_request", rpc.EncodeRequest(&extRequest))
	f.comment("A response with extension field 25 (true).")
	writeResponseFields(f, "ext_response_", &extResponse)
	f.hex("ext_response", rpc.EncodeResponse(&extResponse))
	f.blank()
	f.comment("A request of a kind v1 does not know, and the answer: bad_request under its ID.")
	writeRequestFields(f, "unknown_kind_request_", &unknownKindRequest)
	f.hex("unknown_kind_request", rpc.EncodeRequest(&unknownKindRequest))
	writeResponseFields(f, "unknown_kind_response_", &unknownKindResponse)
	f.hex("unknown_kind_response", rpc.EncodeResponse(&unknownKindResponse))
	f.blank()
	f.comment("A response with a status v1 does not know: a remote error of that request.")
	writeResponseFields(f, "unknown_status_", &unknownStatus)
	f.hex("unknown_status", rpc.EncodeResponse(&unknownStatus))
	f.blank()
	f.comment("The answer of a callee too short of disk space to store a message or a claim.")
	writeResponseFields(f, "no_space_", &noSpace)
	f.hex("no_space", rpc.EncodeResponse(&noSpace))
	f.blank()
	f.comment("The answer to a frame that is not a request, under ID 0, before the callee closes.")
	writeResponseFields(f, "malformed_answer_", &malformedAnswer)
	f.hex("malformed_answer", rpc.EncodeResponse(&malformedAnswer))
	f.blank()
	f.comment("The answer to a frame the callee will not hold (over its memory budget), under ID 0, before it closes.")
	writeResponseFields(f, "busy_answer_", &busyAnswer)
	f.hex("busy_answer", rpc.EncodeResponse(&busyAnswer))
	f.blank()
	f.comment("A message or claim refused because the callee keeps no more of the caller's (its inbox or",
		"its pending claims are full for this caller): over_quota, nothing stored dropped.")
	writeResponseFields(f, "over_quota_", &overQuotaAnswer)
	f.hex("over_quota", rpc.EncodeResponse(&overQuotaAnswer))
	f.comment("The answer to a delivered claim (n2n.receive_claim) the callee keeps pending, off its chain.")
	writeResponseFields(f, "pending_claim_", &pendingClaimReply)
	f.hex("pending_claim", rpc.EncodeResponse(&pendingClaimReply))
	f.blank()
	f.comment(fmt.Sprintf("Encodings a receiver must refuse as malformed: each is the request %x", valid),
		"({1: 1, 2: \"ping\", 7: 1000000}), or a response, with one thing wrong:")
	for _, r := range refusals {
		f.comment(r.name + ": " + r.why)
	}
	for _, r := range refusals {
		f.hex(r.name, r.bytes)
	}
	return f
}

func checkMessages(p *fields) {
	for _, x := range []struct {
		prefix string
		want   *rpc.Request
	}{{"ext_request", &extRequest}, {"unknown_kind_request", &unknownKindRequest}} {
		req := readRequestFields(p, x.prefix+"_", x.want)
		b := p.hex(x.prefix)
		if p.err != nil {
			return
		}
		got, err := rpc.DecodeRequest(b)
		p.check(x.prefix, err)
		if p.err == nil && !sameRequest(&got, &req) {
			p.fail("%s decodes to %+v, not the listed fields", x.prefix, got)
		}
		p.equal(x.prefix, rpc.EncodeRequest(&req))
	}
	for _, x := range []struct {
		prefix string
		want   *rpc.Response
	}{{"ext_response", &extResponse}, {"unknown_kind_response", &unknownKindResponse}, {"unknown_status", &unknownStatus}, {"no_space", &noSpace}, {"malformed_answer", &malformedAnswer}, {"busy_answer", &busyAnswer},
		{"over_quota", &overQuotaAnswer}, {"pending_claim", &pendingClaimReply}} {
		resp := readResponseFields(p, x.prefix+"_", x.want)
		b := p.hex(x.prefix)
		if p.err != nil {
			return
		}
		got, err := rpc.DecodeResponse(b)
		p.check(x.prefix, err)
		if p.err == nil && !sameResponse(&got, &resp) {
			p.fail("%s decodes to %+v, not the listed fields", x.prefix, got)
		}
		p.equal(x.prefix, rpc.EncodeResponse(&resp))
	}
	for _, r := range refusals {
		b := p.hex(r.name)
		var err error
		if r.response {
			_, err = rpc.DecodeResponse(b)
		} else {
			_, err = rpc.DecodeRequest(b)
		}
		if p.err == nil && !errors.Is(err, rpc.ErrBadMessage) {
			p.fail("%s: decoded without error (%v); it must be refused", r.name, err)
		}
		p.equal(r.name, r.bytes)
	}
}
