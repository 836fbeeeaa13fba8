package daemon

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
)

// agent is another agent talking to a daemon under test: its identity and
// a client on a real libp2p node of its own.
type agent struct {
	id *keys.Identity
	c  *rpc.Client
}

func newAgents(t *testing.T, d *Daemon, n int) []agent {
	t.Helper()
	as := make([]agent, n)
	for i := range as {
		e := newClient(t, d)
		as[i] = agent{e.ID, e.Client(10*time.Second, 10*time.Second)}
	}
	return as
}

// deliver sends d a new claim granted by a (a ticket of its own, with a
// fresh secret), as grant --deliver does.
func (a agent) deliver(t *testing.T, d *Daemon, tag string) rpc.Response {
	t.Helper()
	secret, err := caps.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	ticket := caps.EncodeTicket(caps.Ticket{Grantor: a.id.Public(), Secret: secret, Functions: []string{"f"}, Access: caps.Assigned, Tag: tag})
	resp, _, err := a.c.Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindCall, Function: caps.ReceiveClaim, Payload: []byte(ticket)})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (a agent) send(t *testing.T, d *Daemon, body string) rpc.Response {
	t.Helper()
	resp, _, err := a.c.Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindSend, Payload: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// outcome sorts a reply to a delivered claim: "chain", "pending" or the
// status of a refusal.
func outcome(r rpc.Response) string {
	switch {
	case r.Status == rpc.StatusOK && string(r.Payload) == ClaimPendingReply:
		return "pending"
	case r.Status == rpc.StatusOK && strings.HasPrefix(string(r.Payload), "uhCkk"):
		return "chain"
	}
	return string(r.Status)
}

func head(t *testing.T, d *Daemon) uint64 {
	t.Helper()
	h, err := d.Chain.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h.Seq
}

// TestStrangerClaims: under the default policy, strangers put at most 5
// claims each and 20 in all on the chain in an hour, also across a
// restart; the rest wait pending, up to 10 per grantor, and past that are
// refused over_quota; a pending claim accepted goes on the chain.
func TestStrangerClaims(t *testing.T) {
	home := initHome(t)
	d, stop := startDaemon(t, home, nil, nil)
	start := head(t, d)
	flooder := newAgents(t, d, 1)[0]
	got := map[string]int{}
	for range 20 {
		got[outcome(flooder.deliver(t, d, "flood"))]++
	}
	if got["chain"] != 5 || got["pending"] != 10 || got[string(rpc.StatusOverQuota)] != 5 {
		t.Errorf("one stranger's 20 claims: %v, want 5 on the chain, 10 pending, 5 over_quota", got)
	}

	var mu sync.Mutex
	var wg sync.WaitGroup
	got = map[string]int{}
	for _, a := range newAgents(t, d, 20) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				o := outcome(a.deliver(t, d, "many"))
				mu.Lock()
				got[o]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if got["chain"] != 15 || got["pending"] != 25 {
		t.Errorf("20 strangers' 2 claims each: %v, want the 15 left of 20 an hour on the chain, 25 pending", got)
	}
	if n := head(t, d) - start; n != 20 {
		t.Errorf("strangers added %d actions to the chain in an hour, want 20", n)
	}

	// The hour is read back from the chain: a restart does not reset it.
	stop()
	d, _ = startDaemon(t, home, nil, nil)
	if o := outcome(newAgents(t, d, 1)[0].deliver(t, d, "after")); o != "pending" {
		t.Errorf("a stranger's claim after a restart: %s, want pending", o)
	}

	// Accepting one puts it on the chain, where it is a claim like any.
	list, err := d.Pending().List()
	if err != nil || len(list) != 36 {
		t.Fatalf("pending: %d claims, %v", len(list), err)
	}
	before := head(t, d)
	r, err := d.Pending().Accept(d.Chain, list[0].ID.EntryString()[:16])
	if err != nil {
		t.Fatal(err)
	}
	if head(t, d) != before+1 || r.EntryHash != list[0].ID {
		t.Errorf("accept: head %d → %d, entry %s, want the pending one's", before, head(t, d), r.EntryHash.EntryString())
	}
	if ci, err := caps.LookupClaim(d.Chain, r.Hash.ActionString()); err != nil || ci.Grantor != flooder.id.Public() {
		t.Errorf("the accepted claim: %+v, %v", ci, err)
	}
	if left, _ := d.Pending().List(); len(left) != 35 {
		t.Errorf("%d pending after accepting one of 36", len(left))
	}
}

// TestPolicies: what --accept-messages and --accept-claims do to a
// contact, a stranger and the agent itself.
func TestPolicies(t *testing.T) {
	for _, c := range []struct {
		policy                                  Policy
		contactMsg, strangerMsg, selfMsg        rpc.Status
		contactClaims, strangerClaim, selfClaim string
	}{
		{DefaultPolicy, rpc.StatusOK, rpc.StatusOK, rpc.StatusOK, "chain", "chain", "chain"},
		{Policy{AcceptContacts, AcceptContacts}, rpc.StatusOK, rpc.StatusUnauthorized, rpc.StatusOK, "chain", "pending", "chain"},
		{Policy{AcceptNone, AcceptNone}, rpc.StatusUnauthorized, rpc.StatusUnauthorized, rpc.StatusOK, "pending", "pending", "chain"},
	} {
		t.Run(string(c.policy.Messages), func(t *testing.T) {
			d, _ := startDaemon(t, initHome(t), nil, func(d *Daemon) { d.Policy = c.policy })
			as := newAgents(t, d, 2)
			contact, stranger := as[0], as[1]
			if err := d.Contacts().Add("carol", contact.id.Public(), time.Now()); err != nil {
				t.Fatal(err)
			}
			if r := contact.send(t, d, "hi"); r.Status != c.contactMsg {
				t.Errorf("a contact's message: %+v", r)
			}
			r := stranger.send(t, d, "hi")
			if r.Status != c.strangerMsg {
				t.Errorf("a stranger's message: %+v", r)
			}
			if r.Status == rpc.StatusUnauthorized && r.Error != strangersRefused[c.policy.Messages] {
				t.Errorf("a stranger is told %q", r.Error)
			}
			self := d.Dispatch(context.Background(), rpc.NewIncoming(d.ID().Public(), rpc.Request{ID: 1, Kind: rpc.KindSend,
				Payload: []byte("me"), Timeout: 5_000_000}))
			if self.Status != c.selfMsg {
				t.Errorf("its own message: %+v", self)
			}
			// A contact is not counted against the hourly limit of strangers.
			for i := range 8 {
				if o := outcome(contact.deliver(t, d, "contact")); o != c.contactClaims {
					t.Errorf("a contact's claim %d: %s, want %s", i+1, o, c.contactClaims)
				}
			}
			if o := outcome(stranger.deliver(t, d, "stranger")); o != c.strangerClaim {
				t.Errorf("a stranger's claim: %s, want %s", o, c.strangerClaim)
			}
			// Its own delivery (grant --deliver to itself) is never pending.
			secret, _ := caps.NewSecret()
			ticket := caps.EncodeTicket(caps.Ticket{Grantor: d.ID().Public(), Secret: secret, Functions: []string{"f"}, Access: caps.Transferable})
			own := d.Dispatch(context.Background(), rpc.NewIncoming(d.ID().Public(), rpc.Request{ID: 2, Kind: rpc.KindCall,
				Function: caps.ReceiveClaim, Payload: []byte(ticket), Timeout: 5_000_000}))
			if o := outcome(own); o != c.selfClaim {
				t.Errorf("its own claim: %s", o)
			}
		})
	}
}

// TestCallerChosenFunctionNames: a function name with newlines, tabs or
// escape sequences, or 1 MiB long, is answered bad_request and leaves an
// audit record of bounded size that holds none of its bytes.
func TestCallerChosenFunctionNames(t *testing.T) {
	d := newDaemon(t, map[string]string{"echo": "cat"})
	if _, err := caps.CreateGrant(d.Chain, caps.Grant{Access: caps.Unrestricted, Functions: []string{caps.AllFunctions}}); err != nil {
		t.Fatal(err)
	}
	c := newAgents(t, d, 1)[0].c
	names := []string{"echo\nok\tuhCAkforged\tauthor", "echo\tx", "\x1b]0;pwned\x07\x1b[2J", strings.Repeat("a", 1<<20), ""}
	for _, name := range names {
		resp, _, err := c.Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindCall, Function: name})
		if err != nil || resp.Status != rpc.StatusBadRequest || resp.Error != "not a valid function name" {
			t.Errorf("call %.20q: %+v %v", name, resp, err)
		}
	}
	var recs []*AuditRecord
	err := d.Audit().List(func(r *AuditRecord) error {
		if size := len(detcbor.Marshal(r)); size > 128 {
			t.Errorf("an audit record of %d bytes", size)
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lens := map[int]bool{}
	for _, r := range recs {
		if !r.InvalidFunction || r.Function != "" || r.Outcome != rpc.StatusBadRequest {
			t.Errorf("record %+v", r)
		}
		lens[r.FunctionLen] = true
	}
	for _, name := range names {
		if !lens[len(name)] {
			t.Errorf("no record of the %d-byte name", len(name))
		}
	}
	if len(recs) != len(names) {
		t.Errorf("%d records for %d calls", len(recs), len(names))
	}
}
