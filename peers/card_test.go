package peers

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/multiformats/go-multiaddr"

	"github.com/n2n-dev/n2n/internal/detcbor"
	"github.com/n2n-dev/n2n/keys"
)

const bootAddr = "/ip4/11.0.0.1/tcp/4001/p2p/12D3KooWT193bj5YDkrtevr7Y7XwyKdo1G132iV9ixPgM9wFYW6U"

func sampleCard(t testing.TB) Card {
	t.Helper()
	agent := genIdentity(t).Public()
	own := []multiaddr.Multiaddr{
		multiaddr.StringCast("/ip4/11.0.0.7/tcp/4001/p2p/" + agent.PeerID()),
		multiaddr.StringCast("/ip4/11.0.0.1/tcp/4001/p2p/12D3KooWT193bj5YDkrtevr7Y7XwyKdo1G132iV9ixPgM9wFYW6U/p2p-circuit"),
	}
	c, err := NewCard(agent, own, []string{bootAddr})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCardRoundTrip: a card's text parses back to the card, and Split
// tells the agent's own addresses (without /p2p/) from its bootstrap
// nodes'.
func TestCardRoundTrip(t *testing.T) {
	c := sampleCard(t)
	text := EncodeCard(c)
	if !strings.HasPrefix(text, "n2ncard1") {
		t.Fatalf("text %q", text)
	}
	got, err := ParseCard(" " + text + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if got.Agent != c.Agent || EncodeCard(got) != text {
		t.Fatalf("round trip: %+v, want %+v", got, c)
	}
	own, boot := got.Split()
	wantOwn := []string{"/ip4/11.0.0.7/tcp/4001", "/ip4/11.0.0.1/tcp/4001/p2p/12D3KooWT193bj5YDkrtevr7Y7XwyKdo1G132iV9ixPgM9wFYW6U/p2p-circuit"}
	var ownText []string
	for _, a := range own {
		ownText = append(ownText, a.String())
	}
	slices.Sort(ownText)
	slices.Sort(wantOwn)
	if !slices.Equal(ownText, wantOwn) || !slices.Equal(boot, []string{bootAddr}) {
		t.Fatalf("split: own %v, boot %v", ownText, boot)
	}
}

// TestCardByHand: the text is the prefix and the checked form of the CBOR
// map {1: key, 2: [addresses]}, written here without the package's
// encoder.
func TestCardByHand(t *testing.T) {
	agent := genIdentity(t).Public()
	a := multiaddr.StringCast(bootAddr)
	body := append([]byte{0xa2, 0x01, 0x58, 0x20}, agent[:]...)
	body = append(body, 0x02, 0x81, 0x58, byte(len(a.Bytes())))
	body = append(body, a.Bytes()...)
	c, err := ParseCard(keys.EncodeChecked("n2ncard1", body))
	if err != nil {
		t.Fatal(err)
	}
	if c.Agent != agent || len(c.Addrs) != 1 || c.Addrs[0].String() != bootAddr {
		t.Fatalf("parsed %+v", c)
	}
}

func TestParseCardRejects(t *testing.T) {
	good := EncodeCard(sampleCard(t))
	typo := []byte(good)
	i := len(typo) / 2
	typo[i] = map[bool]byte{true: 'B', false: 'A'}[typo[i] == 'A']
	agent := genIdentity(t).Public()
	for name, c := range map[string]struct {
		text string
		want error
	}{
		"prefix":         {strings.Replace(good, "n2ncard1", "n2ncard2", 1), keys.ErrMalformed},
		"alphabet":       {good[:20] + "!" + good[21:], keys.ErrMalformed},
		"too short":      {"n2ncard1AAAA", keys.ErrMalformed},
		"truncated":      {good[:len(good)-3], keys.ErrChecksum},
		"typo":           {string(typo), keys.ErrChecksum},
		"ticket":         {"n2ncap1AAAA", keys.ErrMalformed},
		"short key":      {keys.EncodeChecked(CardPrefix, detcbor.Marshal(&cardBody{Agent: agent[:31]})), keys.ErrMalformed},
		"no addr":        {keys.EncodeChecked(CardPrefix, detcbor.Marshal(&cardBody{Agent: agent[:], Addrs: [][]byte{{0xff, 0xff}}})), keys.ErrMalformed},
		"unknown key":    {keys.EncodeChecked(CardPrefix, detcbor.Marshal(map[int]any{1: agent[:], 3: 1})), keys.ErrMalformed},
		"not canonical":  {keys.EncodeChecked(CardPrefix, append([]byte{0xa1, 0x01, 0x59, 0x00, 0x20}, agent[:]...)), keys.ErrMalformed},
		"too many addrs": {keys.EncodeChecked(CardPrefix, detcbor.Marshal(&cardBody{Agent: agent[:], Addrs: slices.Repeat([][]byte{multiaddr.StringCast(bootAddr).Bytes()}, maxCardAddrs+1)})), keys.ErrMalformed},
	} {
		if _, err := ParseCard(c.text); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// TestHomeBootstrapNodes: the bootstrap nodes a card brings are kept once
// each, and an address that names no peer is refused.
func TestHomeBootstrapNodes(t *testing.T) {
	book := &AddrBook{Store: &MemStore{}}
	if err := book.AddBootstrap([]string{bootAddr, bootAddr}); err != nil {
		t.Fatal(err)
	}
	if err := book.AddBootstrap([]string{bootAddr}); err != nil {
		t.Fatal(err)
	}
	got, err := book.BootstrapNodes()
	if err != nil || !slices.Equal(got, []string{bootAddr}) {
		t.Fatalf("bootstrap nodes %v, %v", got, err)
	}
	if err := book.AddBootstrap([]string{"/ip4/11.0.0.1/tcp/4001"}); !errors.Is(err, ErrBadAddress) {
		t.Fatalf("an address without /p2p/: %v", err)
	}
	if entries, _ := book.List(); len(entries) != 0 {
		t.Fatalf("bootstrap nodes listed as agents: %v", entries)
	}
}

// FuzzParseCard: a card either fails to parse or parses to a card whose
// text is exactly the input (one text per card).
func FuzzParseCard(f *testing.F) {
	f.Add(EncodeCard(sampleCard(f)))
	f.Add("n2ncard1")
	f.Add(keys.EncodeChecked(CardPrefix, []byte{0xa0}))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCard(s)
		if err != nil {
			return
		}
		if EncodeCard(c) != strings.TrimSpace(s) {
			t.Fatalf("%q parses to a card whose text is %q", s, EncodeCard(c))
		}
		c.Split()
	})
}
