package rpc

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

func TestExchange(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	done := make(chan error, 1)
	go func() { done <- serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil) }()
	resps, err := exchange(c, caller, callee.Public(),
		&Request{ID: 7, Kind: KindSend, Payload: []byte("hi"), Timeout: tenSeconds},
		&Request{ID: 8, Kind: KindSend, Payload: []byte("again"), Timeout: tenSeconds})
	if err != nil {
		t.Fatal(err)
	}
	if r := resps[0]; r.ID != 7 || r.Status != StatusOK || string(r.Payload) != "ack:hi" {
		t.Fatalf("first %+v", r)
	}
	if r := resps[1]; r.ID != 8 || r.Status != StatusOK || string(r.Payload) != "ack:again" {
		t.Fatalf("second %+v", r)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestReplayDoesNotRunTwice records every byte the initiator sent in a
// session of two requests and replays them to the responder: neither request
// may run again.
func TestReplayDoesNotRunTwice(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	rec := &recorder{ReadWriteCloser: c}
	var calls atomic.Int32
	go serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil)
	if _, err := exchange(rec, caller, callee.Public(),
		&Request{ID: 1, Kind: KindCall, Function: "f", Timeout: tenSeconds},
		&Request{ID: 2, Kind: KindCall, Function: "f", Timeout: tenSeconds}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("calls = %d", calls.Load())
	}
	err := serve(context.Background(), &replay{bytes.NewReader(rec.wrote.Bytes())}, callee, nil, echo(&calls), time.Now, nil)
	if err == nil {
		t.Fatal("replayed session served without error")
	}
	if calls.Load() != 2 {
		t.Fatalf("replay ran a request: calls = %d", calls.Load())
	}
}

// A request signed for another session (or by another key) is dropped.
func TestSignatureBindsSession(t *testing.T) {
	caller, callee := ids(t)
	req := Request{ID: 1, Kind: KindPing, Timeout: tenSeconds}
	sealed := SealRequest(caller, make([]byte, 32), &req)
	if _, err := OpenRequest(sealed, caller.Public(), bytes.Repeat([]byte{1}, 32)); !errors.Is(err, ErrSignature) {
		t.Fatalf("other session: %v", err)
	}
	if _, err := OpenRequest(sealed, callee.Public(), make([]byte, 32)); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v", err)
	}
	if got, err := OpenRequest(sealed, caller.Public(), make([]byte, 32)); err != nil || got.ID != 1 {
		t.Fatalf("good: %v", err)
	}
}

func TestWrongCalleeKey(t *testing.T) {
	caller, callee := ids(t)
	other, _ := keys.Generate()
	c, s := net.Pipe()
	var calls atomic.Int32
	go func() {
		serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil)
		s.Close()
	}()
	_, err := exchange(c, caller, other.Public(), &Request{ID: 1, Kind: KindPing, Timeout: tenSeconds})
	if !errors.Is(err, ErrAuth) || calls.Load() != 0 {
		t.Fatalf("err %v calls %d", err, calls.Load())
	}
}

// TestZeroTimeoutIsTimeout: a request that allows no time is answered
// timeout, and runs nothing.
func TestZeroTimeoutIsTimeout(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil)
	resps, err := exchange(c, caller, callee.Public(), &Request{ID: 1, Kind: KindPing, Timeout: 0},
		&Request{ID: 2, Kind: KindCall, Function: "f", Timeout: 0})
	if err != nil || len(resps) != 2 || resps[0].Status != StatusTimeout || resps[1].Status != StatusTimeout || calls.Load() != 0 {
		t.Fatalf("%+v %v %d", resps, err, calls.Load())
	}
}

// TestFirstRequestMustBeSigned: a session whose first request is not the
// signed one of PROTOCOL.md §5.3 runs nothing.
func TestFirstRequestMustBeSigned(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serve(context.Background(), s, callee, nil, echo(&calls), time.Now, nil)
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	cn.signed = true // pretend: the first request goes out plain
	_, _, err = cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Timeout: tenSeconds})
	if err == nil || calls.Load() != 0 {
		t.Fatalf("err %v, calls %d", err, calls.Load())
	}
}

