package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

type recorder struct {
	io.ReadWriteCloser
	mu    sync.Mutex
	wrote bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.wrote.Write(p)
	r.mu.Unlock()
	return r.ReadWriteCloser.Write(p)
}

// replay feeds recorded bytes to a responder and swallows its answers.
type replay struct{ r io.Reader }

func (p *replay) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *replay) Write(b []byte) (int, error) { return len(b), nil }

func ids(t testing.TB) (*keys.Identity, *keys.Identity) {
	a, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := keys.Generate()
	return a, b
}

func echo(calls *atomic.Int32) Dispatcher {
	return func(ctx context.Context, in *Incoming) Response {
		calls.Add(1)
		return Response{Status: StatusOK, Payload: append([]byte("ack:"), in.Request.Payload...)}
	}
}

func deadline() int64 { return time.Now().Add(10 * time.Second).UnixMicro() }

// do sends req and waits for its answer (send, then wait): Client.Go and
// Call.Wait without the client.
func (c *conn) do(ctx context.Context, req *Request) (resp Response, sent bool, err error) {
	answer, sent, err := c.send(req)
	if err != nil {
		return Response{}, sent, err
	}
	resp, err = c.wait(ctx, req, answer)
	return resp, true, err
}

// exchange runs the caller's side of a session on rw: the handshake with
// `to`, then each request in turn; it ends the session afterwards.
func exchange(rw io.ReadWriteCloser, id *keys.Identity, to keys.PublicKey, reqs ...*Request) ([]Response, error) {
	c, err := dialConn(rw, id, nil, to)
	if err != nil {
		return nil, err
	}
	defer c.close()
	var out []Response
	for _, req := range reqs {
		resp, _, err := c.do(context.Background(), req)
		if err != nil {
			return out, err
		}
		out = append(out, resp)
	}
	return out, nil
}

func TestExchange(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	done := make(chan error, 1)
	go func() { done <- serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now) }()
	resps, err := exchange(c, caller, callee.Public(),
		&Request{ID: 7, Kind: KindSend, Payload: []byte("hi"), Deadline: deadline()},
		&Request{ID: 8, Kind: KindSend, Payload: []byte("again"), Deadline: deadline()})
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
	go serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
	if _, err := exchange(rec, caller, callee.Public(),
		&Request{ID: 1, Kind: KindCall, Function: "f", Deadline: deadline()},
		&Request{ID: 2, Kind: KindCall, Function: "f", Deadline: deadline()}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("calls = %d", calls.Load())
	}
	err := serveSession(context.Background(), &replay{bytes.NewReader(rec.wrote.Bytes())}, callee, nil, echo(&calls), time.Now)
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
	req := Request{ID: 1, Kind: KindPing, Deadline: deadline()}
	sealed := sealRequest(caller, make([]byte, 32), &req)
	if _, err := openRequest(sealed, caller.Public(), bytes.Repeat([]byte{1}, 32)); !errors.Is(err, ErrSignature) {
		t.Fatalf("other session: %v", err)
	}
	if _, err := openRequest(sealed, callee.Public(), make([]byte, 32)); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v", err)
	}
	if got, err := openRequest(sealed, caller.Public(), make([]byte, 32)); err != nil || got.ID != 1 {
		t.Fatalf("good: %v", err)
	}
}

func TestWrongCalleeKey(t *testing.T) {
	caller, callee := ids(t)
	other, _ := keys.Generate()
	c, s := net.Pipe()
	var calls atomic.Int32
	go func() {
		serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
		s.Close()
	}()
	_, err := exchange(c, caller, other.Public(), &Request{ID: 1, Kind: KindPing, Deadline: deadline()})
	if !errors.Is(err, ErrAuth) || calls.Load() != 0 {
		t.Fatalf("err %v calls %d", err, calls.Load())
	}
}

func TestPastDeadlineIsTimeout(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
	resps, err := exchange(c, caller, callee.Public(), &Request{ID: 1, Kind: KindPing, Deadline: time.Now().Add(-time.Millisecond).UnixMicro()})
	if err != nil || resps[0].Status != StatusTimeout || calls.Load() != 0 {
		t.Fatalf("%+v %v %d", resps, err, calls.Load())
	}
}

func TestPayloadLimit(t *testing.T) {
	_, callee := ids(t)
	var c Client // no node: nothing may be dialled
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
		done <- serveSession(context.Background(), s, callee, nil, func(ctx context.Context, in *Incoming) Response {
			if in.Caller != caller.Public() {
				wrongCaller.Store(true)
			}
			return echo(&calls)(ctx, in)
		}, time.Now)
	}()
	cn, err := dialConn(c, caller, nil, callee.Public())
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
			resp, _, err := cn.do(context.Background(), &Request{ID: uint64(i + 1), Kind: KindSend, Payload: []byte(msg), Deadline: deadline()})
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
		t.Fatalf("serveSession: %v", err)
	}
	if calls.Load() != n || wrongCaller.Load() {
		t.Fatalf("calls %d, wrong caller %v", calls.Load(), wrongCaller.Load())
	}
}

