package daemon

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/rpc"
)

// strangers makes n clients, each a real libp2p node with an identity of
// its own that the daemon d does not know.
func strangers(t *testing.T, d *Daemon, n int) []*rpc.Client {
	t.Helper()
	cs := make([]*rpc.Client, n)
	for i := range cs {
		cs[i] = newClient(t, d).Client(10*time.Second, 10*time.Second)
	}
	return cs
}

// flood has each client send messages of the given size, all clients at
// once, each one after the other; it returns, per client, the bodies the
// daemon acknowledged and the refusals it answered.
func flood(t *testing.T, d *Daemon, tag string, cs []*rpc.Client, messages, size int) (acked []string, refused []rpc.Response) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range messages {
				body := fmt.Sprintf("%s-%03d-%03d-", tag, i, j)
				body += strings.Repeat("x", size-len(body))
				resp, _, err := c.Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindSend, Payload: []byte(body)})
				if err != nil {
					t.Errorf("stranger %d, message %d: %v", i, j, err)
					return
				}
				mu.Lock()
				if resp.Status == rpc.StatusOK {
					acked = append(acked, body)
				} else {
					refused = append(refused, resp)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acked, refused
}

// inboxHolds checks that the inbox of d holds exactly the bodies acked
// (nothing acknowledged was lost, nothing refused was kept) within quotas q,
// counted from the store itself.
func inboxHolds(t *testing.T, d *Daemon, acked []string, q Quotas) {
	t.Helper()
	want := map[string]bool{}
	for _, b := range acked {
		want[b] = true
	}
	perSender := map[string]usage{}
	var all usage
	err := d.Inbox().List(func(m *Message) error {
		if !want[string(m.Body)] {
			t.Errorf("the inbox holds %q, which was not acknowledged", m.Body)
		}
		delete(want, string(m.Body))
		u := perSender[m.From.String()]
		u.bytes += int64(len(m.Body))
		u.messages++
		perSender[m.From.String()] = u
		all.bytes += int64(len(m.Body))
		all.messages++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) > 0 {
		t.Errorf("%d acknowledged messages are not in the inbox", len(want))
	}
	if all.bytes > q.InboxBytes || all.messages > q.InboxMessages {
		t.Errorf("the inbox holds %d messages, %d bytes: over %d, %d", all.messages, all.bytes, q.InboxMessages, q.InboxBytes)
	}
	for from, u := range perSender {
		if u.bytes > q.SenderBytes || u.messages > q.SenderMessages {
			t.Errorf("%s has %d messages, %d bytes in the inbox: over %d, %d", from, u.messages, u.bytes, q.SenderMessages, q.SenderBytes)
		}
	}
}

func checkRefusals(t *testing.T, refused []rpc.Response, min int) {
	t.Helper()
	if len(refused) < min {
		t.Errorf("%d messages refused, want at least %d", len(refused), min)
	}
	for _, r := range refused {
		if r.Status != rpc.StatusOverQuota || r.Error != "inbox is full (for you)" {
			t.Errorf("refused with %s %q, want over_quota", r.Status, r.Error)
		}
	}
}

// TestInboxQuotas: a flood from one stranger, then from 20, fills the inbox
// up to its quotas and no further: each message over them is refused with
// over_quota, every message acknowledged before is kept, and the quotas are
// counted again from the home after a restart.
func TestInboxQuotas(t *testing.T) {
	q := DefaultQuotas
	q.SenderMessages, q.SenderBytes = 8, 1<<20 // one sender: 8 messages
	q.InboxMessages, q.InboxBytes = 1000, 6000 // all: 6 000 bytes (60 of 100)
	home := initHome(t)
	d, stop := startDaemon(t, home, nil, func(d *Daemon) { d.Quotas = q })

	one := strangers(t, d, 1)
	acked, refused := flood(t, d, "one", one, 20, 100)
	if len(acked) != 8 {
		t.Errorf("one stranger: %d of 20 messages stored, want its quota of 8", len(acked))
	}
	checkRefusals(t, refused, 12)

	many := strangers(t, d, 20)
	acked2, refused2 := flood(t, d, "many", many, 5, 100)
	acked = append(acked, acked2...)
	if len(acked) != 60 {
		t.Errorf("%d messages stored in all, want 60 (6 000 bytes of 100-byte messages)", len(acked))
	}
	checkRefusals(t, refused2, 100-60+8)
	inboxHolds(t, d, acked, q)

	// Removing a stranger's messages makes room for it again.
	var theirs [][]byte
	d.Inbox().List(func(m *Message) error {
		if strings.HasPrefix(string(m.Body), "one-") {
			theirs = append(theirs, m.Key)
		}
		return nil
	})
	if err := d.Inbox().Remove(theirs[:1]); err != nil {
		t.Fatal(err)
	}
	resp, _, err := one[0].Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindSend, Payload: []byte("room again")})
	if err != nil || resp.Status != rpc.StatusOK {
		t.Fatalf("after one of its messages was removed: %+v %v", resp, err)
	}

	// A restarted daemon counts what the inbox holds from its keys: 5 910
	// bytes, no room for 100 more.
	stop()
	d, _ = startDaemon(t, home, nil, func(d *Daemon) { d.Quotas = q })
	resp, _, err = strangers(t, d, 1)[0].Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindSend, Payload: []byte(strings.Repeat("y", 100))})
	if err != nil || resp.Status != rpc.StatusOverQuota {
		t.Fatalf("a full inbox after a restart: %+v %v", resp, err)
	}
}

