package noiseproto

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

// watch is a ReadMonitor that records what it is told, refuses growth past
// limit (0: none), and signals stalled when the reader waits for the rest
// of a frame whose buffer it already made.
type watch struct {
	granted int
	grows   int
	limit   int
	awaits  []bool
	stalled chan struct{} // nil: no signal
}

var errOverLimit = errors.New("over the limit")

func (w *watch) Await(midFrame bool) {
	w.awaits = append(w.awaits, midFrame)
	if midFrame && w.grows > 0 && w.stalled != nil {
		close(w.stalled)
		w.stalled = nil
	}
}

func (w *watch) Grow(n int) error {
	if w.limit > 0 && w.granted+n > w.limit {
		return errOverLimit
	}
	w.granted += n
	w.grows++
	return nil
}

// TestDeclaredFrameAllocatesLittle: a peer declares a 16 MiB frame, sends
// its first message (64 KiB) and nothing more. While the reader waits for
// the rest it has allocated about what arrived, not what was declared.
func TestDeclaredFrameAllocatesLittle(t *testing.T) {
	ini, res, _, b := sessionPair(t, newOwnDH(), newOwnDH(), 0)
	const declared = 16 << 20
	pr, pw := io.Pipe()
	defer pw.Close()
	b.Reader = pr
	w := &watch{stalled: make(chan struct{})}
	res.monitor = w
	stalled := w.stalled
	first := seal(t, ini, header(declared, pattern(firstChunkSize, 1)))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan error, 1)
	go func() {
		_, err := res.ReadFrame()
		done <- err
	}()
	if _, err := pw.Write(first); err != nil {
		t.Fatal(err)
	}
	<-stalled // the reader waits for the frame's second message
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("a declared %d-byte frame with 64 KiB sent allocated %d bytes", declared, n)
	}
	if w.granted != firstChunkSize {
		t.Errorf("granted %d bytes for the first message, want %d", w.granted, firstChunkSize)
	}
	pw.Close()
	if err := <-done; !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("stream ended mid-frame: %v", err)
	}
}

// TestMonitorSeesFrames: a frame the reader returns was granted exactly
// its capacity, which is its length, in a few doublings; the reader waits
// between frames once per frame and mid-frame otherwise; a refused growth
// ends the read with the monitor's error.
func TestMonitorSeesFrames(t *testing.T) {
	ini, res, _, b := sessionPair(t, newOwnDH(), newOwnDH(), 0)
	const size = 1<<20 + 12345
	frame := pattern(size, 2)
	msgs := [][]byte{header(size, frame[:firstChunkSize])}
	for rest := frame[firstChunkSize:]; len(rest) > 0; {
		n := min(len(rest), maxChunkSize)
		msgs = append(msgs, rest[:n])
		rest = rest[n:]
	}
	b.Reader = bytes.NewReader(seal(t, ini, msgs...))
	w := &watch{}
	res.monitor = w
	p, err := res.ReadFrame()
	if err != nil || !bytes.Equal(p, frame) {
		t.Fatalf("frame: %v", err)
	}
	if cap(p) != size || w.granted != size {
		t.Errorf("capacity %d, granted %d, want both %d", cap(p), w.granted, size)
	}
	if w.grows > 6 {
		t.Errorf("%d growths for %d bytes", w.grows, size)
	}
	between := 0
	for i, mid := range w.awaits {
		if !mid {
			between++
			if i != 0 {
				t.Errorf("waited between frames at read %d", i)
			}
		}
	}
	if between != 1 || len(w.awaits) != 2*len(msgs) {
		t.Errorf("awaits %v for %d messages", w.awaits, len(msgs))
	}

	ini2, res2, _, b2 := sessionPair(t, newOwnDH(), newOwnDH(), 0)
	b2.Reader = bytes.NewReader(seal(t, ini2, msgs...))
	res2.monitor = &watch{limit: 256 << 10}
	if _, err := res2.ReadFrame(); !errors.Is(err, errOverLimit) {
		t.Fatalf("growth refused: %v", err)
	}
}
