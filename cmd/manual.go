package cmd

import (
	"fmt"
	"strings"

	"github.com/n2n-dev/n2n/chain"
	"github.com/n2n-dev/n2n/daemon"
)

// The user-facing contract that is not a command's own help: how function
// handlers are run, the output forms and their JSON fields, the environment
// and the files. `n2n help serve` and the man page (tools/gendocs) are
// written from here, so the two cannot differ.

// handlerVars is what a function handler finds in its environment.
var handlerVars = [][2]string{
	{"N2N_CALLER", "the caller's agent ID (uhCAk…), authenticated by the session"},
	{"N2N_FUNCTION", "the name of the function called"},
	{"N2N_ACCESS", "what allowed the call: author (this agent itself), unrestricted, transferable or assigned"},
	{"N2N_GRANT", "the ID of the grant that allowed it (uhCkk…); empty for author access and for receive"},
	{"N2N_TAG", "that grant's tag"},
	{"N2N_HOME", "this home: the handler's own n2n commands go through the daemon and act as this agent (author access)"},
}

// handlerContract is how serve runs a function, as plain text paragraphs.
var handlerContract = []string{
	"A function NAME is the executable <home>/functions/NAME, or the shell command given with " +
		"--fn NAME=COMMAND. NAME is a lower-case letter and up to 63 more of a-z, 0-9 and _; names " +
		"starting with n2n. are built-in (n2n.receive_claim stores a claim a grantor delivers).",
	"A call is checked against this agent's grants first (an unauthorized caller learns nothing " +
		"about which functions exist); then the function runs in the home directory, with the " +
		"payload on stdin and the environment of serve (without its N2N_ variables, the passphrase " +
		"among them) plus N2N_CALLER, N2N_FUNCTION, N2N_ACCESS, N2N_GRANT, N2N_TAG and N2N_HOME.",
	"Exit status 0: what it wrote on stdout (up to 16 MiB) is the reply, status ok. Any other exit " +
		"status: handler_error, with the last 2 KiB of its stderr as the error text (the caller " +
		"exits 9 and shows the last line). A name with no function: not_found; a file there that " +
		"is not executable: handler_error, saying so (both exit 9 at the caller).",
	"The deadline is the caller's --timeout: when it passes, the function's whole process group " +
		"(it and every child it started) is killed with SIGKILL and the caller gets timeout (exit 6) " +
		"at once, even while a child that left the group still holds its pipes. When the function " +
		"exits, what is left of its group is killed too; its reply is what it wrote before it " +
		"exited, with its own exit status. At most --concurrency functions run at once; a call over " +
		"that is answered busy (exit 9).",
	"If serve itself is killed (kill -9), the kernel kills each running function, and the next " +
		"serve of the home kills what they left running, which serve notes in <home>/handlers/.",
	"A message (n2n send) runs the function receive when it exists, whoever sent it, one message " +
		"of a session after the other; its stdout is the reply. Without receive the message goes " +
		"to the inbox and the reply is a receipt, \"delivered to AGENT\".",
}

// handlerHelp is handlerContract and handlerVars for serve's help.
func handlerHelp() string {
	var b strings.Builder
	b.WriteString(helpSection("FUNCTION HANDLERS", handlerContract))
	b.WriteString("\n\n")
	for _, v := range handlerVars {
		text := strings.ReplaceAll(wrapText(v[1], 78-16), "\n", "\n"+strings.Repeat(" ", 16))
		fmt.Fprintf(&b, "  %-13s %s\n", v[0], text)
	}
	return strings.TrimRight(b.String(), "\n")
}

// limitsText says what other agents can make a daemon spend
// (daemon.DefaultLimits), as one paragraph.
func limitsText() string {
	l := daemon.DefaultLimits
	return fmt.Sprintf("What other agents can make the daemon spend is bounded, counted by agent: %d "+
		"sessions at once (%d per agent) and %g new sessions a second per agent (bursts of %d), a "+
		"session over them refused as busy before its handshake (the caller tries again until its "+
		"--dial-timeout); %d MiB for requests in progress (%d MiB per agent), taken as their bytes "+
		"arrive, a request over it answered busy and its session closed (the caller exits 9). A "+
		"session must send its first request within 10s and each part of a large one within 5s of "+
		"the last; it is closed after 2 minutes without requests. Unless GOMEMLIMIT is set, the "+
		"daemon's Go heap has a soft limit of %d MiB to match. n2n status shows the sessions served "+
		"and the bytes their requests hold.",
		l.Sessions, l.AgentSessions, l.Handshakes, l.HandshakeBurst, l.Memory>>20, l.AgentMemory>>20, l.MemoryLimit()>>20)
}

// limitsHelp is limitsText for serve's help.
// serveSections are the sections that follow serve's own help text: the man
// page has them as sections of their own (FUNCTION HANDLERS, LIMITS,
// STRANGERS AND CONSENT) and refers to them instead.
func serveSections() string {
	return handlerHelp() + "\n\n" + limitsHelp() + "\n\n" + helpSection("STRANGERS AND CONSENT", consentContract())
}

