// Package floor holds what the floor programs share: libp2p hosts built
// with the same libraries and transports as n2n (TCP, libp2p Noise, yamux)
// but none of n2n's layers, and one request/reply over a Noise IK session
// (n2n's noiseproto, which is flynn/noise with a crypto/ecdh DH: the same
// session layer n2n runs, so the floor differs from n2n only by what n2n
// adds around it — the home, the CLI, resolution, request signing, CBOR,
// handler dispatch).
package floor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/noiseproto"
)

// ProtocolID is the floor's libp2p protocol: one Noise IK session per
// stream, then echo frames until the initiator closes.
const ProtocolID = "/n2n-floor/ik/1.0.0"

// Timeout bounds every floor session and dial.
const Timeout = 10 * time.Second

// HostKey is the libp2p form of an identity (n2n uses the agent key as the
// host key too).
func HostKey(id *keys.Identity) (crypto.PrivKey, error) {
	return crypto.UnmarshalEd25519PrivateKey(id.PrivateKey())
}

// PeerID is the libp2p peer ID of an agent key.
func PeerID(k keys.PublicKey) peer.ID { return peer.ID(k.PeerIDBytes()) }

func common(id *keys.Identity) ([]libp2p.Option, error) {
	k, err := HostKey(id)
	if err != nil {
		return nil, err
	}
	return []libp2p.Option{
		libp2p.Identity(k),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.DefaultMuxers,
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.ConnectionManager(&connmgr.NullConnMgr{}),
		libp2p.DisableMetrics(),
		libp2p.Ping(false),
	}, nil
}

// NewServerHost is a TCP-only host listening on listen (a 127.0.0.1
// multiaddr), plus any extra options.
func NewServerHost(id *keys.Identity, listen string, extra ...libp2p.Option) (host.Host, error) {
	if !strings.HasPrefix(listen, "/ip4/127.") {
		return nil, fmt.Errorf("floor: listen %q: loopback only", listen)
	}
	opts, err := common(id)
	if err != nil {
		return nil, err
	}
	opts = append(opts, libp2p.ListenAddrStrings(listen))
	return libp2p.New(append(opts, extra...)...)
}

// NewClientHost is a TCP-only host that does not listen.
func NewClientHost(id *keys.Identity, extra ...libp2p.Option) (host.Host, error) {
	opts, err := common(id)
	if err != nil {
		return nil, err
	}
	opts = append(opts, libp2p.NoListenAddrs)
	return libp2p.New(append(opts, extra...)...)
}

// FullAddrs are h's listen addresses with /p2p/<id>.
func FullAddrs(h host.Host) []string {
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.String()+"/p2p/"+h.ID().String())
	}
	return out
}

// ServeIK answers ProtocolID streams on h: accept the IK handshake as id,
// then echo every frame until the stream ends.
func ServeIK(h host.Host, id *keys.Identity) {
	cfg := noiseproto.Config{Local: id, MaxFrame: 32 << 20}
	h.SetStreamHandler(ProtocolID, func(st network.Stream) {
		defer st.Close()
		st.SetDeadline(time.Now().Add(Timeout))
		s, err := noiseproto.Accept(st, cfg)
		if err != nil {
			st.Reset()
			return
		}
		defer s.Close()
		for {
			f, err := s.ReadFrame()
			if err != nil {
				return
			}
			if err := s.WriteFrame(f); err != nil {
				return
			}
		}
	})
}

// Connect dials the agent at a full multiaddr (ending in /p2p/<id>).
func Connect(ctx context.Context, h host.Host, addr string) (peer.ID, error) {
	ma, err := multiaddr.NewMultiaddr(addr)
	if err != nil {
		return "", err
	}
	ai, err := peer.AddrInfoFromP2pAddr(ma)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	return ai.ID, h.Connect(ctx, *ai)
}

// CallIK opens a stream to pid, runs the IK handshake with the agent key
// remote, sends payload as one frame and returns the reply frame.
func CallIK(ctx context.Context, h host.Host, pid peer.ID, id *keys.Identity, remote keys.PublicKey, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	st, err := h.NewStream(ctx, pid, ProtocolID)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	st.SetDeadline(time.Now().Add(Timeout))
	s, err := noiseproto.Initiate(st, noiseproto.Config{Local: id, MaxFrame: 32 << 20}, remote)
	if err != nil {
		st.Reset()
		return nil, err
	}
	defer s.Close()
	if err := s.WriteFrame(payload); err != nil {
		st.Reset()
		return nil, err
	}
	return s.ReadFrame()
}

// WarmIK is one IK session with an agent kept open for many requests, one
// at a time: the least a daemon holding a warm session does per call.
type WarmIK struct {
	H      host.Host
	PID    peer.ID
	ID     *keys.Identity
	Remote keys.PublicKey

	mu sync.Mutex
	st network.Stream
	s  *noiseproto.Session
}

// Call sends payload on the kept session (opening it first if there is
// none) and returns the reply frame. A failed session is dropped; the next
// call opens another.
func (w *WarmIK) Call(ctx context.Context, payload []byte) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.s == nil {
		ctx, cancel := context.WithTimeout(ctx, Timeout)
		defer cancel()
		st, err := w.H.NewStream(ctx, w.PID, ProtocolID)
		if err != nil {
			return nil, err
		}
		st.SetDeadline(time.Now().Add(Timeout))
		s, err := noiseproto.Initiate(st, noiseproto.Config{Local: w.ID, MaxFrame: 32 << 20}, w.Remote)
		if err != nil {
			st.Reset()
			return nil, err
		}
		st.SetDeadline(time.Time{})
		w.st, w.s = st, s
	}
	w.st.SetDeadline(time.Now().Add(Timeout))
	err := w.s.WriteFrame(payload)
	var reply []byte
	if err == nil {
		reply, err = w.s.ReadFrame()
	}
	if err != nil {
		w.s.Close()
		w.st.Reset()
		w.s, w.st = nil, nil
	}
	return reply, err
}

// WriteAddrFile writes the server's address and agent ID, two lines,
// through a rename so a reader never sees half of it.
func WriteAddrFile(path, addr string, agent keys.PublicKey) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"+agent.String()+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadAddrFile reads what WriteAddrFile wrote.
func ReadAddrFile(path string) (addr string, agent keys.PublicKey, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", agent, err
	}
	lines := strings.Fields(string(b))
	if len(lines) != 2 {
		return "", agent, fmt.Errorf("%s: want two lines", path)
	}
	agent, err = keys.ParseAgent(lines[1])
	return lines[0], agent, err
}
