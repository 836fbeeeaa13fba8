// Package testscripts holds the end-to-end scripts (txtar files run by
// rogpeppe/go-internal's testscript) that drive the real n2n binary: several
// agents, each with its own home, real daemons on 127.0.0.1, exact exit
// statuses. The Go file only wires the harness and its extra commands.
package testscripts
