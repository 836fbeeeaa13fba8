// Package localsock is the local socket protocol between a command and the
// daemon of its home: the command sends its command line, the
// daemon runs it in-process against its open home and warm host and streams
// back stdout, stderr and the exit status, so both paths print the same
// bytes.
//
// On the unix socket <home>/n2n.sock, each frame is type(1) ‖ length(4,
// big-endian) ‖ data. The command sends a header frame (the CBOR Request),
// then stdin frames once the daemon asks for them; the daemon sends stdout
// and stderr frames and last an exit frame. Only processes of the daemon's
// own user may connect.
//
// It needs nothing but the standard library, CBOR and x/sys: no libp2p, so
// a small front binary can speak it. Forward and Serve are safe for
// concurrent use.
package localsock