func limitsHelp() string { return "LIMITS\n\n" + wrapText(limitsText(), 78) }

// helpSection is a titled section of a command's help: paragraphs wrapped
// at 78 columns.
func helpSection(title string, paragraphs []string) string {
	var b strings.Builder
	b.WriteString(title + "\n\n")
	for i, p := range paragraphs {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(wrapText(p, 78))
	}
	return b.String()
}

// wrapText breaks s into lines of at most width characters.
func wrapText(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		if n > 0 && n+1+len([]rune(w)) > width {
			b.WriteString("\n")
			n = 0
		} else if n > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(w)
		n += len([]rune(w))
	}
	return b.String()
}

// environment is every variable n2n reads.
var environment = [][2]string{
	{"N2N_HOME", "the agent home, as --home (default $XDG_DATA_HOME/n2n, or ~/.local/share/n2n)"},
	{"N2N_PASSPHRASE", "the passphrase of an encrypted home, for scripts (never give it in argv)"},
	{"N2N_BOOTSTRAP", "DHT bootstrap peers, as --bootstrap: multiaddrs with /p2p/, comma-separated"},
	{"N2N_DEBUG", "1: as --debug, errors show every detail below them (and serve logs dropped sessions)"},
	{"NO_COLOR", "set: no colour on a terminal (unless --color always)"},
	{"TERM", "dumb: no colour"},
	{"XDG_DATA_HOME", "where the default home lies"},
}

// files is what a home holds.
var files = [][2]string{
	{"$XDG_DATA_HOME/n2n", "the default home (~/.local/share/n2n when XDG_DATA_HOME is unset); mode 0700, files 0600"},
	{"<home>/db/", "the Badger store: the identity, the source chain, the inbox, the audit log, the address book, the contacts and the pending claims; encrypted unless the home was made with init --no-passphrase"},
	{"<home>/kdf", "the Argon2id parameters and salt of an encrypted home"},
	{"<home>/lock", "held by the one process that writes the home (readers share it; a read-only home can still be read)"},
	{"<home>/handlers/", "one empty file per running function, named by its process group, for the next serve to end what a killed one left running"},
	{"<home>/functions/NAME", "the function handler NAME (see FUNCTION HANDLERS)"},
	{"<home>/n2n.sock", "the daemon's local socket: while it answers, the home's other commands run in the daemon"},
	{"<home>/n2n.pid", "the daemon's process ID"},
	{"<home>/serve.log", "what serve --detach prints"},
}

// faults says what n2n does when its home or its disk is not as it should be.
var faults = []string{
	"A full disk: n2n writes to its home only while the home's filesystem has " + fmt.Sprint(chain.MinFree>>20) + " MiB free besides " +
		"twice the write (Badger writes through memory-mapped files, where a page the filesystem " +
		"cannot back would kill the process). Short of that, a command that must write exits 1 with " +
		"n2n: error: … no space left on HOME and a hint; commands that only read go on working. A " +
		"running serve goes on answering pings and calls (whose audit records are then lost, with a " +
		"warning), and answers a message for the inbox or a delivered claim no_space (exit 9 at the " +
		"sender), storing nothing. Once space is freed, everything works again.",
	"A read-only home (a read-only mount or directory) serves the commands that only read, such " +
		"as id, chain log and chain verify; one that writes says the home is not writable (exit 1).",
	"A home altered outside n2n: a call is allowed only by a grant whose action carries this " +
		"agent's signature and whose entry hashes to what that action says; one that does not " +
		"refuses the call (exit 7 at the caller, naming chain verify) and serve warns. serve checks " +
		"the newest action before it starts (exit 10). n2n chain verify checks the whole chain.",
}

// outputForms describes the three renderings and the diagnostics.
var outputForms = []string{
	"On a terminal, n2n prints styled text and tables with relative times. In a pipe it prints " +
		"tab-separated lines, one record per line, columns in a fixed order, no header. With --json " +
		"it prints one JSON object per line. An empty list prints nothing and exits 0.",
	"Times in JSON and in tab-separated lines are RFC 3339 in UTC with microseconds, e.g. " +
		"2026-12-02T06:41:07.123456Z. send and call print the reply exactly as the other agent " +
		"sent it, except on a terminal, where characters that could act on it are escaped; with " +
		"--json, {\"status\",\"reply\"}, the reply as text when it is UTF-8, else in " +
		"base64 with \"encoding\":\"base64\".",
	"A field of a table or a line (on a terminal or tab-separated) that holds text another agent " +
		"chose is escaped: a tab is \\t, a newline \\n, a carriage return \\r, a backslash \\\\, " +
		"other characters that are not printable \\xNN or \\uNNNN, as in a Go string, so a row is " +
		"always one line and nothing acts on the terminal. JSON carries every text exactly.",
	"Diagnostics go to stderr as one line, n2n: error: …, and where one helps a line n2n: hint: …. " +
		"What another agent answered is marked as its reply (uhCAk… replied: …). An agent that " +
		"cannot be reached (exit 5) is named with why and the first address that failed: it refused " +
		"the connection, did not answer before --dial-timeout, its relay refused, there is no route " +
		"to it, the DHT does not know it, or there is nobody to ask. Only silent addresses wait for " +
		"--dial-timeout: a refused one fails at once, and a DHT lookup ends once the peers closest to " +
		"the agent have answered. With --debug every " +
		"layer of the error follows on n2n: debug: lines. With --json the error is one object on " +
		"stderr: {\"type\":\"error\",\"code\":N,\"message\":…,\"hint\":…}, with \"detail\" under --debug.",
}

