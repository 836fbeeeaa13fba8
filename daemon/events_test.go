package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
)

// TestCallEvents: every call is an event, as serve shows it: a refused one
// (unauthorized), one whose handler failed (with its words), one that
// worked, and a message answered by the receive function.
func TestCallEvents(t *testing.T) {
	d := newDaemon(t, map[string]string{"echo": "cat", "fail": "echo boom >&2; exit 3", "receive": "cat"})
	events, stop := d.Events.Subscribe()
	defer stop()
	self := d.ID().Public()
	ctx := context.Background()

	c := newClient(t, d).Client(5*time.Second, 5*time.Second)
	if _, _, err := c.Do(ctx, self, &rpc.Request{Kind: rpc.KindCall, Function: "echo", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	d.Dispatch(ctx, rpc.NewIncoming(self, rpc.Request{ID: 2, Kind: rpc.KindCall, Function: "fail"}))
	d.Dispatch(ctx, rpc.NewIncoming(self, rpc.Request{ID: 3, Kind: rpc.KindCall, Function: "echo"}))
	d.Dispatch(ctx, rpc.NewIncoming(self, rpc.Request{ID: 4, Kind: rpc.KindSend, Payload: []byte("hi")}))

	for _, want := range []struct {
		function, access string
		outcome          rpc.Status
		text             string
	}{
		{"echo", "", rpc.StatusUnauthorized, "unauthorized"},
		{"fail", "author", rpc.StatusHandlerError, "boom"},
		{"echo", "author", rpc.StatusOK, ""},
		{"receive", "author", rpc.StatusOK, ""},
	} {
		select {
		case ev := <-events:
			if ev.Kind != "call" || ev.Call == nil {
				t.Fatalf("event %+v, want a call", ev)
			}
			r, text := ev.Call, strings.Join(ev.Fields, "\t")
			if r.Function != want.function || r.Access != want.access || r.Outcome != want.outcome || !strings.Contains(text, want.text) || (want.text == "") != (text == "") {
				t.Errorf("call event %s %q %s %q, want %s %q %s %q", r.Function, r.Access, r.Outcome, text, want.function, want.access, want.outcome, want.text)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event for the %s call", want.function)
		}
	}
}

// TestRefusedMessageEvent: a message the policy refuses is an event too,
// with its status and what the sender was told.
func TestRefusedMessageEvent(t *testing.T) {
	d := newDaemon(t, nil)
	d.Policy.Messages = AcceptContacts
	events, stop := d.Events.Subscribe()
	defer stop()
	stranger, _ := keys.Generate()
	resp := d.Dispatch(context.Background(), rpc.NewIncoming(stranger.Public(), rpc.Request{ID: 1, Kind: rpc.KindSend, Payload: []byte("hi")}))
	if resp.Status != rpc.StatusUnauthorized {
		t.Fatalf("a stranger's message: %s", resp.Status)
	}
	select {
	case ev := <-events:
		if ev.Kind != "refused_message" || ev.From != stranger.Public() || len(ev.Fields) != 2 ||
			ev.Fields[0] != string(rpc.StatusUnauthorized) || ev.Fields[1] != resp.Error {
			t.Errorf("event %+v", ev)
		}
	default:
		t.Error("no event for a refused message")
	}
}