// TestSessionEndsWithServer: when the server stops, the session ends: its
// read fails at once, and requests in progress are still answered.
func TestSessionEndsWithServer(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, s, callee, nil, dispatchFunc(func(context.Context, *Incoming) Response {
			<-release
			return Response{Status: StatusOK, Payload: []byte("late")}
		}), time.Now, nil)
	}()
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Response, 1)
	go func() {
		resp, _, _ := cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Timeout: tenSeconds})
		got <- resp
	}()
	time.Sleep(50 * time.Millisecond) // the request is in the dispatcher
	cancel()
	close(release)
	if r := <-got; string(r.Payload) != "late" {
		t.Fatalf("in-progress request: %+v", r)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestMessagesInTurnCallsNot: a session's messages reach a dispatcher that
// waits its turn one at a time, in the order sent; its calls do not wait
// for each other (a daemon's kept session carries independent commands).
func TestMessagesInTurnCallsNot(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var mu sync.Mutex
	var log []string
	note := func(e string) { mu.Lock(); log = append(log, e); mu.Unlock() }
	release := make(chan struct{})
	var inside sync.WaitGroup
	inside.Add(2)
	both := make(chan struct{})
	go func() { inside.Wait(); close(both) }()
	go serve(context.Background(), s, callee, nil, dispatchFunc(func(ctx context.Context, in *Incoming) Response {
		if err := in.WaitTurn(ctx); err != nil {
			return Response{Status: StatusTimeout}
		}
		p := string(in.Request.Payload)
		switch in.Request.Kind {
		case KindSend:
			note("enter " + p)
			if p == "1" {
				<-release
			}
			note("exit " + p)
		case KindCall: // both calls must be inside at once
			inside.Done()
			select {
			case <-both:
			case <-ctx.Done():
				return Response{Status: StatusTimeout}
			}
		}
		return Response{Status: StatusOK}
	}), time.Now, nil)
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close()
	do := func(kind Kind, id uint64, p string) chan Response {
		r := make(chan Response, 1)
		req := &Request{ID: id, Kind: kind, Function: "f", Payload: []byte(p), Timeout: 5_000_000}
		answer, _, err := cn.send(req)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			resp, _ := cn.wait(context.Background(), req.ID, answer, time.Now().Add(5*time.Second))
			r <- resp
		}()
		return r
	}
	m1, m2 := do(KindSend, 1, "1"), do(KindSend, 2, "2")
	c1, c2 := do(KindCall, 3, ""), do(KindCall, 4, "")
	for _, r := range []chan Response{c1, c2} {
		if resp := <-r; resp.Status != StatusOK {
			t.Fatalf("calls did not run at once: %+v", resp)
		}
	}
	time.Sleep(50 * time.Millisecond) // room for message 2 to jump its turn
	close(release)
	<-m1
	<-m2
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(log, ",") != "enter 1,exit 1,enter 2,exit 2" {
		t.Fatalf("messages out of turn: %v", log)
	}
}

// TestPingAnsweredBySession: a ping is answered by the session itself, even
// while the dispatcher is busy, and never reaches the dispatcher.
func TestPingAnsweredBySession(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	stuck := make(chan struct{})
	defer close(stuck)
	var pings atomic.Int32
	go serve(context.Background(), s, callee, nil, dispatchFunc(func(_ context.Context, in *Incoming) Response {
		if in.Request.Kind == KindPing {
			pings.Add(1)
		}
		<-stuck
		return Response{Status: StatusOK}
	}), time.Now, nil)
	cn, err := dialSession(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close()
	if _, _, err := cn.send(&Request{ID: 1, Kind: KindCall, Function: "f", Timeout: tenSeconds}); err != nil {
		t.Fatal(err)
	}
	resp, _, err := cn.do(context.Background(), &Request{ID: 2, Kind: KindPing, Payload: []byte("x"), Timeout: tenSeconds})
	if err != nil || resp.Status != StatusOK || resp.ID != 2 || pings.Load() != 0 {
		t.Fatalf("ping: %+v %v (dispatcher saw %d pings)", resp, err, pings.Load())
	}
}
