package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/n2n-dev/n2n/caps"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/rpc"
)

// ValidFunctionName reports whether name is a function name users may define
// ("n2n." names are reserved for built-ins).
func ValidFunctionName(name string) bool {
	return name != caps.ReceiveClaim && caps.ValidFunction(name)
}

// Functions finds and runs function handlers (FUNCTION HANDLERS in the man page): executables in a
// directory, or commands given to serve --fn. At most Limit run at once.
type Functions struct {
	Dir   string            // <home>/functions
	Fixed map[string]string // name → shell command (serve --fn)
	Home  string            // N2N_HOME for handlers
	Env   []string          // the daemon's environment, secrets removed

	sem chan struct{}
}

// NewFunctions returns a runner allowing limit handlers at once.
func NewFunctions(home string, fixed map[string]string, limit int, env []string) *Functions {
	if limit < 1 {
		limit = 1
	}
	var clean []string
	for _, kv := range env {
		// The passphrase never reaches a handler; N2N_* describing the call
		// are set per call below.
		if strings.HasPrefix(kv, "N2N_") {
			continue
		}
		clean = append(clean, kv)
	}
	return &Functions{Dir: filepath.Join(home, "functions"), Fixed: fixed, Home: home, Env: clean, sem: make(chan struct{}, limit)}
}

// Has reports whether a function of this name exists and can run.
func (f *Functions) Has(name string) bool {
	_, err := f.command(name)
	return err == nil
}

// What command finds instead of a function to run: no function of that
// name (not_found), or a file of that name that cannot be run (the callee's
// owner has something to fix: handler_error).
var (
	errNoFunction    = errors.New("no function")
	errNotExecutable = errors.New("not executable")
)

func (f *Functions) command(name string) ([]string, error) {
	if !ValidFunctionName(name) {
		return nil, errNoFunction
	}
	if c, ok := f.Fixed[name]; ok {
		if argv, plain := plainCommand(c); plain {
			return argv, nil // what the shell would run, without the shell
		}
		return []string{"/bin/sh", "-c", c}, nil
	}
	p := filepath.Join(f.Dir, name)
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errNoFunction
	case err != nil, !fi.Mode().IsRegular(), fi.Mode()&0o111 == 0:
		return nil, errNotExecutable
	}
	return []string{p}, nil
}

// plainCommand splits a --fn command into its words when the shell would do
// nothing else with it (no quoting, expansion, redirection or operators), so
// it can be run without starting /bin/sh first.
func plainCommand(c string) ([]string, bool) {
	for _, r := range c {
		if !(r == ' ' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./,:+-@%", r)) {
			return nil, false
		}
	}
	argv := strings.Fields(c)
	if len(argv) == 0 || strings.ContainsRune(argv[0], '=') {
		return nil, false
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, false // let the shell say it is missing
	}
	argv[0] = path
	return argv, true
}

// Invocation describes one call of a handler.
type Invocation struct {
	Function string
	Caller   keys.PublicKey
	Access   string // author|unrestricted|transferable|assigned
	Grant    string // grant ID, empty for author and built-in access
	Tag      string
	Payload  []byte
}

// stderrTail is how much of a failing handler's stderr goes back to the caller.
const stderrTail = 2 << 10

// Run runs the handler for inv until it exits or ctx ends, and returns the
// response: its stdout (ok), the tail of its stderr (handler_error), busy
// when Limit handlers are already running, timeout when ctx ended first (the
// handler's whole process group is killed).
func (f *Functions) Run(ctx context.Context, inv *Invocation) rpc.Response {
	argv, err := f.command(inv.Function)
	switch {
	case errors.Is(err, errNotExecutable):
		return rpc.Response{Status: rpc.StatusHandlerError, Error: fmt.Sprintf("function %s exists but is not an executable file", inv.Function)}
	case err != nil:
		return rpc.Response{Status: rpc.StatusNotFound, Error: fmt.Sprintf("no function %q", inv.Function)}
	}
	select {
	case f.sem <- struct{}{}: // released once the handler's group is killed
	default:
		return rpc.Response{Status: rpc.StatusBusy, Error: "callee busy: too many calls at once, try again"}
	}
	env := append(append([]string{}, f.Env...),
		"N2N_HOME="+f.Home,
		"N2N_CALLER="+inv.Caller.String(),
		"N2N_FUNCTION="+inv.Function,
		"N2N_ACCESS="+inv.Access,
		"N2N_GRANT="+inv.Grant,
		"N2N_TAG="+inv.Tag,
	)
	stdout := &limitedBuffer{limit: rpc.MaxPayload}
	stderr := &tailBuffer{}
	h, err := startHandler(argv, f.Home, env, inv.Payload, stdout, stderr)
	if err != nil {
		<-f.sem
		return rpc.Response{Status: rpc.StatusHandlerError, Error: fmt.Sprintf("function %s could not start", inv.Function)}
	}
	f.noteRunning(h.pgid)
	select {
	case <-h.exited:
	case <-ctx.Done():
		// Answer now; the group is killed, and what is left of it (a child
		// that left the group and holds a pipe) is not waited for.
		h.kill()
		<-f.sem
		go func() {
			h.reap()
			f.noteEnded(h.pgid)
		}()
		return rpc.Response{Status: rpc.StatusTimeout, Error: fmt.Sprintf("function %s did not answer before the deadline", inv.Function)}
	}
	h.finish() // children it left behind do not outlive the call
	f.noteEnded(h.pgid)
	<-f.sem
	if stdout.over {
		return rpc.Response{Status: rpc.StatusHandlerError, Error: "reply over the payload limit"}
	}
	code, sig, ok := h.exitStatus()
	if ok {
		return rpc.Response{Status: rpc.StatusOK, Payload: stdout.Bytes()}
	}
	msg := strings.TrimSpace(stderr.String())
	switch {
	case msg != "":
	case sig != 0:
		msg = fmt.Sprintf("function %s was killed by signal %d (%v)", inv.Function, int(sig), sig)
	default:
		msg = fmt.Sprintf("function %s exited with status %d", inv.Function, code)
	}
	return rpc.Response{Status: rpc.StatusHandlerError, Error: msg}
}

type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		b.over = true
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// tailBuffer keeps the last stderrTail bytes written, starting at a line.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*stderrTail {
		t.b = append([]byte{}, t.b[len(t.b)-stderrTail:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	b := t.b
	if len(b) > stderrTail {
		b = b[len(b)-stderrTail:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
