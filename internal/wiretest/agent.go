package wiretest

import (
	"context"
	"fmt"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
)

// Agent is one identity with its own libp2p client node (its peer ID is
// the identity's, as for any n2n agent). Close it when done.
type Agent struct {
	ID   *keys.Identity
	Node *peers.Node
	Book *peers.AddrBook // in memory: the daemons told with Know
}

// NewAgent makes an agent with a new identity.
func NewAgent(ctx context.Context) (*Agent, error) {
	id, err := keys.Generate()
	if err != nil {
		return nil, err
	}
	node, err := peers.NewClient(ctx, peers.Options{Identity: id, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return &Agent{ID: id, Node: node, Book: &peers.AddrBook{Store: &peers.MemStore{}}}, nil
}

// Know tells the agent that the daemon `to` listens on addr (a multiaddr
// with or without /p2p/).
func (a *Agent) Know(to keys.PublicKey, addr string) error {
	_, err := a.Book.AddText(to, addr, time.Hour)
	return err
}

// Close closes the agent's node and every stream on it.
func (a *Agent) Close() error { return a.Node.Close() }

// Conn is one /n2n/1.0.0 stream of an agent, on which a session is run
// by hand.
type Conn struct {
	Stream peers.Stream
	s      session
}

// Open opens a stream to `to` (connecting first if needed), with no
// handshake yet.
func (a *Agent) Open(ctx context.Context, to keys.PublicKey) (*Conn, error) {
	if _, err := a.Node.Connect(ctx, to, a.Book); err != nil {
		return nil, err
	}
	st, err := a.Node.Open(ctx, to)
	if err != nil {
		return nil, err
	}
	return &Conn{Stream: st, s: session{rw: st, id: a.ID}}, nil
}

// Dial opens a stream to `to` and runs the handshake on it.
func (a *Agent) Dial(ctx context.Context, to keys.PublicKey) (*Conn, error) {
	c, err := a.Open(ctx, to)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		c.Stream.SetDeadline(d)
		defer c.Stream.SetDeadline(time.Time{})
	}
	if err := c.Handshake(); err != nil {
		c.Stream.Reset()
		return nil, err
	}
	return c, nil
}

// Handshake runs Noise IK with the agent the stream was opened to.
func (c *Conn) Handshake() error {
	return c.s.handshake(c.Stream.RemoteAgent())
}

// HandshakeHash is the session's handshake hash (after Handshake).
func (c *Conn) HandshakeHash() []byte { return c.s.hash }

// WriteRaw writes b as one Noise message (its 2-byte length, then b):
// message 1 of another session replayed, or garbage.
func (c *Conn) WriteRaw(b []byte) error { return c.s.writeRaw(b) }

// WriteMessage seals plaintext (up to MaxChunk bytes) as one transport
// message: the continuation of a frame begun with BeginFrame.
func (c *Conn) WriteMessage(plaintext []byte) error { return c.s.writeMessage(plaintext) }

// BeginFrame sends the first message of a frame that declares `declared`
// bytes and carries p (up to FirstChunk bytes) of them; the rest is up to
// WriteMessage, or never sent.
func (c *Conn) BeginFrame(declared uint32, p []byte) error { return c.s.beginFrame(declared, p) }

// WriteFrame sends p as one whole frame.
func (c *Conn) WriteFrame(p []byte) error { return c.s.writeFrame(p) }

// Encode is req's encoding as the session's next request (signed if it is
// the first one); it counts as written. A request with no timeout gets
// 10 s. A test sends it with WriteFrame, or a part of it with BeginFrame.
func (c *Conn) Encode(req *Request) []byte {
	if req.Timeout == 0 {
		req.Timeout = uint64(10 * time.Second / time.Microsecond)
	}
	return c.s.encode(req)
}

// Request sends req (Encode) as one whole frame.
func (c *Conn) Request(req *Request) error { return c.s.writeFrame(c.Encode(req)) }

var decMode = detcbor.DecMode(detcbor.Limits{MaxNestedLevels: 4, MaxArrayElements: 16, MaxMapPairs: 16})

// ReadResponse reads the next frame and decodes it as a response.
func (c *Conn) ReadResponse() (Response, error) {
	b, err := c.s.readFrame()
	if err != nil {
		return Response{}, err
	}
	var r Response
	if err := decMode().Unmarshal(b, &r); err != nil {
		return Response{}, fmt.Errorf("wiretest: response: %w", err)
	}
	return r, nil
}

// Do sends req and reads the next response.
func (c *Conn) Do(req *Request) (Response, error) {
	if err := c.Request(req); err != nil {
		return Response{}, err
	}
	return c.ReadResponse()
}

// Close closes the stream; Reset aborts it.
func (c *Conn) Close() error { return c.Stream.Close() }

// Reset aborts the stream in both directions.
func (c *Conn) Reset() error { return c.Stream.Reset() }
