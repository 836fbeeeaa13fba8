package peers

import (
	"io"
	"log"
	"log/slog"
	"os"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
	"go.uber.org/zap/zapcore"
)

// debugEnv turns libp2p's own logging back on, with go-log's syntax
// (for example GOLOG_LOG_LEVEL=debug or "error,dht=debug").
const debugEnv = "GOLOG_LOG_LEVEL"

// init silences the libraries' logs: nothing under cmd/ prints except
// through output/, and libp2p (slog via gologshim), kad-dht (go-log/zap),
// quic-go and zeroconf (mDNS; both the standard log package) would
// otherwise write to stderr on their own. Loggers pick their handler on
// first use, which is after this runs. The standard logger is the
// process's: nothing else in n2n uses it.
func init() {
	if os.Getenv(debugEnv) != "" || os.Getenv("IPFS_LOGGING") != "" {
		return
	}
	gologshim.SetDefaultHandler(slog.DiscardHandler)
	golog.SetPrimaryCore(zapcore.NewNopCore())
	log.SetOutput(io.Discard)
	if os.Getenv("QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING") == "" {
		os.Setenv("QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING", "true")
	}
}
