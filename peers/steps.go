package peers

import "context"

// stepFuncKey is the context key of WithStepFunc.
type stepFuncKey struct{}

// WithStepFunc returns ctx carrying step, which Connect and Resolve (and
// requests that resolve through them) call with ctx as each step that
// waits on the network begins: SourceAddrBook as they dial the address
// book's addresses, SourceDHT as they look the agent up in the DHT. A live
// connection is not a step: nothing waits. It is for a caller that shows
// progress; step must return quickly.
func WithStepFunc(ctx context.Context, step func(Source)) context.Context {
	return context.WithValue(ctx, stepFuncKey{}, step)
}

// stepBegins tells ctx's step function, if any, that step src begins.
func stepBegins(ctx context.Context, src Source) {
	if step, ok := ctx.Value(stepFuncKey{}).(func(Source)); ok {
		step(src)
	}
}
