package daemon

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// HandlersDir is the directory of the home where the daemon notes the
// process group of each running handler (an empty file named by its ID),
// so that its next start ends those a kill -9 of the daemon left behind:
// the kernel kills each handler's leader when the daemon dies (Pdeathsig),
// but not the processes it started.
const HandlersDir = "handlers"

// noteRunning notes pgid as the group of a running handler. It is best effort
// (a full disk only loses the note).
func (f *Functions) noteRunning(pgid int) {
	dir := filepath.Join(f.Home, HandlersDir)
	name := filepath.Join(dir, strconv.Itoa(pgid))
	fh, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrNotExist) && os.Mkdir(dir, 0o700) == nil {
		fh, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
	}
	if err == nil {
		fh.Close()
	}
}

// noteEnded removes the note of a handler whose group has ended.
func (f *Functions) noteEnded(pgid int) {
	os.Remove(filepath.Join(f.Home, HandlersDir, strconv.Itoa(pgid)))
}

// EndOrphans ends what is left of the handlers a previous daemon of this
// home noted and did not see end (it was killed): every process in one
// of their process groups that has this home's handler environment
// (N2N_HOME of this home and N2N_FUNCTION; a process group ID reused since
// by an unrelated group has neither). Call it before handlers run. It
// returns how many processes it killed.
func (f *Functions) EndOrphans() (int, error) {
	dir := filepath.Join(f.Home, HandlersDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	groups := map[int]bool{}
	for _, e := range entries {
		if pgid, err := strconv.Atoi(e.Name()); err == nil && pgid > 1 {
			groups[pgid] = true
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
	if len(groups) == 0 {
		return 0, nil
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	home := []byte("N2N_HOME=" + f.Home)
	killed := 0
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if pgid, err := syscall.Getpgid(pid); err != nil || !groups[pgid] {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", p.Name(), "environ"))
		if err != nil {
			continue
		}
		vars := bytes.Split(env, []byte{0})
		hasHome, hasFunction := false, false
		for _, v := range vars {
			hasHome = hasHome || bytes.Equal(v, home)
			hasFunction = hasFunction || bytes.HasPrefix(v, []byte("N2N_FUNCTION="))
		}
		if hasHome && hasFunction && syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	return killed, nil
}
