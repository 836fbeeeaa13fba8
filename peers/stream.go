package peers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/n2n-dev/n2n/keys"
)

// Stream is one /n2n/1.0.0 stream. RemoteAgent is the key the transport
// authenticated (the libp2p connection's remote key); the Noise session run
// over the stream authenticates the peer again, independently.
type Stream interface {
	io.ReadWriteCloser
	// CloseWrite closes the sending side; reads keep working.
	CloseWrite() error
	SetDeadline(time.Time) error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	// Reset aborts the stream in both directions.
	Reset() error
	// ResetBusy aborts the stream in both directions, telling the other
	// end that this one is busy (it takes no more sessions, or handshakes,
	// from that agent now): there, reads and writes fail with ErrBusy.
	ResetBusy() error
	RemoteAgent() keys.PublicKey
	// Path is the path of the stream's connection, with what n2n streams
	// moved over it so far.
	Path() Path
}

// ErrBusy: the other end refused the stream because it is busy (see
// Stream.ResetBusy; libp2p's resource manager refuses the same way).
var ErrBusy = errors.New("the agent is busy")

type stream struct {
	network.Stream
	agent keys.PublicKey
	path  Path
	usage *connUsage // nil on a direct connection
}

func (s *stream) RemoteAgent() keys.PublicKey { return s.agent }

func (s *stream) ResetBusy() error { return s.ResetWithError(network.StreamResourceLimitExceeded) }

func (s *stream) Path() Path {
	if s.usage == nil {
		return s.path
	}
	return s.usage.path()
}

func (s *stream) Read(p []byte) (int, error) {
	n, err := s.Stream.Read(p)
	if s.usage != nil {
		s.usage.received.Add(int64(n))
	}
	return n, busy(err)
}

func (s *stream) Write(p []byte) (int, error) {
	n, err := s.Stream.Write(p)
	if s.usage != nil {
		s.usage.sent.Add(int64(n))
	}
	return n, busy(err)
}

// busy wraps ErrBusy around the error of a stream the other end reset as
// busy (or rate-limited).
func busy(err error) error {
	var se *network.StreamError
	if err != nil && errors.As(err, &se) && se.Remote &&
		(se.ErrorCode == network.StreamResourceLimitExceeded || se.ErrorCode == network.StreamRateLimited) {
		return fmt.Errorf("%w (the stream was refused): %w", ErrBusy, err)
	}
	return err
}

func (n *Node) wrapStream(s network.Stream) (*stream, error) {
	agent, err := agentOfKey(s.Conn().RemotePublicKey())
	if err != nil {
		return nil, err
	}
	path, usage := n.pathOf(s.Conn())
	return &stream{Stream: s, agent: agent, path: path, usage: usage}, nil
}

// Handle makes fn serve every incoming /n2n/1.0.0 stream, each in its own
// goroutine; fn owns the stream and must close or reset it. A nil fn stops
// accepting streams.
func (n *Node) Handle(fn func(Stream)) {
	if fn == nil {
		n.h.RemoveStreamHandler(ProtocolID)
		return
	}
	n.h.SetStreamHandler(ProtocolID, func(s network.Stream) {
		w, err := n.wrapStream(s)
		if err != nil {
			s.Reset()
			return
		}
		fn(w)
	})
}

// Open opens a /n2n/1.0.0 stream to agent, normally after Connect. Without
// a connection it dials the addresses the node already knows, bounded by
// the dial timeout. A relayed (limited) connection is accepted. Errors wrap
// ErrUnreachable.
func (n *Node) Open(ctx context.Context, agent keys.PublicKey) (Stream, error) {
	if agent == n.id.Public() {
		return nil, fmt.Errorf("peers: open %s: %w", agent, ErrSelf)
	}
	ctx, cancel := context.WithTimeout(ctx, n.opts.DialTimeout)
	defer cancel()
	ctx = network.WithAllowLimitedConn(ctx, "n2n: end-to-end encrypted")
	s, err := n.h.NewStream(ctx, peerIDOf(agent), protocol.ID(ProtocolID))
	if err != nil {
		return nil, fmt.Errorf("peers: open %s: %w: %w", agent, ErrUnreachable, err)
	}
	w, err := n.wrapStream(s)
	if err != nil {
		s.Reset()
		return nil, fmt.Errorf("peers: open %s: %w", agent, err)
	}
	return w, nil
}
