package testscripts

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// ttyLimit bounds one command run by tty.
const ttyLimit = time.Minute

// cmdTTY runs a command on pseudo-terminals, as a person runs it:
//
//	tty [-cols N] [-pipe stdout|stderr] [-touch FILE:REGEXP]... CODE prog args...
//	tty -ctty [-cols N] [-type TEXT:REGEXP]... CODE n2n-on-terminal args...
//
// Without -ctty, stdout and stderr are each a terminal of their own (-pipe
// makes one a pipe instead), and stdin is empty; what each received becomes
// the script's stdout and stderr, byte for byte (the terminals do not turn
// \n into \r\n). -touch creates FILE once the command's stderr matches
// REGEXP: a handler that waits for FILE then holds a call open until its
// progress has shown. With -ctty the terminal is the command's controlling
// terminal, its stdin, stdout and stderr (a session of its own; prog must
// be n2n-on-terminal): what it shows becomes the script's stdout, and
// -type types TEXT (Go escapes: \x03 is Ctrl-C) once it matches REGEXP;
// when the command has exited, the terminal's modes must be as they were
// before it (echo back on after a passphrase prompt).
// The command must exit with status CODE within ttyLimit.
func cmdTTY(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("tty", flag.ContinueOnError)
	cols := fs.Int("cols", 80, "terminal width")
	ctty := fs.Bool("ctty", false, "a controlling terminal")
	pipe := fs.String("pipe", "", "stdout or stderr: a pipe, not a terminal")
	var touches, types []ttyRule
	fs.Func("touch", "FILE:REGEXP", func(s string) error {
		return addRule(&touches, s, func(file string) (func(*ttyScreen), error) {
			path := ts.MkAbs(file)
			return func(*ttyScreen) { os.WriteFile(path, nil, 0o644) }, nil
		})
	})
	fs.Func("type", "TEXT:REGEXP", func(s string) error {
		return addRule(&types, s, func(text string) (func(*ttyScreen), error) {
			keys, err := strconv.Unquote(`"` + text + `"`)
			return func(s *ttyScreen) { s.ptm.Write([]byte(keys)) }, err
		})
	})
	if neg || fs.Parse(args) != nil || fs.NArg() < 2 {
		ts.Fatalf("usage: tty [-cols N] [-ctty] [-pipe stdout|stderr] [-touch FILE:REGEXP] [-type TEXT:REGEXP] CODE prog [args...]")
	}
	want, err := strconv.Atoi(fs.Arg(0))
	ts.Check(err)
	path, err := exec.LookPath(fs.Arg(1))
	ts.Check(err)

	ctx, cancel := context.WithTimeout(context.Background(), ttyLimit)
	defer cancel()
	c := exec.CommandContext(ctx, path, fs.Args()[2:]...)
	c.Dir = ts.Getenv("WORK")
	c.Env = scriptEnv(ts)
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 5 * time.Second

	var screens []*ttyScreen
	open := func(rules []ttyRule) *ttyScreen {
		s, err := newScreen(*cols, rules)
		ts.Check(err)
		screens = append(screens, s)
		return s
	}
	var out, errs *ttyScreen
	var stdout, stderr bytes.Buffer
	var modes *unix.Termios
	if *ctty {
		out = open(types)
		modes, err = unix.IoctlGetTermios(int(out.ptm.Fd()), unix.TCGETS)
		ts.Check(err)
		c.Stdin, c.Stdout, c.Stderr = out.pts, out.pts, out.pts
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.Stdout, c.Stderr = &stdout, &stderr
		if *pipe != "stdout" {
			out = open(nil)
			c.Stdout = out.pts
		}
		if *pipe != "stderr" {
			errs = open(touches)
			c.Stderr = errs.pts
		}
	}
	ts.Check(c.Start())
	for _, s := range screens {
		s.start()
	}
	err = c.Wait()
	if modes != nil {
		after, terr := unix.IoctlGetTermios(int(out.ptm.Fd()), unix.TCGETS)
		ts.Check(terr)
		if after.Lflag != modes.Lflag || after.Iflag != modes.Iflag {
			ts.Fatalf("tty: the command left the terminal's modes changed (lflag %#x, was %#x)", after.Lflag, modes.Lflag)
		}
	}
	for _, s := range screens {
		s.finish()
	}
	if out != nil {
		stdout.Write(out.bytes())
	}
	if errs != nil {
		stderr.Write(errs.bytes())
	}
	ts.Stdout().Write(stdout.Bytes())
	ts.Stderr().Write(stderr.Bytes())
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("tty: %v", err)
	}
	for _, s := range screens {
		for _, r := range s.rules {
			if !r.done {
				ts.Fatalf("tty: %q never appeared", r.re)
			}
		}
	}
	if got != want {
		ts.Logf("stdout: %q\nstderr: %q", stdout.String(), stderr.String())
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// ttyRule is an action taken once a terminal shows text matching re.
type ttyRule struct {
	re   *regexp.Regexp
	do   func(*ttyScreen)
	done bool
}

// addRule parses ARG:REGEXP and adds the rule that does action(ARG).
func addRule(rules *[]ttyRule, s string, action func(arg string) (func(*ttyScreen), error)) error {
	arg, expr, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("want ARG:REGEXP")
	}
	re, err := regexp.Compile("(?m)" + expr)
	if err != nil {
		return err
	}
	do, err := action(arg)
	if err != nil {
		return err
	}
	*rules = append(*rules, ttyRule{re: re, do: do})
	return nil
}