// jsonFields lists, per command, the fields of its --json objects (more may
// be added; a field ending in ? is present only sometimes). They are part of
// the contract; TestJSONFieldsAreDocumented checks them against the output.
var jsonFields = []struct {
	command string
	fields  []string
}{
	{"init", []string{"agent_id", "peer_id"}},
	{"id", []string{"agent_id", "peer_id", "addrs"}},
	{"commit", []string{"hash", "entry_hash"}},
	{"chain log, chain export", []string{"seq", "hash", "prev", "timestamp", "author", "type", "entry_type", "entry_hash", "target", "signature"}},
	{"chain show", []string{"seq", "hash", "prev", "timestamp", "author", "type", "entry_type", "entry_hash", "target", "signature", "entry?", "entry_encoding?"}},
	{"chain verify", []string{"ok", "actions", "head"}},
	{"serve", []string{"type", "time", "from", "message?", "encoding?", "text?", "function?", "access?", "grant_id?", "outcome?", "duration_ms?", "error?", "invalid_function_bytes?"}},
	{"contacts", []string{"name", "agent_id", "added"}},
	{"status", []string{"agent_id", "pid", "addrs", "peers", "dht_peers", "sessions", "request_bytes"}},
	{"send, call", []string{"status", "reply", "encoding?"}},
	{"inbox", []string{"time", "from", "message", "encoding?"}},
	{"resolve", []string{"agent_id", "addrs", "source"}},
	{"ping", []string{"agent_id", "seq", "rtt_ms", "source"}},
	{"peers", []string{"agent_id", "addrs", "last_ok", "expires"}},
	{"grant, grants", []string{"grant_id", "access", "functions", "assignees", "tag", "revoked", "created", "ticket?"}},
	{"claim add, claim accept", []string{"claim_id"}},
	{"claims", []string{"claim_id", "grantor", "functions", "access", "tag", "added"}},
	{"claims --pending", []string{"pending_id", "grantor", "functions", "access", "tag", "received"}},
	{"audit", []string{"time", "caller", "function", "access", "grant_id", "outcome", "duration_ms", "invalid_function_bytes?"}},
	{"version", []string{"version", "go"}},
	{"help exit-codes", []string{"code", "meaning"}},
	{"errors (stderr)", []string{"type", "code", "message", "hint?", "detail?"}},
}

// ManSection is a section of the man page beyond the commands: a title and
// its text in the markdown that go-md2man reads.
type ManSection struct {
	Title, Body string
}

// ManSections are the man page's sections after COMMANDS, in order.
func ManSections() []ManSection {
	var handlers strings.Builder
	for _, p := range handlerContract {
		handlers.WriteString(mdEscape(p) + "\n\n")
	}
	handlers.WriteString(definitions(handlerVars))

	var consent strings.Builder
	for _, p := range consentContract() {
		consent.WriteString(mdEscape(p) + "\n\n")
	}

	var out strings.Builder
	for _, p := range outputForms {
		out.WriteString(mdEscape(p) + "\n\n")
	}
	out.WriteString("The fields of each command's JSON objects (more may be added; those marked ? appear only sometimes):\n\n")
	for _, j := range jsonFields {
		fmt.Fprintf(&out, "**%s**\n: %s\n\n", mdEscape(j.command), mdEscape(strings.Join(j.fields, ", ")))
	}

	var exit strings.Builder
	for _, x := range exitCodeTable {
		fmt.Fprintf(&exit, "**%d**\n: %s\n\n", x.code, mdEscape(x.meaning))
	}
	return []ManSection{
		{"FUNCTION HANDLERS", handlers.String()},
		{"OUTPUT", out.String()},
		{"ENVIRONMENT", definitions(environment)},
		{"FILES", definitions(files)},
		{"FAULTS", paragraphs(faults)},
		{"EXIT STATUS", "Scripts may rely on these; any other status is a failure.\n\n" + exit.String()},
		{"LIMITS", mdEscape(limitsText()) + "\n"},
		{"STRANGERS AND CONSENT", consent.String()},
	}
}

func paragraphs(ps []string) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(mdEscape(p) + "\n\n")
	}
	return b.String()
}

func definitions(rows [][2]string) string {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "**%s**\n: %s\n\n", mdEscape(r[0]), mdEscape(r[1]))
	}
	return b.String()
}
