package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPayloadLimit(t *testing.T) {
	_, callee := ids(t)
	c := (&Endpoint{}).Client(time.Second, time.Second) // no node: nothing may be dialled
	_, _, err := c.Do(context.Background(), callee.Public(), &Request{Kind: KindSend, Payload: make([]byte, MaxPayload+1)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
}

// TestPipelined: many goroutines share one session; each gets its own
// answer, and the callee sees them all from the caller.
func TestPipelined(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	var wrongCaller atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- serve(context.Background(), s, callee, nil, dispatchFunc(func(ctx context.Context, in *Incoming) Response {
			if in.Caller != caller.Public() {
				wrongCaller.Store(true)
			}
			return echo(&calls)(ctx, in)
		}), time.Now, nil)
	}()
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := fmt.Sprint("m", i)
			resp, _, err := cn.do(context.Background(), &Request{ID: uint64(i + 1), Kind: KindSend, Payload: []byte(msg), Timeout: tenSeconds})
			if err == nil && (resp.ID != uint64(i+1) || string(resp.Payload) != "ack:"+msg) {
				err = fmt.Errorf("request %d got %+v", i+1, resp)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cn.close()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if calls.Load() != n || wrongCaller.Load() {
		t.Fatalf("calls %d, wrong caller %v", calls.Load(), wrongCaller.Load())
	}
}

// TestLargeFrames: frames bigger than what a batchedStream gathers before a writer
// must wait for its goroutine arrive whole and in order, mixed with small ones.
func TestLargeFrames(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil)
	var reqs []*Request
	for i, size := range []int{3 << 20, 10, maxBatch, maxBatch + 1, 1} {
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(i + j)
		}
		reqs = append(reqs, &Request{ID: uint64(i + 1), Kind: KindSend, Payload: p, Timeout: tenSeconds})
	}
	resps, err := exchange(c, caller, callee.Public(), reqs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range resps {
		if !bytes.Equal(r.Payload, append([]byte("ack:"), reqs[i].Payload...)) {
			t.Fatalf("request %d (%d bytes): wrong answer of %d bytes", i+1, len(reqs[i].Payload), len(r.Payload))
		}
	}
}

// TestLateRequestAloneTimesOut: a request the callee leaves unanswered
// past its deadline and the grace fails alone; a request sent beside it on
// the same session is answered, and the session goes on taking requests.
func TestLateRequestAloneTimesOut(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	stuck, release := make(chan struct{}), make(chan struct{})
	defer close(stuck)
	go serve(context.Background(), s, callee, nil, dispatchFunc(func(_ context.Context, in *Incoming) Response {
		switch in.Request.Function {
		case "late": // a callee that answers long after the deadline
			<-stuck
		case "other":
			<-release
		}
		return Response{Status: StatusOK, Payload: []byte(in.Request.Function)}
	}), time.Now, nil)
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close()
	other := make(chan error, 1)
	otherSent := make(chan struct{})
	go func() {
		answer, _, err := cn.send(&Request{ID: 2, Kind: KindCall, Function: "other", Timeout: tenSeconds})
		close(otherSent)
		if err == nil {
			var resp Response
			resp, err = cn.wait(context.Background(), 2, answer, time.Now().Add(10*time.Second))
			if err == nil && string(resp.Payload) != "other" {
				err = fmt.Errorf("answer %q", resp.Payload)
			}
		}
		other <- err
	}()
	<-otherSent
	_, _, err = cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "late", Timeout: 100_000})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("late request: %v", err)
	}
	close(release)
	if err := <-other; err != nil {
		t.Fatalf("the request beside the late one: %v", err)
	}
	if resp, _, err := cn.do(context.Background(), &Request{ID: 3, Kind: KindCall, Function: "after", Timeout: tenSeconds}); err != nil || string(resp.Payload) != "after" {
		t.Fatalf("a request after the late one: %v", err)
	}
	if !cn.alive() {
		t.Fatal("the session ended")
	}
}

// frozen is a connection whose peer stops reading and writing once
// freeze is closed, as a machine that vanished would.
type frozen struct {
	net.Conn
	freeze, thaw chan struct{}
}

func (f *frozen) Read(b []byte) (int, error) {
	select {
	case <-f.freeze:
		<-f.thaw // the end of the test
		return 0, io.EOF
	default:
		return f.Conn.Read(b)
	}
}

// TestSilentAgentEndsSession: when a request goes unanswered and the agent
// answers nothing else either (not even a ping), the session ends, so the
// next request dials a new one.
func TestSilentAgentEndsSession(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	f := &frozen{Conn: s, freeze: make(chan struct{}), thaw: make(chan struct{})}
	stuck := make(chan struct{})
	defer close(stuck)
	defer close(f.thaw)
	go serve(context.Background(), f, callee, nil, dispatchFunc(func(context.Context, *Incoming) Response {
		close(f.freeze) // the agent vanishes while the call runs
		<-stuck
		return Response{Status: StatusOK}
	}), time.Now, nil)
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	cn.probeWait = 200 * time.Millisecond
	_, _, err = cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Timeout: 100_000})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	select {
	case <-cn.ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the session outlived a silent agent")
	}
	if !errors.Is(cn.err, errGone) {
		t.Fatalf("ended with %v", cn.err)
	}
}
