package cmd

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/n2n-dev/n2n/daemon"
	"github.com/n2n-dev/n2n/keys"
	"github.com/n2n-dev/n2n/output"
	"github.com/urfave/cli/v2"
)

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "list the incoming calls this agent answered or refused",
		Description: "Every incoming call is recorded in the home (not on the chain): time, caller,\n" +
			"function, access, grant, outcome and duration. Secrets are never recorded, nor\n" +
			"the bytes of a function name that is not valid: it is shown as (invalid name of\n" +
			"N bytes). The daemon keeps the log within serve's --audit-max-age and\n" +
			"--audit-max-size, dropping the oldest records first.",
		Action: func(c *cli.Context) error {
			return runAudit(c.Context, envOf(c))
		},
	}
}

func runAudit(ctx context.Context, e *env) error {
	c, done, err := e.openHome(ctx, true)
	if err != nil {
		return err
	}
	defer done()
	var rows [][]string
	var objs []any
	now := time.Now()
	log := daemon.Audit{Store: c.Side(daemon.AuditSide)}
	if e.daemon != nil {
		log = e.daemon.Audit() // waits for records still being written
	}
	err = log.List(func(r *daemon.AuditRecord) error {
		grant := ""
		if len(r.GrantID) == 32 {
			grant = keys.Hash(r.GrantID).ActionString()
		}
		t := time.UnixMicro(r.Time)
		ms := float64(r.Duration) / 1000
		caller, g, fn := r.Caller.String(), grant, r.Function
		if e.io.Mode == output.Human {
			caller, g = short(caller), short(grant)
		}
		obj := map[string]any{
			"time": output.TimeText(t), "caller": r.Caller.String(), "function": r.Function,
			"access": r.Access, "grant_id": grant, "outcome": string(r.Outcome), "duration_ms": ms,
		}
		if r.InvalidFunction {
			// No function can have this: the name was not valid, and only
			// its length was kept.
			fn = fmt.Sprintf("(invalid name of %d bytes)", r.FunctionLen)
			obj["invalid_function_bytes"] = r.FunctionLen
		}
		rows = append(rows, []string{e.io.Time(t, now), caller, fn, r.Access, g, string(r.Outcome), strconv.FormatFloat(ms, 'f', 3, 64)})
		objs = append(objs, obj)
		return nil
	})
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		e.io.Empty("no incoming calls recorded")
	}
	return e.io.Table([]string{"TIME", "CALLER", "FUNCTION", "ACCESS", "GRANT", "OUTCOME", "MS"}, rows, objs)
}
