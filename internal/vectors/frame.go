package vectors

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// frame.txt: application frames split into Noise transport messages.

// The frames of the vector: an empty one, and one that fills a first
// message (65 515 bytes after the 4-byte length), a full second message
// (65 519 bytes) and 1 byte of a third.
const bigFrame = 65515 + 65519 + 1

// boundaryLengths are the frame lengths whose message sizes the vector
// lists: either side of each boundary.
var boundaryLengths = []int{0, 1, 65515, 65516, 65515 + 65519, bigFrame}

// frameBytes is the content of a frame of n bytes: byte i is i mod 251.
func frameBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func buildFrame() (*file, error) {
	c, err := newConversation()
	if err != nil {
		return nil, err
	}
	empty, err := c.send(true, nil)
	if err != nil {
		return nil, err
	}
	big, err := c.send(true, frameBytes(bigFrame))
	if err != nil {
		return nil, err
	}
	f := &file{name: "frame.txt"}
	f.comment(
		"n2n test vector: framing (PROTOCOL.md, \"Framing\").",
		"The session of noiseproto/testdata/vectors.txt (its inputs and handshake messages are",
		"repeated here). The initiator's first two frames on it: frame_a, empty, then frame_b of",
		fmt.Sprintf("%d bytes (65515 + 65519 + 1), whose byte i is i mod 251. Each *_message* field is", bigFrame),
		"one Noise transport message as it follows its 2-byte big-endian length on the stream:",
		"frame_a_message1 (nonce 0): plaintext 00000000, nothing else;",
		"frame_b_message1 (nonce 1): plaintext 0001ffdb ‖ frame bytes 0 to 65514;",
		"frame_b_message2 (nonce 2): plaintext frame bytes 65515 to 131033;",
		"frame_b_message3 (nonce 3): plaintext frame byte 131034.",
		"message_sizes_L: the sizes of the Noise messages (tag included) that carry a frame of L bytes.",
	)
	f.blank()
	f.hex("init_seed", initSeed)
	f.hex("resp_seed", respSeed)
	f.hex("init_ephemeral", initEphemeral)
	f.hex("resp_ephemeral", respEphemeral)
	f.hex("message1", c.message1)
	f.hex("message2", c.message2)
	f.blank()
	f.uint("frame_a_length", 0)
	f.hex("frame_a_message1", empty[0])
	f.uint("frame_b_length", bigFrame)
	for i, m := range big {
		f.hex(fmt.Sprintf("frame_b_message%d", i+1), m)
	}
	f.blank()
	for _, n := range boundaryLengths {
		sizes, err := messageSizes(n)
		if err != nil {
			return nil, err
		}
		f.text(fmt.Sprintf("message_sizes_%d", n), sizes)
	}
	return f, nil
}

// messageSizes is the sizes of the messages that carry a frame of n bytes,
// as the implementation sends it.
func messageSizes(n int) (string, error) {
	c, err := newConversation()
	if err != nil {
		return "", err
	}
	msgs, err := c.send(true, frameBytes(n))
	if err != nil {
		return "", err
	}
	var s []string
	for _, m := range msgs {
		s = append(s, strconv.Itoa(len(m)))
	}
	return strings.Join(s, " "), nil
}

// implementationSizes is messageSizes of every boundary length, made once:
// it does not depend on the file checked.
var implementationSizes = sync.OnceValues(func() (map[int]string, error) {
	sizes := map[int]string{}
	for _, n := range boundaryLengths {
		s, err := messageSizes(n)
		if err != nil {
			return nil, err
		}
		sizes[n] = s
	}
	return sizes, nil
})

func checkFrame(p *fields) {
	for _, x := range []struct {
		name string
		want []byte
	}{{"init_seed", initSeed}, {"resp_seed", respSeed}, {"init_ephemeral", initEphemeral}, {"resp_ephemeral", respEphemeral}} {
		p.equal(x.name, x.want)
	}
	lengths := []uint64{p.uint("frame_a_length"), p.uint("frame_b_length")}
	if p.err == nil && (lengths[0] != 0 || lengths[1] != bigFrame) {
		p.fail("frame lengths %d and %d: the vector's frames are 0 and %d bytes", lengths[0], lengths[1], bigFrame)
	}
	msgs := [][]byte{p.hex("frame_a_message1")}
	for i := 1; i <= 3; i++ {
		msgs = append(msgs, p.hex(fmt.Sprintf("frame_b_message%d", i)))
	}
	sizes := map[int]string{}
	for _, n := range boundaryLengths {
		sizes[n] = p.text(fmt.Sprintf("message_sizes_%d", n))
	}
	message1 := p.hex("message1")
	if p.err != nil {
		return
	}
	// Decoding: the responder reads the frames from the listed messages.
	s, err := responderOf(message1, msgs...)
	if err != nil {
		p.fail("%v", err)
		return
	}
	for i, n := range lengths {
		got, err := s.ReadFrame()
		if err != nil || !bytes.Equal(got, frameBytes(int(n))) {
			p.fail("frame %d does not decode to its %d bytes: %v", i+1, n, err)
			return
		}
	}
	// Encoding: the initiator sends the same messages.
	c, err := newConversation()
	if err != nil {
		p.fail("%v", err)
		return
	}
	p.equal("message1", c.message1)
	p.equal("message2", c.message2)
	for i, n := range lengths {
		sent, err := c.send(true, frameBytes(int(n)))
		if err != nil {
			p.fail("%v", err)
			return
		}
		want := msgs[:1]
		if i == 1 {
			want = msgs[1:]
		}
		if len(sent) != len(want) {
			p.fail("frame %d: the implementation sends %d messages, the vector lists %d", i+1, len(sent), len(want))
			return
		}
		for j := range sent {
			if !bytes.Equal(sent[j], want[j]) {
				p.fail("frame %d, message %d: the implementation sends other bytes", i+1, j+1)
				return
			}
		}
	}
	want, err := implementationSizes()
	if err != nil {
		p.fail("%v", err)
		return
	}
	for _, n := range boundaryLengths {
		if sizes[n] != want[n] {
			p.fail("message_sizes_%d: the implementation sends messages of %s bytes", n, want[n])
		}
	}
}
