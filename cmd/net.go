package cmd

import (
	"context"
	"errors"
	"time"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// netHome is what a networked command works with: the open home and a
// client to other agents over a node, either the daemon's warm ones or a
// one-shot client host.
type netHome struct {
	chain  *chain.Chain
	node   *peers.Node
	client *rpc.Client
	book   *peers.AddrBook
	done   func()
}

// connect opens the home and a client node. The one-shot host does not
// listen and creates a DHT only if the address book does not connect.
//
// Unless write is set, the home is opened read-only: one-shot calls share
// it and run at once instead of queueing for the home. What the address
// book learns meanwhile is kept in memory and written when done is called.
func (e *env) connect(ctx context.Context, write bool) (*netHome, error) {
	if d := e.daemon; d != nil {
		e.warnOpenHome()
		client := d.Client(e.dialTimeout, e.timeout)
		client.DirectOnly = e.directOnly
		client.Progress = e.showPhase
		return &netHome{chain: d.Chain, node: d.Node, client: client, book: d.Book(), done: func() {}}, nil
	}
	c, done, err := e.openHome(ctx, !write)
	if err != nil {
		return nil, err
	}
	node, err := peers.NewClient(ctx, peers.Options{Identity: c.Identity(), Bootstrap: e.bootstrapOf(c), DialTimeout: e.dialTimeout})
	if err != nil {
		done()
		return nil, err
	}
	var store peers.Store = c.Side(peers.BookSide)
	var pending *writeBack
	if !write {
		pending = &writeBack{Store: store, sets: map[string][]byte{}}
		store = pending
	}
	book := &peers.AddrBook{Store: store}
	ep := &rpc.Endpoint{ID: c.Identity(), Node: node, Book: book}
	client := ep.Client(e.dialTimeout, e.timeout)
	client.DirectOnly = e.directOnly
	client.Progress = e.showPhase
	return &netHome{chain: c, node: node, client: client, book: book, done: func() {
		learnt := pending != nil && len(pending.sets) > 0
		if e.exiting && !write && !learnt {
			return // nothing to write: the exit releases the host and the home
		}
		ep.Close()
		node.Close()
		if learnt {
			c.Close() // before saveBook opens the home to write
			e.saveBook(pending.sets)
			return
		}
		done()
	}}, nil
}

// bootstrapOf is --bootstrap (or N2N_BOOTSTRAP), or when none is given the
// bootstrap nodes the home learnt from contact cards.
func (e *env) bootstrapOf(c *chain.Chain) []string {
	if len(e.bootstrap) > 0 {
		return e.bootstrap
	}
	boot, _ := (&peers.AddrBook{Store: c.Side(peers.BookSide)}).BootstrapNodes() // none if unreadable
	return boot
}

// saveBook writes address-book entries learnt while the home was open
// read-only. It is best effort: a busy home only means the address is
// learnt again.
func (e *env) saveBook(sets map[string][]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, done, err := e.openHome(ctx, false)
	if err != nil {
		return
	}
	defer done()
	side := c.Side(peers.BookSide)
	for k, v := range sets {
		side.Set([]byte(k), v)
	}
}

// writeBack is a peers.Store that reads through to a read-only store and
// keeps writes in memory.
type writeBack struct {
	peers.Store
	sets map[string][]byte
}

func (w *writeBack) Get(k []byte) ([]byte, error) {
	if v, ok := w.sets[string(k)]; ok {
		return v, nil
	}
	return w.Store.Get(k)
}

func (w *writeBack) Set(k, v []byte) error {
	w.sets[string(k)] = append([]byte{}, v...)
	return nil
}

// request sends req to the agent `to` and returns the ok response; other
// statuses come back as errors that map to exit statuses. A request to this
// agent itself is answered by the daemon, when it runs the command.
func (e *env) request(ctx context.Context, h *netHome, to keys.PublicKey, req *rpc.Request) (rpc.Response, error) {
	defer e.beginProgress(to)()
	return e.start(ctx, h, to, req)()
}

// start is request in two steps: it returns once req is sent (requests
// started in turn arrive in that order), and the function it returns waits
// for the response.
func (e *env) start(ctx context.Context, h *netHome, to keys.PublicKey, req *rpc.Request) (wait func() (rpc.Response, error)) {
	if to == h.chain.Identity().Public() {
		if e.daemon == nil {
			err := withHint(errSelfNoDaemon, exitUnreachable, "start it with 'n2n serve --detach'")
			return func() (rpc.Response, error) { return rpc.Response{}, err }
		}
		req.SetTimeout(e.timeout)
		e.showPhase(rpc.PhaseWaiting)
		cctx, cancel := context.WithTimeout(ctx, req.TimeoutDuration())
		defer cancel()
		resp := e.daemon.Dispatch(cctx, rpc.NewIncoming(to, *req))
		return func() (rpc.Response, error) { return resp, agentErr(to, resp.Err()) }
	}
	call := h.client.Go(ctx, to, req)
	return func() (rpc.Response, error) {
		resp, _, err := call.Wait()
		if err != nil {
			return resp, agentErr(to, err)
		}
		return resp, agentErr(to, resp.Err())
	}
}

// agentErr marks a failure as concerning the agent `to` (nil stays nil).
func agentErr(to keys.PublicKey, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	return &agentError{agent: to, err: err}
}

// printReply prints a reply payload: as it came (on a terminal with what
// could act on it escaped: output.IO.Payload), or {"status","reply"} with
// --json.
func (e *env) printReply(resp rpc.Response) error {
	if e.io.Mode == output.JSON {
		text, enc := output.Bytes(resp.Payload)
		v := map[string]any{"status": string(resp.Status), "reply": text}
		if enc != "" {
			v["encoding"] = enc
		}
		return e.io.JSONLine(v)
	}
	return e.io.Payload(resp.Payload)
}

// addPath adds a path's JSON fields to v: path ("direct" or "relayed") and,
// when relayed, relay (the relay's peer ID).
func addPath(v map[string]any, p peers.Path) {
	v["path"] = p.String()
	if p.Relayed {
		v["relay"] = p.Relay
	}
}

// pathText is a path in words: "direct" or "relayed by <relay>".
func pathText(p peers.Path) string {
	if p.Relayed {
		return "relayed by " + p.Relay
	}
	return "direct"
}

// pathCell is a path in one cell: pathText on a terminal; in a pipe
// "direct" or "relayed:<relay>", one field.
func (e *env) pathCell(p peers.Path) string {
	if e.io.Mode != output.Plain {
		return pathText(p)
	}
	if p.Relayed {
		return "relayed:" + p.Relay
	}
	return "direct"
}