// TestLargeFrames: frames bigger than what corkable gathers before a writer
// must wait for its goroutine arrive whole and in order, mixed with small ones.
func TestLargeFrames(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
	var reqs []*Request
	for i, size := range []int{3 << 20, 10, maxGathered, maxGathered + 1, 1} {
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(i + j)
		}
		reqs = append(reqs, &Request{ID: uint64(i + 1), Kind: KindSend, Payload: p, Deadline: deadline()})
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

// TestFirstRequestMustBeSigned: a session whose first request is not the
// signed one of DESIGN §6 runs nothing.
func TestFirstRequestMustBeSigned(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	var calls atomic.Int32
	go serveSession(context.Background(), s, callee, nil, echo(&calls), time.Now)
	cn, err := dialConn(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	cn.signed = true // pretend: the first request goes out plain
	_, _, err = cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Deadline: deadline()})
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
		done <- serveSession(ctx, s, callee, nil, func(context.Context, *Incoming) Response {
			<-release
			return Response{Status: StatusOK, Payload: []byte("late")}
		}, time.Now)
	}()
	cn, err := dialConn(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan Response, 1)
	go func() {
		resp, _, _ := cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Deadline: deadline()})
		got <- resp
	}()
	time.Sleep(50 * time.Millisecond) // the request is in the dispatcher
	cancel()
	close(release)
	if r := <-got; string(r.Payload) != "late" {
		t.Fatalf("in-progress request: %+v", r)
	}
	if err := <-done; err != nil {
		t.Fatalf("serveSession: %v", err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(detcbor.Marshal(&Request{ID: 1, Kind: KindCall, Function: "publish_post", Payload: []byte("x"), Secret: make([]byte, 64), Deadline: 1}))
	f.Add(detcbor.Marshal(&Request{ID: 2, Kind: KindPing}))
	f.Add(detcbor.Marshal(&signedRequest{Request: []byte{1}, Signature: []byte{2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err == nil && !bytes.Equal(detcbor.Marshal(&r), b) {
			t.Fatalf("decode→encode changed bytes")
		}
		DecodeResponse(b)
		var k keys.PublicKey
		openRequest(b, k, nil)
	})
}

// TestDeadlineCtx: the lazily made deadline context behaves as
// context.WithDeadline: its deadline, its end at the deadline or with its
// parent, and Err before and after Done is first called.
func TestDeadlineCtx(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	d := time.Now().Add(30 * time.Millisecond)
	c := &deadlineCtx{Context: parent, deadline: d}
	if got, ok := c.Deadline(); !ok || !got.Equal(d) {
		t.Fatalf("Deadline = %v, %v", got, ok)
	}
	if c.Err() != nil {
		t.Fatal("ended early")
	}
	time.Sleep(40 * time.Millisecond)
	if c.Err() != context.DeadlineExceeded {
		t.Fatalf("Err past the deadline, Done never called: %v", c.Err())
	}
	select {
	case <-c.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed past the deadline")
	}
	c.release()

	c = &deadlineCtx{Context: parent, deadline: time.Now().Add(time.Hour)}
	done := c.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Done not closed with the parent")
	}
	if c.Err() != context.Canceled {
		t.Fatalf("Err after the parent ended: %v", c.Err())
	}
	c = &deadlineCtx{Context: parent, deadline: time.Now().Add(time.Hour)}
	if c.Err() != context.Canceled {
		t.Fatalf("Err of a child of an ended parent, Done never called: %v", c.Err())
	}
	c.release()
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
	go serveSession(context.Background(), s, callee, nil, func(ctx context.Context, in *Incoming) Response {
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
	}, time.Now)
	cn, err := dialConn(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close()
	do := func(kind Kind, id uint64, p string) chan Response {
		r := make(chan Response, 1)
		req := &Request{ID: id, Kind: kind, Function: "f", Payload: []byte(p), Deadline: time.Now().Add(5 * time.Second).UnixMicro()}
		answer, _, err := cn.send(req)
		if err != nil {
			t.Fatal(err)
		}
		go func() { resp, _ := cn.wait(context.Background(), req, answer); r <- resp }()
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

// TestUnansweredEndsSession: a request left unanswered past its deadline
// and the grace ends the session, so the next request dials a new one.
func TestUnansweredEndsSession(t *testing.T) {
	caller, callee := ids(t)
	c, s := net.Pipe()
	stuck := make(chan struct{})
	defer close(stuck)
	go serveSession(context.Background(), s, callee, nil, func(context.Context, *Incoming) Response {
		<-stuck // a callee that never answers
		return Response{Status: StatusOK}
	}, time.Now)
	cn, err := dialConn(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = cn.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "f", Deadline: time.Now().Add(100 * time.Millisecond).UnixMicro()})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	if cn.alive() {
		t.Fatal("session still taken for alive")
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
	go serveSession(context.Background(), s, callee, nil, func(_ context.Context, in *Incoming) Response {
		if in.Request.Kind == KindPing {
			pings.Add(1)
		}
		<-stuck
		return Response{Status: StatusOK}
	}, time.Now)
	cn, err := dialConn(c, caller, nil, callee.Public())
	if err != nil {
		t.Fatal(err)
	}
	defer cn.close()
	if _, _, err := cn.send(&Request{ID: 1, Kind: KindCall, Function: "f", Deadline: deadline()}); err != nil {
		t.Fatal(err)
	}
	resp, _, err := cn.do(context.Background(), &Request{ID: 2, Kind: KindPing, Payload: []byte("x"), Deadline: deadline()})
	if err != nil || resp.Status != StatusOK || resp.ID != 2 || pings.Load() != 0 {
		t.Fatalf("ping: %+v %v (dispatcher saw %d pings)", resp, err, pings.Load())
	}
}
