package peers

import (
	"context"
	"errors"
	"testing"
)

func TestOptionsRejectBadAddresses(t *testing.T) {
	id := genIdentity(t)
	for _, o := range []Options{
		{Identity: id, Listen: []string{"not an address"}},
		{Identity: id, Listen: loopback, Bootstrap: []string{"/ip4/127.0.0.1/tcp/1"}},
	} {
		n, err := NewServer(context.Background(), o)
		if err == nil {
			n.Close()
		}
		if !errors.Is(err, ErrBadAddress) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func BenchmarkNewClient(b *testing.B) {
	id := genIdentity(b)
	for b.Loop() {
		n, err := NewClient(context.Background(), Options{Identity: id})
		if err != nil {
			b.Fatal(err)
		}
		n.Close()
	}
}

func BenchmarkNewServer(b *testing.B) {
	id := genIdentity(b)
	for b.Loop() {
		n, err := NewServer(context.Background(), Options{Identity: id, Listen: loopback})
		if err != nil {
			b.Fatal(err)
		}
		n.Close()
	}
}
