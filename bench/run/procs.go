package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// procs are the background processes the runner started; each is stopped
// by its PID (SIGTERM, then SIGKILL after a grace period), never by name.
type procs struct {
	list []*bgProc
}

type bgProc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start runs argv in the background with its output in logDir/name.log.
func (p *procs) start(name, logDir string, argv []string, env []string) (*bgProc, error) {
	logPath := filepath.Join(logDir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	bp := &bgProc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); close(bp.done) }()
	p.list = append(p.list, bp)
	return bp, nil
}

func (bp *bgProc) exited() bool {
	select {
	case <-bp.done:
		return true
	default:
		return false
	}
}

// tail is the end of the process's log, for error messages.
func (bp *bgProc) tail() string {
	b, _ := os.ReadFile(bp.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " / ")
}

// stop ends the process by its PID: SIGTERM, then SIGKILL after grace.
func (bp *bgProc) stop(grace time.Duration) {
	if bp.exited() {
		return
	}
	bp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-bp.done:
	case <-time.After(grace):
		bp.cmd.Process.Kill()
		<-bp.done
	}
}

// stopAll stops every process still running, newest first.
func (p *procs) stopAll() {
	for i := len(p.list) - 1; i >= 0; i-- {
		p.list[i].stop(5 * time.Second)
	}
	p.list = nil
}

// waitFile waits until path is a unix socket or a file that is not empty
// (whose content it returns), or the process dies, or the timeout passes.
func waitFile(ctx context.Context, path string, bp *bgProc, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return nil, nil // a unix socket: there is all we wait for
		}
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b, nil
		}
		if bp != nil && bp.exited() {
			return nil, fmt.Errorf("%s exited: %s", bp.name, bp.tail())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	if bp != nil {
		return nil, fmt.Errorf("%s: no %s after %s: %s", bp.name, filepath.Base(path), timeout, bp.tail())
	}
	return nil, errors.New("timed out waiting for " + path)
}
