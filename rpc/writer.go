package rpc

import (
	"sync"

	"github.com/n2n-dev/n2n/noiseproto"
)

// frameWriter writes a session's frames for many goroutines at once, one
// frame at a time: its lock is held while a frame is made and sealed, so
// frames go out whole and in the order they were made. The batchedStream
// under it has a lock of its own, held only to hand bytes over, so that
// sending a batch never waits for the sealing of the next frame.
type frameWriter struct {
	s      *noiseproto.Session
	stream *batchedStream
	mu     sync.Mutex // one frame at a time
}

// newFrameWriter starts batching on stream, the one s runs on: the
// handshake is done.
func newFrameWriter(s *noiseproto.Session, stream *batchedStream) *frameWriter {
	stream.startBatching()
	return &frameWriter{s: s, stream: stream}
}

// close sends what is written and stops the writer; later writes fail.
func (w *frameWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stream.close()
}

// write sends one frame, made by frame under the writer's lock (so that
// what must be first is first). It returns once the frame is handed to the
// stream, or with the error that broke the stream, which breaks the
// session's sending side for good. busy says that other requests of the
// session are in progress: the frame then joins the batch rather than
// going out alone.
func (w *frameWriter) write(frame func() []byte, busy bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stream.mu.Lock()
	w.stream.join = busy
	w.stream.mu.Unlock()
	return w.s.WriteFrame(frame())
}
