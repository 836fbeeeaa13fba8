package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// DefaultConcurrency is how many handlers run at once by default.
const DefaultConcurrency = 16

// Daemon is the conductor (n2n serve): it owns the open home and the warm
// node, answers other agents, runs handlers and keeps the inbox. Make it
// with New.
type Daemon struct {
	Chain     *chain.Chain
	Node      *peers.Node
	Functions *Functions
	Events    Events
	// Limits bound what other agents can make the daemon spend; New sets
	// DefaultLimits. Set before Start.
	Limits Limits
	// Policy says who may write into the home: messages and delivered
	// claims (policy.go). New sets DefaultPolicy.
	Policy Policy
	// Quotas bound what others can make the daemon keep: the inbox, the
	// audit log, claims from strangers and pending claims. New sets
	// DefaultQuotas. Set both before Start.
	Quotas Quotas
	// Debug receives one line per dropped or refused session; nil discards
	// them.
	Debug func(format string, args ...any)
	// Warn receives the problems the owner must act on while the daemon
	// goes on: a grant that failed its integrity check (once per action),
	// writes refused for lack of space (once until a write succeeds again).
	// nil discards them.
	Warn func(err error)

	endpoint  *rpc.Endpoint // serves sessions; its clients are the daemon's (Client)
	admission *admission    // made by Start from Limits

	mu       sync.Mutex
	stopping bool
	wg       sync.WaitGroup

	inboxOnce   sync.Once
	inboxWriter *groupWriter // stores messages arriving together in one write
	auditOnce   sync.Once
	auditWriter *groupWriter
	auditing    pendingWrites // audit records being written
	retention   *auditRetention
	inboxUse    inboxUse
	claimMu     sync.Mutex // serializes receive_claim: its quotas are read, then written
	claimRate   strangerClaims
	receiptOnce sync.Once
	receipt     []byte // the reply to a message stored in the inbox

	warnMu sync.Mutex
	warned map[uint64]bool // seqs of actions that failed an integrity check, warned of
	space  spaceWatch      // writes refused for lack of space
}

// New returns the daemon of the open home c on node, running handlers with
// fns.
func New(c *chain.Chain, node *peers.Node, fns *Functions) *Daemon {
	book := &peers.AddrBook{Store: c.Side(peers.BookSide)}
	return &Daemon{Chain: c, Node: node, Functions: fns, Limits: DefaultLimits, Policy: DefaultPolicy, Quotas: DefaultQuotas,
		endpoint: &rpc.Endpoint{ID: c.Identity(), Node: node, Book: book}}
}

// ID is the daemon's identity.
func (d *Daemon) ID() *keys.Identity { return d.Chain.Identity() }

// Inbox is the home's inbox.
func (d *Daemon) Inbox() Inbox {
	side := d.Chain.Side(InboxSide)
	d.inboxOnce.Do(func() { d.inboxWriter = newGroupWriter(side) })
	return Inbox{Store: side, home: d.Chain, writer: d.inboxWriter, use: &d.inboxUse}
}

// Audit is the home's audit log of incoming calls.
func (d *Daemon) Audit() Audit {
	side := d.Chain.Side(AuditSide)
	d.auditOnce.Do(func() {
		d.auditWriter = newGroupWriter(side)
		d.retention = &auditRetention{maxAge: d.Quotas.AuditAge, maxBytes: d.Quotas.AuditBytes}
	})
	return Audit{Store: side, writer: d.auditWriter, pending: &d.auditing, retention: d.retention}
}

// Contacts are the home's contacts, whom Policy may favour.
func (d *Daemon) Contacts() peers.Contacts {
	return peers.Contacts{Store: d.Chain.Side(peers.ContactsSide)}
}

// Book is the home's address book, the one the daemon's clients use.
func (d *Daemon) Book() *peers.AddrBook { return d.endpoint.Book }

// Client is a client over the daemon's warm node: it shares the daemon's
// static key and the sessions it keeps with other agents.
func (d *Daemon) Client(dialTimeout, timeout time.Duration) *rpc.Client {
	return d.endpoint.Client(dialTimeout, timeout)
}

// ZeroKeys zeroes the Noise static key pair the daemon made from its
// identity for its sessions, and ends the sessions its clients keep; a
// later session makes it again. It is safe while sessions run.
func (d *Daemon) ZeroKeys() { d.endpoint.ZeroKeys() }

// Start answers /n2n/1.0.0 streams until ctx ends, each session's requests
// with Dispatch, within d.Limits: a stream over the sessions or handshakes
// an agent may have is reset as busy before its handshake, and the
// sessions' requests in progress hold memory within the budgets. Wait
// waits for the sessions in progress. It first drops, in the background,
// audit records past Quotas.
func (d *Daemon) Start(ctx context.Context) {
	d.admission = newAdmission(d.Limits)
	d.endpoint.Budget = d.admission
	a := d.Audit()
	d.auditing.add()
	go func() {
		defer d.auditing.done()
		if err := a.retention.trim(a.Store, time.Now()); err != nil && d.Debug != nil {
			d.Debug("audit log: %v", err)
		}
	}()
	d.Node.Handle(func(st peers.Stream) {
		d.mu.Lock()
		if d.stopping {
			d.mu.Unlock()
			st.Reset()
			return
		}
		d.wg.Add(1)
		d.mu.Unlock()
		defer d.wg.Done()
		agent := st.RemoteAgent()
		if why := d.admission.enter(agent); why != "" {
			st.ResetBusy()
			if d.Debug != nil {
				d.Debug("session from %s refused: %s", agent, why)
			}
			return
		}
		defer d.admission.leave(agent)
		defer st.Close()
		err := d.endpoint.Serve(ctx, st, d)
		if err != nil && d.Debug != nil {
			d.Debug("session from %s dropped: %v", agent, err)
		}
	})
}

// Sessions is how many sessions of other agents the daemon serves now, and
// the bytes their requests in progress hold (within Limits.Memory).
func (d *Daemon) Sessions() (sessions, memory int) {
	if d.admission == nil {
		return 0, 0
	}
	return d.admission.counts()
}

// Wait stops taking new sessions, waits until every session in progress
// has ended (their requests answered, once the context given to Start has
// ended) and every audit record is written, ends the sessions of its
// clients, and zeroes the daemon's static key.
func (d *Daemon) Wait() {
	d.Node.Handle(nil)
	d.mu.Lock()
	d.stopping = true // a stream already being handed over is refused
	d.mu.Unlock()
	d.wg.Wait()
	d.auditing.wait()
	d.endpoint.Close()
	d.ZeroKeys()
}

// storeFailed is the answer when the home could not be read or written
// for a message or a claim (what): no_space when its filesystem is too full
// (space), else handler_error; the cause goes to the debug log, not to
// the caller.
func (d *Daemon) storeFailed(what string, err error) rpc.Response {
	if d.space.refused(err, d.Warn) {
		return noSpaceResponse
	}
	if d.Debug != nil {
		d.Debug("storing a %s: %v", what, err)
	}
	return rpc.Response{Status: rpc.StatusHandlerError, Error: "the " + what + " could not be stored"}
}
