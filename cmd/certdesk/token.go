package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
)

// runToken manages agents' personal access tokens:
//
//	certdesk token create --agent EMAIL [--name NAME] [--ttl 90d]
//	certdesk token list [--agent EMAIL]
//	certdesk token revoke ID
//
// It needs only the database: CERTDESK_DATABASE_URL, or --data-dir for the
// store of `certdesk dev`.
func runToken(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("token: say create, list or revoke")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	agent := fs.String("agent", "", "the agent's email")
	name := fs.String("name", "api", "what the token is for")
	ttl := fs.String("ttl", "90d", "how long it works (e.g. 720h or 90d)")
	dataDir := fs.String("data-dir", "", "use the store of `certdesk dev` in this folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStoreOnly(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		a, err := st.AgentByEmail(ctx, *agent)
		if err != nil {
			return fmt.Errorf("token create: no agent with the email %q (--agent)", *agent)
		}
		d, err := parseDays(*ttl)
		if err != nil {
			return err
		}
		raw, hash := certdesk.NewToken()
		t := &store.AccessToken{AgentID: a.ID, Name: *name, Hash: hash, ExpiresAt: time.Now().UTC().Add(d)}
		if err := st.CreateAccessToken(ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s%s\n", "cdp_", raw)
		fmt.Fprintf(stdout, "token %s for %s (%s), expires %s — shown once: keep it now\n", t.ID, a.Email, a.Role, t.ExpiresAt.Format(time.RFC3339))
		return nil
	case "list":
		agentID := ""
		if *agent != "" {
			a, err := st.AgentByEmail(ctx, *agent)
			if err != nil {
				return fmt.Errorf("token list: no agent with the email %q", *agent)
			}
			agentID = a.ID
		}
		ts, err := st.AccessTokens(ctx, agentID)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tAGENT\tNAME\tEXPIRES\tLAST USED\tREVOKED")
		for _, t := range ts {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.AgentID, t.Name, t.ExpiresAt.Format(time.DateOnly), stamp(t.LastUsedAt), stamp(t.RevokedAt))
		}
		return w.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("token revoke: give the token's id (see `certdesk token list`)")
		}
		if err := st.RevokeAccessToken(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
		return nil
	}
	return fmt.Errorf("token: unknown subcommand %q (create, list, revoke)", sub)
}

// openStoreOnly opens the store for commands that need nothing else.
func openStoreOnly(ctx context.Context, dataDir string) (*store.Store, error) {
	if dataDir != "" {
		return openStore(ctx, config.Config{DatabaseURL: filepath.Join(dataDir, "certdesk.db")})
	}
	cfg, err := databaseOnly("token", nil)
	if err != nil {
		return nil, fmt.Errorf("%w (or --data-dir for certdesk dev's store)", err)
	}
	return openStore(ctx, cfg)
}

// parseDays reads a Go duration or a number of days ("90d").
func parseDays(s string) (time.Duration, error) {
	var n int
	if _, err := fmt.Sscanf(s, "%dd", &n); err == nil && n > 0 && fmt.Sprintf("%dd", n) == s {
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--ttl %q: use a duration such as 720h or 90d", s)
	}
	return d, nil
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.DateOnly)
}
