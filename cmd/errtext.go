package cmd

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/n2n-dev/n2n/peers"
	"github.com/n2n-dev/n2n/rpc"
)

// What a person reads for an error is one line (summary); the whole chain,
// with every layer's "package: operation:" prefix, is shown only with
// --debug. Layers below cmd keep wrapping with %w, as the house style asks;
// this file decides the words.

// agentError is a failure in reaching or calling another agent: it says
// whom the failure concerns, and whether the words are that agent's.
type agentError struct {
	agent keys.PublicKey
	err   error
}

func (e *agentError) Error() string { return e.agent.String() + ": " + e.err.Error() }
func (e *agentError) Unwrap() error { return e.err }

// summary is the one line a person reads for err.
func summary(err error) string {
	var ae *agentError
	var ue *peers.UnreachableError
	switch {
	case errors.As(err, &ae):
		return ae.summary()
	case errors.As(err, &ue): // resolve: no request, so no agentError
		return "cannot reach " + short(ue.Agent.String()) + ": " + unreachableText(ue)
	}
	return plainText(err)
}

// plainText is the first line of err's text without package prefixes.
func plainText(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return stripPackages(strings.TrimSuffix(strings.TrimSpace(line), ":"))
}

// packagePrefix matches "pkg: " where an error layer of n2n's own starts.
var packagePrefix = regexp.MustCompile(`(^|: )(caps|chain|keys|noiseproto|peers|rpc|daemon|localsock|output): `)

func stripPackages(s string) string {
	for {
		t := packagePrefix.ReplaceAllString(s, "$1")
		if t == s {
			return s
		}
		s = t
	}
}

func (e *agentError) summary() string {
	who := short(e.agent.String())
	var st *rpc.StatusError
	var re *rpc.RelayError
	var ue *peers.UnreachableError
	switch {
	case errors.As(e.err, &st) && st.Status == rpc.StatusOverQuota && st.Msg != "":
		return who + "'s " + remoteText(st.Msg) // "uhCAk…'s inbox is full (for you)"
	case errors.As(e.err, &st):
		return who + " replied: " + statusText(st)
	case errors.As(e.err, &re):
		return re.Text(who)
	case errors.Is(e.err, peers.ErrWrongPeer):
		return "another agent answered at " + who + "'s address"
	case errors.As(e.err, &ue):
		return "cannot reach " + who + ": " + unreachableText(ue)
	case errors.Is(e.err, peers.ErrUnreachable):
		return "cannot reach " + who + ": " + unreachableReason(e.err)
	case errors.Is(e.err, rpc.ErrTimeout):
		return who + " did not reply: " + plainText(e.err)
	case errors.Is(e.err, rpc.ErrAuth):
		return "could not authenticate " + who + ": " + plainText(e.err)
	}
	return who + ": " + plainText(e.err)
}

// unreachableReason is what an unreachable error that does not say why in
// its type (peers.UnreachableError does) said after "unreachable: ".
func unreachableReason(err error) string {
	text := plainText(err)
	if i := strings.LastIndex(text, peers.ErrUnreachable.Error()+": "); i >= 0 {
		text = text[i+len(peers.ErrUnreachable.Error())+2:]
	}
	return text
}

// statusWords names a callee's response statuses for people.
var statusWords = map[rpc.Status]string{
	rpc.StatusUnauthorized: "unauthorized",
	rpc.StatusNotFound:     "not found",
	rpc.StatusHandlerError: "handler failed",
	rpc.StatusBusy:         "busy",
	rpc.StatusBadRequest:   "bad request",
	rpc.StatusTimeout:      "timeout",
	rpc.StatusOverQuota:    "over quota",
	rpc.StatusNoSpace:      "disk full",
}

// statusText is a callee's refusal or failure in one line: its status, then
// the last line of its own words (which it controls: escaped and bounded).
func statusText(st *rpc.StatusError) string {
	word, ok := statusWords[st.Status]
	if !ok {
		word = remoteText(string(st.Status))
	}
	text := remoteText(st.Msg)
	if text == "" || text == word || text == string(st.Status) {
		return word
	}
	return word + ": " + text
}

// remoteMax bounds how much of another agent's words one line shows.
const remoteMax = 200

// remoteText is the last non-empty line of a text another agent sent, cut
// at remoteMax characters and escaped (output.Escape).
func remoteText(s string) string { return output.Escape(lastLine(s)) }

// lastLine is the last non-empty line of s, cut at remoteMax characters
// (with "…"), not escaped.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	if utf8.RuneCountInString(line) <= remoteMax {
		return line
	}
	n := 0
	for i := range line {
		if n == remoteMax {
			return line[:i] + "…"
		}
		n++
	}
	return line
}
