package cmd

import (
	"bytes"
	"maps"
	"testing"

	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
)

// TestPathWords: how ping, resolve and status show a path on a terminal,
// in a pipe (one field) and in JSON (path, and relay only when relayed).
func TestPathWords(t *testing.T) {
	direct := peers.Path{}
	relayed := peers.Path{Relayed: true, Relay: "12D3KooWRelay", DataLimit: 64 << 20, Sent: 5}
	for _, c := range []struct {
		tty  bool
		path peers.Path
		want string
	}{
		{false, direct, "direct"},
		{false, relayed, "relayed:12D3KooWRelay"},
		{true, direct, "direct"},
		{true, relayed, "relayed by 12D3KooWRelay"},
	} {
		io, err := output.NewTTY(nil, &bytes.Buffer{}, &bytes.Buffer{}, output.Terminal{Stdout: c.tty}, false, "never")
		if err != nil {
			t.Fatal(err)
		}
		if got := (&env{io: io}).pathCell(c.path); got != c.want {
			t.Errorf("tty %v, %+v: %q, want %q", c.tty, c.path, got, c.want)
		}
	}
	for _, c := range []struct {
		path peers.Path
		want map[string]any
	}{
		{direct, map[string]any{"path": "direct"}},
		{relayed, map[string]any{"path": "relayed", "relay": "12D3KooWRelay"}},
	} {
		v := map[string]any{}
		addPath(v, c.path)
		if !maps.Equal(v, c.want) {
			t.Errorf("%+v: JSON fields %v, want %v", c.path, v, c.want)
		}
	}
}