// auditSize is the size of the audit log as stored: keys and values.
func auditSize(t *testing.T, d *Daemon) (size int64, records int) {
	t.Helper()
	a := d.Audit()
	a.pending.wait()
	err := a.Store.Keys(nil, func(k []byte, n int64) error {
		size += int64(len(k)) + n
		records++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return size, records
}

// TestAuditRetention: calls flooding in from one stranger and from 20 keep
// the audit log within its size, the newest records kept; records older
// than its age go when the daemon starts.
func TestAuditRetention(t *testing.T) {
	home := initHome(t)
	const max = 16 << 10
	d, stop := startDaemon(t, home, nil, func(d *Daemon) { d.Quotas.AuditBytes = max })
	call := func(c *rpc.Client, fn string) {
		resp, _, err := c.Do(context.Background(), d.ID().Public(), &rpc.Request{Kind: rpc.KindCall, Function: fn})
		if err != nil || resp.Status != rpc.StatusUnauthorized {
			t.Errorf("call %s: %+v %v", fn, resp, err)
		}
	}
	one := strangers(t, d, 1)[0]
	for range 300 {
		call(one, "nope")
	}
	var wg sync.WaitGroup
	for _, c := range strangers(t, d, 20) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				call(c, "nope")
			}
		}()
	}
	wg.Wait()
	call(one, "last")
	size, n := auditSize(t, d)
	t.Logf("after 901 calls: %d records, %d bytes (bound %d)", n, size, max)
	if size > max || n < 50 {
		t.Errorf("after 901 calls the audit log holds %d records, %d bytes: want at most %d bytes, and the newest", n, size, max)
	}
	found := false
	d.Audit().List(func(r *AuditRecord) error {
		found = found || r.Function == "last"
		return nil
	})
	if !found {
		t.Error("the newest record was dropped")
	}

	// Records past the age (written here as an older daemon would have)
	// go when the daemon starts.
	old := time.Now().Add(-31 * 24 * time.Hour)
	raw := Audit{Store: d.Chain.Side(AuditSide)}
	for i := range 10 {
		if err := raw.Add(&AuditRecord{Time: old.Add(time.Duration(i) * time.Second).UnixMicro(), Caller: d.ID().Public(), Function: "old", Outcome: rpc.StatusOK}); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	d, _ = startDaemon(t, home, nil, nil)
	d.Audit().List(func(r *AuditRecord) error {
		if r.Function == "old" {
			t.Errorf("a record of %v is still there", time.UnixMicro(r.Time))
		}
		return nil
	})
	if _, n := auditSize(t, d); n == 0 {
		t.Error("the recent records went too")
	}
}
