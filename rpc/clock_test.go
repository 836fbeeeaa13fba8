package rpc

import (
	"context"
	"net"
	"testing"
	"time"
)

// TestClockSkew: a caller and a callee whose clocks differ by 10 minutes,
// either way, work together: a call is answered, and a call that outlives
// its timeout is stopped by the callee at that timeout, which answers
// timeout itself (the caller would give up a second later). The request
// carries how long it may take, counted by the callee from its arrival, not
// a time on the caller's clock: with one, a callee ahead would refuse every
// request as too late, and one behind would stop them 10 minutes late.
func TestClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			caller, callee := ids(t)
			c, s := net.Pipe()
			clock := func() time.Time { return time.Now().Add(skew) } // the callee's
			go serve(context.Background(), s, callee, nil, dispatchFunc(func(ctx context.Context, in *Incoming) Response {
				if in.Request.Function == "wait" {
					<-ctx.Done() // stopped at the timeout, as a handler is
					return Response{Status: StatusTimeout, Error: "stopped"}
				}
				return Response{Status: StatusOK, Payload: []byte("done")}
			}), clock, nil)
			cs, err := dialSession(c, caller, nil, callee.Public())
			if err != nil {
				t.Fatal(err)
			}
			defer cs.close()
			resp, _, err := cs.do(context.Background(), &Request{ID: 1, Kind: KindCall, Function: "now", Timeout: tenSeconds})
			if err != nil || resp.Status != StatusOK || string(resp.Payload) != "done" {
				t.Fatalf("call: %+v %v", resp, err)
			}
			resp, _, err = cs.do(context.Background(), &Request{ID: 2, Kind: KindCall, Function: "wait", Timeout: 300_000})
			if err != nil || resp.Status != StatusTimeout || resp.Error != "stopped" {
				t.Fatalf("call past its timeout: %+v %v (want the callee's own timeout answer)", resp, err)
			}
			resp, _, err = cs.do(context.Background(), &Request{ID: 3, Kind: KindPing, Timeout: tenSeconds})
			if err != nil || resp.Status != StatusOK {
				t.Fatalf("ping: %+v %v", resp, err)
			}
		})
	}
}
