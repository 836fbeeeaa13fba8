package rpc

import (
	"context"
	"testing"
	"time"
)

// TestDeadlineCtx: the lazily made deadline context behaves as
// context.WithDeadline: its deadline, its end at the deadline or with its
// parent, and Err before and after Done is first called.
func TestDeadlineCtx(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	d := time.Now().Add(30 * time.Millisecond)
	c := &deadlineCtx{Context: parent, deadline: d}
	if got, ok := c.Deadline(); !ok || !got.Equal(d) {
		t.Fatalf("Deadline = %v, %v", got, ok)
	}
	if c.Err() != nil {
		t.Fatal("ended early")
	}
	time.Sleep(40 * time.Millisecond)
	if c.Err() != context.DeadlineExceeded {
		t.Fatalf("Err past the deadline, Done never called: %v", c.Err())
	}
	select {
	case <-c.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed past the deadline")
	}
	c.release()

	c = &deadlineCtx{Context: parent, deadline: time.Now().Add(time.Hour)}
	done := c.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Done not closed with the parent")
	}
	if c.Err() != context.Canceled {
		t.Fatalf("Err after the parent ended: %v", c.Err())
	}
	c = &deadlineCtx{Context: parent, deadline: time.Now().Add(time.Hour)}
	if c.Err() != context.Canceled {
		t.Fatalf("Err of a child of an ended parent, Done never called: %v", c.Err())
	}
	c.release()
}
