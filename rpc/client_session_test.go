package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// TestUnansweredEndsSession: a request left unanswered past its deadline
// and the grace ends the session, so the next request dials a new one.
func TestUnansweredEndsSession(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	stuck := make(chan struct{})
	defer close(stuck)
	go serve(context.Background(), s, callee, nil, dispatchFunc(func(context.Context, *Incoming) Response {
		<-stuck // a callee that never answers
		return Response{Status: StatusOK}
	}), time.Now, nil)
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Timeout: 100_000})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	if cn.alive() {
		t.Fatal("session still taken for alive")
	}
}
