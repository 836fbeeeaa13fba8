package localsock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/n2n-dev/n2n/internal/detcbor"
)

// serve answers on a socket in a temporary directory with run until the
// test ends, and returns the socket's path.
func serve(t *testing.T, run Runner) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "n2n.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, run) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return sock
}

// TestForward: the command line, its environment and stdin reach the
// runner; its stdout, stderr and exit status come back, in frames of at
// most maxChunk for large ones.
func TestForward(t *testing.T) {
	var got atomic.Pointer[Request]
	sock := serve(t, func(_ context.Context, req *Request, stdin io.Reader, stdout, stderr io.Writer) int {
		got.Store(req)
		in, err := io.ReadAll(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "stdin:", err)
			return 1
		}
		stdout.Write(in)
		fmt.Fprint(stderr, "to stderr")
		return 42
	})
	// Arguments, directory and environment as bytes: none need be UTF-8.
	req := &Request{Args: Bytes([]string{"n2n", "send", "-", "\xff\xfe"}), Cwd: []byte("/some\xc3where"),
		Env: map[string][]byte{"NO_COLOR": []byte("1"), "TERM": []byte("\x80")}, StdoutTTY: true, StdinTTY: true, StderrTTY: true, Width: 132}
	in := bytes.Repeat([]byte("0123456789abcdef"), (2*maxChunk+100)/16)
	var stdout, stderr bytes.Buffer
	code, err := Forward(context.Background(), sock, req, bytes.NewReader(in), &stdout, &stderr)
	if err != nil || code != 42 {
		t.Fatalf("Forward = %d, %v", code, err)
	}
	if !reflect.DeepEqual(got.Load(), req) {
		t.Errorf("the runner got %+v, want %+v", got.Load(), req)
	}
	if !bytes.Equal(stdout.Bytes(), in) || stderr.String() != "to stderr" {
		t.Errorf("stdout %d bytes (want %d), stderr %q", stdout.Len(), len(in), stderr.String())
	}
}

// unread fails the test if a command that never reads stdin consumes it.
type unread struct{ t *testing.T }

func (u unread) Read([]byte) (int, error) {
	u.t.Error("stdin read for a command that does not read it")
	return 0, io.EOF
}

func TestStdinOnlyWhenRead(t *testing.T) {
	sock := serve(t, func(_ context.Context, _ *Request, _ io.Reader, stdout, _ io.Writer) int {
		fmt.Fprint(stdout, "no stdin needed")
		return 0
	})
	var stdout bytes.Buffer
	code, err := Forward(context.Background(), sock, &Request{Args: Bytes([]string{"n2n", "id"})}, unread{t}, &stdout, io.Discard)
	if err != nil || code != 0 || stdout.String() != "no stdin needed" {
		t.Fatalf("Forward = %d, %v, %q", code, err, stdout.String())
	}
}

// TestNoDaemon: a missing socket, or one nobody listens on (left by a
// daemon that died), is ErrNoDaemon, so the command runs one-shot.
func TestNoDaemon(t *testing.T) {
	dir := t.TempDir()
	if _, err := Forward(context.Background(), filepath.Join(dir, "none.sock"), &Request{Args: Bytes([]string{"n2n"})}, nil, io.Discard, io.Discard); !errors.Is(err, ErrNoDaemon) {
		t.Errorf("missing socket: %v", err)
	}
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := Forward(context.Background(), stale, &Request{Args: Bytes([]string{"n2n"})}, nil, io.Discard, io.Discard); !errors.Is(err, ErrNoDaemon) {
		t.Errorf("stale socket: %v", err)
	}
}

// TestBadHeaderRunsNothing: a header that is not a Request with a command
// closes the connection without running anything.
func TestBadHeaderRunsNothing(t *testing.T) {
	var ran atomic.Bool
	sock := serve(t, func(context.Context, *Request, io.Reader, io.Writer, io.Writer) int { ran.Store(true); return 0 })
	for name, data := range map[string][]byte{
		"no command":    detcbor.Marshal(&Request{Cwd: []byte("/")}),
		"text args":     detcbor.Marshal(map[int][]string{1: {"n2n", "id"}}),
		"bad width":     detcbor.Marshal(&Request{Args: Bytes([]string{"n2n"}), Width: -1}),
		"not CBOR":      []byte("n2n id"),
		"unknown field": {0xa1, 0x09, 0x01},
	} {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		writeFrame(conn, frameHeader, data)
		if _, _, err := readFrame(conn); err != io.EOF {
			t.Errorf("%s: the daemon answered: %v", name, err)
		}
		conn.Close()
	}
	if ran.Load() {
		t.Error("a bad header ran a command")
	}
}

func FuzzReadFrames(f *testing.F) {
	var seed bytes.Buffer
	writeFrame(&seed, frameHeader, detcbor.Marshal(&Request{Args: Bytes([]string{"n2n", "id", "\xff"}), Env: map[string][]byte{"TERM": []byte("dumb")}, StderrTTY: true, Width: 80}))
	writeFrame(&seed, frameStdin, []byte("abc"))
	writeFrame(&seed, frameStdinEOF, nil)
	f.Add(seed.Bytes())
	f.Add([]byte{frameHeader, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		for {
			typ, data, err := readFrame(r)
			if err != nil {
				return
			}
			if len(data) > maxFrame {
				t.Fatalf("frame of %d bytes read", len(data))
			}
			if typ != frameHeader {
				continue
			}
			req, err := decodeHeader(data)
			if err != nil {
				continue
			}
			again, err := decodeHeader(detcbor.Marshal(req))
			if err != nil || !reflect.DeepEqual(again, req) {
				t.Fatalf("header %+v does not survive encoding: %+v %v", req, again, err)
			}
		}
	})
}
