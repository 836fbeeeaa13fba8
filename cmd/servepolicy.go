package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/n2n-dev/n2n/daemon"
	"github.com/urfave/cli/v2"
)

// serve's options that say who may write into the home and how much others
// can make it keep (consentContract says it for people).

func policyFlags() []cli.Flag {
	q := daemon.DefaultQuotas
	return []cli.Flag{
		&cli.StringFlag{Name: "accept-messages", Value: string(daemon.DefaultPolicy.Messages), Usage: "take messages from `WHOM`: anyone, contacts or none (others: unauthorized)"},
		&cli.StringFlag{Name: "accept-claims", Value: string(daemon.DefaultPolicy.Claims), Usage: "put claims delivered by `WHOM` on the chain at once: anyone, contacts or none (others wait: n2n claims --pending)"},
		&cli.BoolFlag{Name: "no-accept-claims", Usage: "the same as --accept-claims none"},
		&cli.StringFlag{Name: "inbox-max-size", Value: sizeText(q.InboxBytes), Usage: "keep at most `SIZE` of messages in the inbox"},
		&cli.IntFlag{Name: "inbox-max-messages", Value: q.InboxMessages, Usage: "keep at most `N` messages in the inbox"},
		&cli.StringFlag{Name: "inbox-sender-max-size", Value: sizeText(q.SenderBytes), Usage: "keep at most `SIZE` of one sender's messages"},
		&cli.IntFlag{Name: "inbox-sender-max-messages", Value: q.SenderMessages, Usage: "keep at most `N` of one sender's messages"},
		&cli.StringFlag{Name: "audit-max-age", Value: durationText(q.AuditAge), Usage: "drop audit records older than `AGE` (e.g. 30d, 12h)"},
		&cli.StringFlag{Name: "audit-max-size", Value: sizeText(q.AuditBytes), Usage: "keep at most `SIZE` of audit records (the oldest go first)"},
	}
}

// policyOptions reads the flags of policyFlags.
func policyOptions(c *cli.Context) (daemon.Policy, daemon.Quotas, error) {
	p, q := daemon.DefaultPolicy, daemon.DefaultQuotas
	var err error
	if p.Messages, err = daemon.ParseAccept(c.String("accept-messages")); err != nil {
		return p, q, usagef("--accept-messages %v", err)
	}
	if p.Claims, err = daemon.ParseAccept(c.String("accept-claims")); err != nil {
		return p, q, usagef("--accept-claims %v", err)
	}
	if c.Bool("no-accept-claims") {
		if c.IsSet("accept-claims") && p.Claims != daemon.AcceptNone {
			return p, q, usagef("--no-accept-claims is --accept-claims none: give one of them")
		}
		p.Claims = daemon.AcceptNone
	}
	for _, s := range []struct {
		flag string
		to   *int64
	}{{"inbox-max-size", &q.InboxBytes}, {"inbox-sender-max-size", &q.SenderBytes}, {"audit-max-size", &q.AuditBytes}} {
		n, err := humanize.ParseBytes(c.String(s.flag))
		if err != nil || n == 0 || n > 1<<50 {
			return p, q, usagef("--%s %q: want a size such as 64MiB", s.flag, c.String(s.flag))
		}
		*s.to = int64(n)
	}
	for _, s := range []struct {
		flag string
		to   *int
	}{{"inbox-max-messages", &q.InboxMessages}, {"inbox-sender-max-messages", &q.SenderMessages}} {
		if *s.to = c.Int(s.flag); *s.to < 1 {
			return p, q, usagef("--%s must be at least 1", s.flag)
		}
	}
	if q.AuditAge, err = parseAge(c.String("audit-max-age")); err != nil {
		return p, q, usagef("--audit-max-age %q: want a duration such as 30d or 12h", c.String("audit-max-age"))
	}
	return p, q, nil
}

// parseAge reads a positive duration: Go's form (90m, 12h) or whole days
// (30d).
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 100*365 {
			return 0, fmt.Errorf("bad number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = fmt.Errorf("not positive")
	}
	return d, err
}

// durationText is d as parseAge reads it: whole days as 30d.
func durationText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// consentContract is who may write into an agent's home and how much, as
// plain text paragraphs: for 'n2n help serve' and the man page.
func consentContract() []string {
	q := daemon.DefaultQuotas
	return []string{
		"Anyone who knows this agent's ID can reach its daemon. --accept-messages says whose messages " +
			"it takes: anyone's (the default), its contacts' (n2n contacts) or no one's; a message from " +
			"anyone else is refused as unauthorized (the sender exits 7). The agent itself is always " +
			"accepted.",
		fmt.Sprintf("--accept-claims says whose delivered claims (grant --deliver, n2n.receive_claim) go "+
			"onto the chain at once: anyone's (the default), its contacts' or no one's. Under anyone, agents "+
			"that are not contacts may put %d claims on the chain in any hour, all of them together, and "+
			"%d each. Any other delivered claim waits off the chain in a list of pending claims: n2n claims "+
			"--pending lists it, n2n claim accept ID puts it on the chain, n2n claim reject ID drops it. The "+
			"list holds %d claims, %d from one grantor; a claim past that is refused with over_quota (the "+
			"grantor exits 9).", q.StrangerClaims, q.StrangerClaimsEach, q.Pending, q.PendingEach),
		fmt.Sprintf("The inbox keeps at most %s and %d messages in all, %s and %d from one sender "+
			"(--inbox-max-size, --inbox-max-messages, --inbox-sender-max-size, --inbox-sender-max-messages). "+
			"A message over either is refused with over_quota and the sender exits 9; nothing stored is "+
			"dropped: n2n inbox --clear makes room, and gives the disk space of the messages it removes back.",
			sizeText(q.InboxBytes), q.InboxMessages, sizeText(q.SenderBytes), q.SenderMessages),
		fmt.Sprintf("The audit log keeps %s of records, the oldest dropped first, and drops those older "+
			"than %d days when serve starts and as calls are recorded (--audit-max-size, --audit-max-age). "+
			"A function name that is not valid is recorded as invalid, with its length, never its bytes, "+
			"and answered bad_request.",
			sizeText(q.AuditBytes), q.AuditAge/(24*time.Hour)),
		"Text another agent chose (messages, tags, function names, error text) is shown escaped on a " +
			"terminal and in tab-separated output: \\t, \\n, \\r, \\\\ and \\xNN or \\uNNNN for other " +
			"characters that are not printable, so nothing in it acts on the terminal and a row stays one " +
			"line. --json carries it exactly.",
	}
}
