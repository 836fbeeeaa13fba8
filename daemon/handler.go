package daemon

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// handler is one running handler process, the leader of a process group of
// its own, with its stdin, stdout and stderr on pipes this package reads
// itself (not through exec.Cmd's copying, whose Wait also waits for every
// process still holding a pipe: a child the handler left behind).
//
// Its end is its leader's exit, whatever its children do: finish then
// kills the group and takes what the pipes hold at that moment; kill ends
// the group at a deadline, and reap waits for the leader in the background.
type handler struct {
	cmd    *exec.Cmd
	pgid   int
	exited chan struct{} // closed when the leader has exited (waitErr set)

	waitErr error
	stdout  *pipeReader
	stderr  *pipeReader
	stdin   *os.File // the daemon's end, written by a goroutine
}

// startHandler starts argv in dir with env, payload on its stdin, in a
// process group of its own. The kernel kills the leader if the daemon dies
// (Pdeathsig), and the daemon's next start ends the rest of the group
// (Functions.EndOrphans).
func startHandler(argv []string, dir string, env []string, payload []byte, out io.Writer, errOut io.Writer) (*handler, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	// The handler has its ends; the daemon keeps only its own.
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return nil, err
	}
	h := &handler{cmd: cmd, pgid: cmd.Process.Pid, exited: make(chan struct{}), stdin: inW,
		stdout: readPipe(outR, out), stderr: readPipe(errR, errOut)}
	go func() {
		// A handler that does not read its stdin, or exits first, fails
		// this write once its end is closed.
		inW.Write(payload)
		inW.Close()
	}()
	go func() {
		h.waitErr = cmd.Wait()
		close(h.exited)
	}()
	return h, nil
}

// kill ends the handler's whole process group.
func (h *handler) kill() { syscall.Kill(-h.pgid, syscall.SIGKILL) }

// finish, once the leader has exited, kills what is left of its group and
// takes what the pipes hold: what the handler wrote before it exited, and
// what its group wrote before it died. A process that left the group and
// still holds a pipe is not waited for.
func (h *handler) finish() {
	<-h.exited
	h.kill()
	h.stdin.Close()
	h.stdout.finish()
	h.stderr.finish()
}

// reap is finish for a handler killed at its deadline, whose output nobody
// reads: it returns once the leader is gone and the pipes are closed.
func (h *handler) reap() { h.finish() }

// exitStatus is how the leader ended: ok for exit status 0, else its exit
// status, or the signal that killed it (code -1).
func (h *handler) exitStatus() (code int, signal syscall.Signal, ok bool) {
	var ee *exec.ExitError
	if h.waitErr == nil {
		return 0, 0, true
	}
	if !errors.As(h.waitErr, &ee) {
		return -1, 0, false
	}
	if ws, isWS := ee.Sys().(syscall.WaitStatus); isWS && ws.Signaled() {
		return -1, ws.Signal(), false
	}
	return ee.ExitCode(), 0, false
}

// pipeReader copies a pipe to w until EOF, or until finish takes what the
// pipe holds without waiting for its writers to close it.
type pipeReader struct {
	f    *os.File
	w    io.Writer
	done chan struct{} // closed when the copy loop has stopped
}

func readPipe(f *os.File, w io.Writer) *pipeReader {
	p := &pipeReader{f: f, w: w, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			w.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	return p
}

// finish stops the copy loop (a read deadline in the past wakes it), reads
// what the pipe holds now without waiting for more, and closes it.
func (p *pipeReader) finish() {
	p.f.SetReadDeadline(time.Unix(1, 0))
	<-p.done
	p.f.SetReadDeadline(time.Time{})
	if rc, err := p.f.SyscallConn(); err == nil {
		buf := make([]byte, 32<<10)
		rc.Read(func(fd uintptr) bool {
			for {
				n, err := unix.Read(int(fd), buf)
				if n <= 0 || err != nil {
					return true // empty (EAGAIN), EOF or an error: done
				}
				p.w.Write(buf[:n])
			}
		})
	}
	p.f.Close()
}
