package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Every whole-process command line the suite times is built in this file:
// a metric's command is one place to change.

// payload is the 100 B request of P1 and P2. It is printable so that it can
// be a command-line argument, and every responder echoes it.
var payload = strings.Repeat("0123456789", 10)

// n2nRequest is one 100 B request from the agent of home to the callee,
// its reply printed: `n2n call --to CALLEE echo PAYLOAD` (the callee serves
// echo=cat, so the reply is the payload).
func (h *harness) n2nRequest(home string) invocation {
	return invocation{argv: append([]string{h.n2n}, h.n2nRequestArgs(home)...), want: []byte(payload)}
}

func (h *harness) n2nRequestArgs(home string) []string {
	return []string{"--home", home, "call", "--to", h.calleeID, "echo", payload}
}

// n2nLines is P4's whole-process figure: `n2n send --lines CALLEE` with
// n messages of 100 B on stdin; the callee has no receive function, so each
// goes to its inbox before its receipt.
func (h *harness) n2nLines(home string, n int) invocation {
	lines := strings.Repeat(payload+"\n", n)
	return invocation{argv: []string{h.n2n, "--home", home, "send", "--lines", h.calleeID}, stdin: []byte(lines)}
}

// n2nPing is P1's path without the handler: a one-shot ping of the callee.
func (h *harness) n2nPing(home string) invocation {
	return invocation{argv: []string{h.n2n, "--home", home, "ping", "-c", "1", h.calleeID}}
}

// calleeServe is the callee's daemon: loopback only, its address written
// to addrFile, the function the requests run (it echoes stdin), and an inbox
// with room for every message P4 sends from one sender (the default quota
// keeps 1 000).
func (h *harness) calleeServe(home, addrFile string) []string {
	return []string{h.n2n, "--home", home, "serve", "--listen", "/ip4/127.0.0.1/tcp/0", "--addr-file", addrFile,
		"--fn", "echo=cat", "--inbox-max-messages", "1000000", "--inbox-sender-max-messages", "1000000"}
}

// callerServe is the caller's own daemon, for P2.
func (h *harness) callerServe(home, addrFile string) []string {
	return []string{h.n2n, "--home", home, "serve", "--listen", "/ip4/127.0.0.1/tcp/0", "--addr-file", addrFile}
}

// callSetup are the commands that let the caller call echo on the callee:
// an unrestricted grant of echo, committed through the callee's daemon.
func (h *harness) callSetup(calleeHome string) [][]string {
	return [][]string{{h.n2n, "--home", calleeHome, "grant", "--unrestricted", "echo"}}
}

// floorOneShot is P1's floor: a fresh process that dials, opens a stream,
// runs IK and makes one 100 B request/reply (bench/floor/ikclient).
func (h *harness) floorOneShot() invocation {
	return invocation{argv: []string{h.binPath("ikclient"), h.floorAddr, h.floorAgent, payload}, want: []byte(payload)}
}

// floorDaemon is P2's floor: the thin client asking the floor daemon
// (bench/floor/sockd, which holds a warm connection) for the same request.
func (h *harness) floorDaemon() invocation {
	return invocation{argv: []string{h.binPath("sockclient"), h.sockdSock, "n2n", payload}, want: []byte(payload)}
}

// thinToN2N is the thin client sending n2nRequest's command line to the
// caller's own n2n daemon: what a small front binary would cost (P2).
func (h *harness) thinToN2N(home string) invocation {
	argv := append([]string{h.binPath("sockclient"), filepath.Join(home, "n2n.sock"), "n2n"}, h.n2nRequestArgs(home)...)
	return invocation{argv: argv, want: []byte(payload)}
}

// sshCold and sshMaster are the anchor: the payload on stdin to a forced
// command="cat", with a new connection each time or through a
// ControlMaster (bench/ssh/anchor.sh writes the config).
func (h *harness) sshCold() invocation   { return h.ssh("cold") }
func (h *harness) sshMaster() invocation { return h.ssh("master") }

func (h *harness) ssh(host string) invocation {
	return invocation{argv: []string{"ssh", "-F", filepath.Join(h.sshDir, "ssh_config"), host},
		stdin: []byte(payload), want: []byte(payload)}
}

// coldLocal is a cold local command on a home with no daemon (P10).
func (h *harness) coldLocal(home string, args ...string) invocation {
	return invocation{argv: append([]string{h.n2n, "--home", home}, args...)}
}

// nop is the process floor: a trivial static Go binary.
func (h *harness) nop() invocation { return invocation{argv: []string{h.binPath("nop")}} }

// commit is P11's one-shot writing command, the i-th of the series.
func (h *harness) commit(home string, i int) invocation {
	return invocation{argv: []string{h.n2n, "--home", home, "commit", "--type", "bench", fmt.Sprintf("entry %d", i)}}
}

// initHome makes a home without a passphrase.
func (h *harness) initHome(home string) invocation {
	return invocation{argv: []string{h.n2n, "--home", home, "init", "--no-passphrase"}}
}

// peersAdd caches the callee's address in home's address book.
func (h *harness) peersAdd(home, addr string) invocation {
	return invocation{argv: []string{h.n2n, "--home", home, "peers", "add", h.calleeID, addr}}
}

// n2nUnreachable is P12's and P13's command: a one-shot `n2n send` to an
// agent that cannot be reached, bootstrapped from the DHT of dhtnet; it
// must exit 5.
func (h *harness) n2nUnreachable(home, boot, agent string) invocation {
	return invocation{argv: []string{h.n2n, "--home", home, "--bootstrap", boot, "send", agent, "hi"}, wantExit: 5}
}

// idleServe is P14's daemon: loopback TCP and QUIC, nobody to bootstrap from.
func (h *harness) idleServe(home, addrFile string) []string {
	return []string{h.n2n, "--home", home, "serve", "--listen", "/ip4/127.0.0.1/tcp/0",
		"--listen", "/ip4/127.0.0.1/udp/0/quic-v1", "--addr-file", addrFile}
}
