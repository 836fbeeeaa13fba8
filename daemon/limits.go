package daemon

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/n2n-dev/n2n/keys"
)

// Limits bound what other agents can make the daemon spend before any
// capability is checked (LIMITS in the man page). Every agent is counted by its key:
// a session's libp2p peer is its Noise agent (rpc insists), so sessions and
// handshakes are counted by the peer that opens the stream, before the
// handshake is spent on it.
type Limits struct {
	// Memory bounds the bytes that all callers' requests hold: each frame
	// as it arrives, then its request until it is answered (rpc.Budget),
	// past 64 KiB per session. Over it, the session is answered busy.
	Memory int
	// AgentMemory is the part of Memory one caller agent may hold.
	AgentMemory int
	// Sessions bounds the sessions served at once; AgentSessions those of
	// one agent. A stream over either is reset as busy before its
	// handshake.
	Sessions, AgentSessions int
	// Handshakes is how many sessions a second one agent may open,
	// sustained, in bursts of up to HandshakeBurst; over it, a stream is
	// reset as busy before its handshake.
	Handshakes     float64
	HandshakeBurst int
}

// DefaultLimits are a daemon's limits unless set otherwise: 96 MiB for
// requests in progress (32 MiB per agent: a 16 MiB request and the next
// ones on its session), 512 sessions (16 per agent), 50 new sessions a
// second per agent in bursts of 100. Each session holds up to ~128 KiB
// outside the budget (its floor, and a Noise message buffer), so strangers
// can make the daemon hold at most ~160 MiB over its own ~35 MiB.
var DefaultLimits = Limits{
	Memory: 96 << 20, AgentMemory: 32 << 20,
	Sessions: 512, AgentSessions: 16,
	Handshakes: 50, HandshakeBurst: 100,
}

// MemoryLimit is the soft limit for the Go heap of a daemon with these
// limits (runtime/debug.SetMemoryLimit): what strangers can make it hold
// and its own, so that the garbage collector works harder near it rather
// than let the heap grow to twice what is live (GOGC) under an attack.
func (l Limits) MemoryLimit() int64 {
	return int64(l.Memory) + int64(l.Sessions)*128<<10 + 32<<20
}

// admission counts what each agent holds of the limits: memory (it is the
// endpoint's rpc.Budget) and sessions, and paces its handshakes. Safe for
// concurrent use.
type admission struct {
	mu       sync.Mutex
	limits   Limits
	memory   int // bytes held by all agents
	sessions int // sessions served
	refused  int // sessions refused, ever
	agents   map[keys.PublicKey]*agentUse
}

// agentUse is one agent's share. An entry goes once it holds nothing and
// its handshake bucket is full again (prune).
type agentUse struct {
	memory     int
	sessions   int
	handshakes *rate.Limiter
}

func newAdmission(l Limits) *admission {
	return &admission{limits: l, agents: map[keys.PublicKey]*agentUse{}}
}

// use is agent's entry, made if need be (under a.mu).
func (a *admission) use(agent keys.PublicKey) *agentUse {
	u := a.agents[agent]
	if u == nil {
		if len(a.agents) >= 2*a.limits.Sessions {
			a.prune()
		}
		u = &agentUse{handshakes: rate.NewLimiter(rate.Limit(a.limits.Handshakes), a.limits.HandshakeBurst)}
		a.agents[agent] = u
	}
	return u
}

// prune drops the entries of agents that hold nothing and could open a
// full burst of sessions again: forgetting them changes nothing.
func (a *admission) prune() {
	now := time.Now()
	for k, u := range a.agents {
		if u.memory == 0 && u.sessions == 0 && u.handshakes.TokensAt(now) >= float64(a.limits.HandshakeBurst) {
			delete(a.agents, k)
		}
	}
}

// Reserve takes n bytes for agent's requests, within both budgets
// (rpc.Budget).
func (a *admission) Reserve(agent keys.PublicKey, n int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.use(agent)
	if a.memory+n > a.limits.Memory || u.memory+n > a.limits.AgentMemory {
		return false
	}
	a.memory += n
	u.memory += n
	return true
}

// Release gives back n bytes of agent's (rpc.Budget).
func (a *admission) Release(agent keys.PublicKey, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.use(agent)
	a.memory -= n
	u.memory -= n
}

// Why a session was refused.
const (
	refusedSessions   = "too many sessions"
	refusedHandshakes = "too many handshakes a second"
)

// enter admits a session of agent, or says why not. A session admitted
// must leave.
func (a *admission) enter(agent keys.PublicKey) (refused string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u := a.use(agent)
	switch {
	case a.sessions >= a.limits.Sessions || u.sessions >= a.limits.AgentSessions:
		a.refused++
		return refusedSessions
	case !u.handshakes.Allow():
		a.refused++
		return refusedHandshakes
	}
	a.sessions++
	u.sessions++
	return ""
}

// leave ends a session that enter admitted.
func (a *admission) leave(agent keys.PublicKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions--
	a.use(agent).sessions--
}

// counts are the sessions served and the bytes their requests hold.
func (a *admission) counts() (sessions, memory int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions, a.memory
}
