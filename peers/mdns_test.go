package peers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/n2n-dev/n2n/keys"
)

// multicastInterfaces are the interfaces mDNS can use (up, multicast), as
// zeroconf chooses them.
func multicastInterfaces(t *testing.T) []string {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 && i.Flags&net.FlagMulticast != 0 {
			out = append(out, i.Name)
		}
	}
	return out
}

// runInNetns runs the test binary's tests matching run in a fresh network
// namespace (root and iproute2 needed; skipped otherwise).
func runInNetns(t *testing.T, run string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a private network namespace for multicast")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Skip("needs iproute2 (ip) to create a private network namespace for multicast")
	}
	var r [4]byte
	rand.Read(r[:])
	ns := "n2n-test-" + hex.EncodeToString(r[:])
	if out, err := exec.Command(ip, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace here: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "delete", ns).Run() })
	for _, args := range [][]string{{"-n", ns, "link", "set", "lo", "up"}, {"-n", ns, "link", "set", "lo", "multicast", "on"}} {
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	cmd := exec.Command(ip, "netns", "exec", ns, os.Args[0], "-test.run", run, "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "N2N_MDNS_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in namespace %s: %v\n%s", ns, err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestMDNS") {
		t.Fatalf("in namespace %s the test did not pass:\n%s", ns, out)
	}
}

// startMDNSServer starts a server on loopback with mDNS under service and
// no bootstrap peers.
func startMDNSServer(t *testing.T, service string) *Node {
	t.Helper()
	n, err := NewServer(context.Background(), Options{
		Identity:    genIdentity(t),
		Listen:      loopback,
		MDNS:        true,
		DialTimeout: 5 * time.Second,
		mdnsService: service,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return n
}

// TestMDNS: two servers with mDNS and no bootstrap find and connect to each
// other, fill each other's routing table, and a client bootstrapped from one
// reaches the other through the DHT. Only mDNS multicast (224.0.0.251,
// ff02::fb on this machine's interfaces) and 127.0.0.1 are used: the servers
// listen on loopback only, so that is all they advertise and dial, and the
// random service name keeps out any other n2n server on the link.
//
// Multicast must not leave this machine, so the test runs itself again in a
// network namespace it creates, whose only interface is a multicast-enabled
// loopback.
func TestMDNS(t *testing.T) {
	if os.Getenv("N2N_MDNS_NETNS") == "" {
		runInNetns(t, "^TestMDNS$")
		return
	}
	ifs := multicastInterfaces(t)
	if len(ifs) != 1 || ifs[0] != "lo" {
		t.Fatalf("in the test namespace the multicast interfaces are %v, want [lo]", ifs)
	}
	var r [8]byte
	rand.Read(r[:])
	service := "n2n-test-" + hex.EncodeToString(r[:])
	a := startMDNSServer(t, service)
	b := startMDNSServer(t, service)

	deadline := time.Now().Add(10 * time.Second)
	for !(slices.Contains(a.ConnectedAgents(), b.Agent()) && slices.Contains(b.ConnectedAgents(), a.Agent()) &&
		a.RoutingTableSize() > 0 && b.RoutingTableSize() > 0) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s over mDNS (interfaces %v): a sees %v, b sees %v, routing tables %d and %d",
				ifs, a.ConnectedAgents(), b.ConnectedAgents(), a.RoutingTableSize(), b.RoutingTableSize())
		}
		time.Sleep(signalledPoll)
	}
	for _, pair := range []struct {
		name string
		n    *Node
		want keys.PublicKey
	}{{"a", a, b.Agent()}, {"b", b, a.Agent()}} {
		if got := pair.n.ConnectedAgents(); len(got) != 1 || got[0] != pair.want {
			t.Errorf("%s is connected to %v, want only %s", pair.name, got, pair.want)
		}
	}

	c := startClient(t, a)
	if src, err := c.Connect(testCtx(t), b.Agent(), nil); err != nil || src != SourceDHT {
		t.Fatalf("client to b through a's DHT: %v, %v", src, err)
	}
}
