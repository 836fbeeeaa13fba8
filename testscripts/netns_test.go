package testscripts

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// The small internet of nat.txtar, built from network namespaces: the only
// addresses are inside namespaces made here, whose names start with
// netnsPrefix and this process's pid (stale ones, whose process is gone,
// are removed before a topology is built), and every namespace is removed
// when the script ends.
//
//	              public segment 11.0.0.0/24 and "public" segment of
//	              private addresses 10.99.0.0/24, on one switch (wan)
//	pub: 11.0.0.1, 10.99.0.1 (public nodes)
//	ra:  11.0.0.2, 10.99.0.2 ── a: 192.168.1.2   NAT keeping ports
//	rb:  11.0.0.3, 10.99.0.3 ── b: 192.168.2.2   NAT keeping ports
//	rs:  11.0.0.4, 10.99.0.4 ── s: 192.168.3.2   NAT with random ports
//
// A NAT keeping ports (Linux MASQUERADE) maps an inside address and port
// to the same outside port for every destination (endpoint-independent
// mapping), so hole punching works through it; MASQUERADE --random-fully
// gives each connection a port of its own (a symmetric NAT), so it cannot.
// Each router drops unsolicited packets from outside, as home routers do.
const netnsPrefix = "n2nt-"

var (
	netnsOnce sync.Once
	netnsOK   bool
	netnsSeq  atomic.Int32
)

// netnsAvailable tells whether namespaces can be made here: root, ip and
// iptables (Debian: iproute2, iptables).
func netnsAvailable() bool {
	netnsOnce.Do(func() {
		if os.Geteuid() != 0 {
			return
		}
		for _, prog := range []string{"ip", "iptables"} {
			if _, err := exec.LookPath(prog); err != nil {
				return
			}
		}
		probe := fmt.Sprintf("%s%d-probe", netnsPrefix, os.Getpid())
		if ipCmd("netns", "add", probe) != nil {
			return
		}
		netnsOK = ipCmd("netns", "del", probe) == nil
	})
	return netnsOK
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// inNS runs prog in namespace ns.
func inNS(ns string, prog string, args ...string) error {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns, prog}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s in %s: %v: %s", prog, ns, err, out)
	}
	return nil
}

// removeNamespace kills every process in ns and removes it.
func removeNamespace(ns string) {
	if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	ipCmd("netns", "del", ns)
}

// sweepStaleNamespaces removes namespaces a run that is gone left behind.
func sweepStaleNamespaces() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, netnsPrefix)
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // its run goes on
		}
		removeNamespace(name)
	}
}

// cmdTopology builds the topology and sets $NS_PUB, $NS_A, $NS_B and $NS_S
// to the namespaces of the public nodes and of the agents behind each
// router. Everything is removed when the script ends, and if it fails.
func cmdTopology(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: topology")
	}
	sweepStaleNamespaces()
	prefix := fmt.Sprintf("%s%d-%d-", netnsPrefix, os.Getpid(), netnsSeq.Add(1))
	name := func(n string) string { return prefix + n }
	var made []string
	ts.Defer(func() {
		for i := len(made) - 1; i >= 0; i-- {
			removeNamespace(made[i])
		}
	})
	must := func(err error) {
		if err != nil {
			ts.Fatalf("topology: %v", err)
		}
	}
	for _, n := range []string{"wan", "pub", "ra", "rb", "rs", "a", "b", "s"} {
		must(ipCmd("netns", "add", name(n)))
		made = append(made, name(n))
		must(inNS(name(n), "ip", "link", "set", "lo", "up"))
	}
	must(inNS(name("wan"), "ip", "link", "add", "name", "sw0", "type", "bridge"))
	must(inNS(name("wan"), "ip", "link", "set", "sw0", "up"))
	// Each of pub and the routers has wan0 on the switch, with an address
	// on each segment.
	for i, n := range []string{"pub", "ra", "rb", "rs"} {
		port := "p" + n
		must(ipCmd("-n", name("wan"), "link", "add", port, "type", "veth", "peer", "name", "wan0", "netns", name(n)))
		must(inNS(name("wan"), "ip", "link", "set", port, "master", "sw0", "up"))
		must(inNS(name(n), "ip", "addr", "add", fmt.Sprintf("11.0.0.%d/24", i+1), "dev", "wan0"))
		must(inNS(name(n), "ip", "addr", "add", fmt.Sprintf("10.99.0.%d/24", i+1), "dev", "wan0"))
		must(inNS(name(n), "ip", "link", "set", "wan0", "up"))
	}
	for i, home := range []struct{ router, host, nat string }{
		{"ra", "a", ""}, {"rb", "b", ""}, {"rs", "s", "--random-fully"},
	} {
		lan := fmt.Sprintf("192.168.%d", i+1)
		must(ipCmd("-n", name(home.router), "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", name(home.host)))
		must(inNS(name(home.router), "ip", "addr", "add", lan+".1/24", "dev", "lan0"))
		must(inNS(name(home.router), "ip", "link", "set", "lan0", "up"))
		must(inNS(name(home.host), "ip", "addr", "add", lan+".2/24", "dev", "eth0"))
		must(inNS(name(home.host), "ip", "link", "set", "eth0", "up"))
		must(inNS(name(home.host), "ip", "route", "add", "default", "via", lan+".1"))
		must(inNS(name(home.router), "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"))
		masq := []string{"-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"}
		if home.nat != "" {
			masq = append(masq, home.nat)
		}
		must(inNS(name(home.router), "iptables", masq...))
		must(inNS(name(home.router), "iptables", "-A", "INPUT", "-i", "wan0", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP"))
	}
	for env, n := range map[string]string{"NS_PUB": "pub", "NS_A": "a", "NS_B": "b", "NS_S": "s"} {
		ts.Setenv(env, name(n))
	}
}
