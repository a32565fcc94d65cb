package main

import (
	"context"
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
// store of `certdesk dev`. A token lives at most CERTDESK_TOKEN_MAX_TTL
// (a year unless set).
func runToken(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("token: say create, list or revoke (certdesk token --help)")
	}
	sub, args := args[0], args[1:]
	if isHelp(sub) {
		for _, s := range []string{"create", "list", "revoke"} {
			cmd, _ := tokenCommand(s, stdout)
			cmd.printUsage()
			fmt.Fprintln(stdout)
		}
		return flag.ErrHelp
	}
	cmd, f := tokenCommand(sub, stdout)
	if cmd == nil {
		return usagef("token: unknown subcommand %q (create, list, revoke)", sub)
	}
	if err := cmd.parseWithArgs(args); err != nil {
		return err
	}
	switch {
	case sub == "revoke" && cmd.NArg() != 1:
		return usagef("token revoke: give the token's id (see `certdesk token list`)")
	case sub != "revoke" && cmd.NArg() > 0:
		return usagef("token %s takes no arguments, only flags: %q (certdesk token %s --help)", sub, cmd.Args(), sub)
	}
	var ttl time.Duration
	if sub == "create" {
		var err error
		if f.agent == "" {
			return usagef("token create: --agent is required: the email of the agent the token acts as")
		}
		if ttl, err = parseDays(f.ttl); err != nil {
			return usageError{err}
		}
	}
	cfg, err := tokenConfig(f.dataDir)
	if err != nil {
		return err
	}
	if sub == "create" {
		if ttl > cfg.TokenMaxTTL {
			return usagef("token create: --ttl %s is longer than a token may live, %s (CERTDESK_TOKEN_MAX_TTL)", f.ttl, cfg.TokenMaxTTL)
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		a, err := st.AgentByEmail(ctx, f.agent)
		if err != nil {
			return fmt.Errorf("token create: no agent with the email %q (--agent)", f.agent)
		}
		raw, hash := certdesk.NewToken()
		t := &store.AccessToken{AgentID: a.ID, Name: f.name, Hash: hash, ExpiresAt: time.Now().UTC().Add(ttl)}
		if err := st.CreateAccessToken(ctx, t, cfg.TokenMaxTTL); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s%s\n", "cdp_", raw)
		fmt.Fprintf(stdout, "token %s for %s (%s), expires %s — shown once: keep it now\n", t.ID, a.Email, a.Role, t.ExpiresAt.Format(time.RFC3339))
		return nil
	case "list":
		agentID := ""
		if f.agent != "" {
			a, err := st.AgentByEmail(ctx, f.agent)
			if err != nil {
				return fmt.Errorf("token list: no agent with the email %q", f.agent)
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
	}
	if err := st.RevokeAccessToken(ctx, cmd.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "revoked", cmd.Arg(0))
	return nil
}

type tokenFlags struct{ agent, name, ttl, dataDir string }

// tokenCommand is a token subcommand's flags; nil for an unknown one.
func tokenCommand(sub string, stdout io.Writer) (*command, *tokenFlags) {
	var cmd *command
	f := &tokenFlags{}
	switch sub {
	case "create":
		cmd = newCommand("token create", "token create --agent EMAIL [--name NAME] [--ttl 90d] [--data-dir DIR]",
			"Makes a personal access token for an agent (Authorization: Bearer cdp_…) and prints it once. It lives at most CERTDESK_TOKEN_MAX_TTL (default 8760h, a year).", stdout)
		cmd.StringVar(&f.agent, "agent", "", "the agent's email (required)")
		cmd.StringVar(&f.name, "name", "api", "what the token is for")
		cmd.StringVar(&f.ttl, "ttl", "90d", "how long it works (e.g. 720h or 90d), at most CERTDESK_TOKEN_MAX_TTL")
	case "list":
		cmd = newCommand("token list", "token list [--agent EMAIL] [--data-dir DIR]", "Lists the access tokens (all agents' or one's), never the tokens themselves.", stdout)
		cmd.StringVar(&f.agent, "agent", "", "only this agent's tokens (their email)")
	case "revoke":
		cmd = newCommand("token revoke", "token revoke [--data-dir DIR] ID", "Revokes a token at once (its id from `certdesk token list`).", stdout)
	default:
		return nil, nil
	}
	cmd.StringVar(&f.dataDir, "data-dir", "", "use the store of `certdesk dev` in this folder")
	return cmd, f
}

// tokenConfig is the configuration the token commands need: the database
// (or the store of `certdesk dev` in dataDir) and the token lifetime.
func tokenConfig(dataDir string) (config.Config, error) {
	if dataDir == "" {
		cfg, err := databaseOnly()
		if err != nil {
			return cfg, fmt.Errorf("%w (or --data-dir for certdesk dev's store)", err)
		}
		return cfg, nil
	}
	cfg, err := config.Load(config.ModeDev, nil)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	cfg.DatabaseURL = filepath.Join(dataDir, "certdesk.db")
	return cfg, nil
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
