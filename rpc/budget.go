package rpc

import (
	"errors"
	"sync"

	"github.com/n2n-dev/n2n/keys"
)

// Budget bounds the memory that other agents' requests hold in the
// sessions an Endpoint serves (Endpoint.Budget): the bytes of each frame
// as they arrive, then of the request it carries until it is answered,
// counted per caller agent and in all. The daemon gives one. Safe for
// concurrent use.
type Budget interface {
	// Reserve takes n more bytes for caller's requests; false, taking
	// nothing, when that would put caller or all callers over the budget.
	Reserve(caller keys.PublicKey, n int) bool
	// Release gives back n bytes that Reserve took for caller.
	Release(caller keys.PublicKey, n int)
}

// sessionFloor is what one session's requests may hold without asking the
// Budget: a frame that fits one transport message, or a few. So a small
// request (a ping, a short call) is never refused because other sessions
// hold the budget; what sessions hold below it is bounded by how many
// sessions the daemon admits.
const sessionFloor = 64 << 10

// errOverBudget: a frame could not grow within the budget. The session
// answers busy and ends.
var errOverBudget = errors.New("over the memory budget for requests in progress")

// sessionMemory counts the bytes a served session holds for its caller: the
// frame being read and the requests in progress. Past sessionFloor, each
// byte is reserved from the Budget first. It is the session's
// noiseproto.ReadMonitor for memory (Grow). Safe for concurrent use.
type sessionMemory struct {
	budget Budget // nil: counted, not bounded
	caller keys.PublicKey

	mu      sync.Mutex
	held    int // the frame being read and the requests in progress
	reading int // of which the frame being read
}

// Grow reserves n more bytes for the frame being read
// (noiseproto.ReadMonitor).
func (m *sessionMemory) Grow(n int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if over := overFloor(m.held+n) - overFloor(m.held); over > 0 && m.budget != nil && !m.budget.Reserve(m.caller, over) {
		return errOverBudget
	}
	m.held += n
	m.reading += n
	return nil
}

// take hands the bytes of the frame just read to the request it carries:
// it returns them, for release once the request is answered.
func (m *sessionMemory) take() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.reading
	m.reading = 0
	return n
}

// drop releases the frame whose read failed.
func (m *sessionMemory) drop() { m.release(m.take()) }

// release gives back n bytes of a request answered (or refused).
func (m *sessionMemory) release(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	back := overFloor(m.held) - overFloor(m.held-n)
	m.held -= n
	if back > 0 && m.budget != nil {
		m.budget.Release(m.caller, back)
	}
}

// overFloor is the part of held bytes that the Budget holds.
func overFloor(held int) int { return max(0, held-sessionFloor) }
