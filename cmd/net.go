package cmd

import (
	"context"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// session is what a networked command works with: the home and an rpc
// client, either the daemon's warm ones or a one-shot client host.
type session struct {
	chain  *chain.Chain
	client *rpc.Client
	book   *peers.AddrBook
	done   func()
}

// connect opens the home and a client node. The one-shot host does not
// listen and creates a DHT only if the address book does not connect.
func (e *env) connect(ctx context.Context) (*session, error) {
	if d := e.daemon; d != nil {
		return &session{chain: d.Chain, client: d.Client(e.dialTimeout, e.timeout), book: d.Book(), done: func() {}}, nil
	}
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return nil, err
	}
	node, err := peers.NewClient(ctx, peers.Options{Identity: c.Identity(), Bootstrap: e.bootstrap, DialTimeout: e.dialTimeout})
	if err != nil {
		done()
		return nil, err
	}
	book := &peers.AddrBook{Store: c.Side("peers")}
	cl := &rpc.Client{Node: node, Book: book, ID: c.Identity(), DialTimeout: e.dialTimeout, Timeout: e.timeout}
	return &session{chain: c, client: cl, book: book, done: func() { node.Close(); done() }}, nil
}

// request sends req to the agent `to` and returns the ok response; other
// statuses come back as errors that map to exit statuses. A request to this
// agent itself is answered by the daemon, when it runs the command.
func (e *env) request(ctx context.Context, s *session, to keys.PublicKey, req *rpc.Request) (rpc.Response, error) {
	var resp rpc.Response
	if to == s.chain.Identity().Public() {
		if e.daemon == nil {
			return resp, withHint(errSelfNoDaemon, exitUnreachable, "start it with 'n2n serve --detach'")
		}
		req.Deadline = time.Now().Add(e.timeout).UnixMicro()
		cctx, cancel := context.WithDeadline(ctx, req.DeadlineTime())
		defer cancel()
		resp = e.daemon.Dispatch(cctx, &rpc.Incoming{Caller: to, Request: *req})
	} else {
		var err error
		if resp, _, err = s.client.Do(ctx, to, req); err != nil {
			return resp, err
		}
	}
	return resp, resp.Err()
}

// printReply prints a reply payload: raw, or {"status","reply"} with --json.
func (e *env) printReply(resp rpc.Response) error {
	if e.io.Mode == output.JSON {
		text, enc := output.Bytes(resp.Payload)
		v := map[string]any{"status": string(resp.Status), "reply": text}
		if enc != "" {
			v["encoding"] = enc
		}
		return e.io.JSONLine(v)
	}
	_, err := e.io.Write(resp.Payload)
	return err
}

// parseAgent parses an agent argument (agent ID or peer ID).
func parseAgent(s string) (keys.PublicKey, error) {
	k, err := keys.ParseAgent(s)
	if err != nil {
		return k, err
	}
	return k, nil
}