// ttyScreen is the master side of one pseudo-terminal and what came out of
// it.
type ttyScreen struct {
	ptm, pts *os.File
	rules    []ttyRule
	done     chan struct{}

	mu  sync.Mutex
	got []byte
}

// newScreen opens a pseudo-terminal cols wide that passes bytes as they
// are written (no \n to \r\n), to give a command as s.pts.
func newScreen(cols int, rules []ttyRule) (*ttyScreen, error) {
	ptm, pts, err := pty.Open()
	if err != nil {
		return nil, err
	}
	s := &ttyScreen{ptm: ptm, pts: pts, rules: rules, done: make(chan struct{})}
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 24, Cols: uint16(cols)}); err != nil {
		s.close()
		return nil, err
	}
	tio, err := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
	if err == nil {
		tio.Oflag &^= unix.OPOST
		err = unix.IoctlSetTermios(int(pts.Fd()), unix.TCSETS, tio)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *ttyScreen) close() {
	s.ptm.Close()
	s.pts.Close()
}

// start lets go of the command's side (started with it) and gathers what
// the terminal shows.
func (s *ttyScreen) start() {
	s.pts.Close()
	go s.read()
}

// finish, once the command has exited, takes what came and closes the
// terminal.
func (s *ttyScreen) finish() {
	select { // a grandchild may hold the terminal: take what came
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
	s.ptm.Close()
	<-s.done
}

func (s *ttyScreen) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.got...)
}

// read gathers what the terminal shows until no one holds its other side,
// and applies the rules as their text appears.
func (s *ttyScreen) read() {
	defer close(s.done)
	b := make([]byte, 4096)
	for {
		n, err := s.ptm.Read(b)
		if n > 0 {
			s.mu.Lock()
			s.got = append(s.got, b[:n]...)
			got := append([]byte(nil), s.got...)
			s.mu.Unlock()
			for i := range s.rules {
				if r := &s.rules[i]; !r.done && r.re.Match(got) {
					r.done = true
					r.do(s)
				}
			}
		}
		if err != nil { // EIO once every holder of the terminal is gone
			return
		}
	}
}

// scriptEnv is the environment the script gives its commands: the test's,
// without what would change n2n's behaviour, and the script's variables
// that n2n and handlers read.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "N2N_") && !strings.HasPrefix(kv, "NO_COLOR=") && !strings.HasPrefix(kv, "TERM=") {
			env = append(env, kv)
		}
	}
	for _, k := range []string{"N2N_HOME", "N2N_PASSPHRASE", "N2N_DEBUG", "HOME", "NO_COLOR", "TERM", "PATH", "WORK", "TMPDIR"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
