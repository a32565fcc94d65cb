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
	"github.com/certdesk/certdesk/auth"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/store"
)

// runToken manages agents' personal access tokens and the integration
// tokens of the systems of record:
//
//	certdesk token create --agent EMAIL [--name NAME] [--ttl 90d]
//	certdesk token create --integration NAME --scopes S[,S…] [--ttl 90d]
//	certdesk token list [--agent EMAIL | --integration NAME]
//	certdesk token revoke ID
//
// It needs only the database: CERTDESK_DATABASE_URL, or --data-dir for the
// store of `certdesk dev`. A token lives at most CERTDESK_TOKEN_MAX_TTL
// (a year unless set).
func runToken(ctx context.Context, args []string, stdout io.Writer) error {
	sub, cmd, f, args, err := subcommand("token", []string{"create", "list", "revoke"}, args, stdout, tokenCommand)
	if err != nil {
		return err
	}
	if err := cmd.parseWithArgs(args); err != nil {
		return err
	}
	switch {
	case sub == "revoke" && cmd.NArg() != 1:
		return usagef("token revoke: give the token's id (see `certdesk token list`)")
	case sub != "revoke" && cmd.NArg() > 0:
		return usagef("token %s takes no arguments, only flags: %q (certdesk token %s --help)", sub, cmd.Args(), sub)
	case f.agent != "" && f.integration != "":
		return usagef("token %s: --agent or --integration, not both: an integration is never an agent", sub)
	}
	var (
		ttl    time.Duration
		scopes []certdesk.Scope
	)
	if sub == "create" {
		var err error
		if scopes, err = f.check(cmd); err != nil {
			return err
		}
		if ttl, err = parseDays(f.ttl); err != nil {
			return usageError{err}
		}
	}
	cfg, err := storeConfig(f.dataDir)
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
	switch {
	case sub == "create" && f.integration != "":
		raw, hash := certdesk.NewToken()
		t := &store.IntegrationToken{Name: f.integration, Scopes: scopes, Hash: hash, ExpiresAt: time.Now().UTC().Add(ttl)}
		if err := st.CreateIntegrationToken(ctx, t, cfg.TokenMaxTTL); err != nil {
			return err
		}
		fmt.Fprintln(stdout, auth.IntegrationToken(raw))
		fmt.Fprintf(stdout, "integration token %s for %s (%s), expires %s — shown once: keep it now\n", t.ID, t.Name, certdesk.JoinScopes(t.Scopes), t.ExpiresAt.Format(time.RFC3339))
		return nil
	case sub == "create":
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
	case sub == "list":
		return listTokens(ctx, st, f, stdout)
	}
	if err := revokeToken(ctx, st, cmd.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "revoked", cmd.Arg(0))
	return nil
}

// check reads what token create was asked for: an agent's token (--agent,
// --name) or an integration's (--integration, --scopes), not a mix.
func (f *tokenFlags) check(cmd *command) ([]certdesk.Scope, error) {
	set := map[string]bool{}
	cmd.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case f.agent == "" && f.integration == "":
		return nil, usagef("token create: --agent EMAIL (the agent the token acts as) or --integration NAME (a system of record) is required")
	case f.agent != "" && set["scopes"]:
		return nil, usagef("token create: --scopes is for --integration tokens; an agent's token acts with the agent's role")
	case f.agent != "":
		return nil, nil
	case set["name"]:
		return nil, usagef("token create: --name is for --agent tokens; an integration token is named by --integration")
	case f.scopes == "":
		return nil, usagef("token create: --integration needs --scopes, some of %s", certdesk.JoinScopes(certdesk.Scopes))
	}
	if msg := certdesk.TextProblem(f.integration, false); msg != "" {
		return nil, usagef("token create: --integration %s", msg)
	}
	if len(f.integration) > store.MaxIntegrationName {
		return nil, usagef("token create: --integration is longer than %d bytes", store.MaxIntegrationName)
	}
	scopes, err := certdesk.ParseScopes(f.scopes)
	if err != nil {
		return nil, usagef("token create: --scopes: %s", certdesk.ErrorMessage(err))
	}
	return scopes, nil
}

// listTokens prints the tokens of both kinds (the agent's or the
// integration's only when asked), never the tokens themselves.
func listTokens(ctx context.Context, st *store.Store, f *tokenFlags, stdout io.Writer) error {
	var ats []store.AccessToken
	if f.integration == "" {
		agentID := ""
		if f.agent != "" {
			a, err := st.AgentByEmail(ctx, f.agent)
			if err != nil {
				return fmt.Errorf("token list: no agent with the email %q", f.agent)
			}
			agentID = a.ID
		}
		var err error
		if ats, err = st.AccessTokens(ctx, agentID); err != nil {
			return err
		}
	}
	var its []store.IntegrationToken
	if f.agent == "" {
		all, err := st.IntegrationTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range all {
			if f.integration == "" || t.Name == f.integration {
				its = append(its, t)
			}
		}
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tAGENT\tNAME\tSCOPES\tEXPIRES\tLAST USED\tREVOKED")
	for _, t := range ats {
		fmt.Fprintf(w, "%s\tagent\t%s\t%s\t-\t%s\t%s\t%s\n", t.ID, t.AgentID, t.Name, t.ExpiresAt.Format(time.DateOnly), stamp(t.LastUsedAt), stamp(t.RevokedAt))
	}
	for _, t := range its {
		fmt.Fprintf(w, "%s\tintegration\t-\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, certdesk.JoinScopes(t.Scopes), t.ExpiresAt.Format(time.DateOnly), stamp(t.LastUsedAt), stamp(t.RevokedAt))
	}
	return w.Flush()
}

// revokeToken revokes a live token of either kind by its id.
func revokeToken(ctx context.Context, st *store.Store, id string) error {
	err := st.RevokeAccessToken(ctx, id)
	if errors.Is(err, certdesk.ErrNotFound) {
		err = st.RevokeIntegrationToken(ctx, id)
	}
	if errors.Is(err, certdesk.ErrNotFound) {
		return fmt.Errorf("token revoke: no live token %q (see `certdesk token list`)", id)
	}
	return err
}

type tokenFlags struct{ agent, integration, scopes, name, ttl, dataDir string }

// tokenCommand is a token subcommand's flags; nil for an unknown one.
func tokenCommand(sub string, stdout io.Writer) (*command, *tokenFlags) {
	var cmd *command
	f := &tokenFlags{}
	switch sub {
	case "create":
		cmd = newCommand("token create", "token create (--agent EMAIL [--name NAME] | --integration NAME --scopes S[,S…]) [--ttl 90d] [--data-dir DIR]",
			"Makes a personal access token for an agent (Authorization: Bearer cdp_…), or an integration token for a system of record (Bearer cdi_…: only the integration API, within its scopes: "+certdesk.JoinScopes(certdesk.Scopes)+"), and prints it once. It lives at most CERTDESK_TOKEN_MAX_TTL (default 8760h, a year).", stdout)
		cmd.StringVar(&f.agent, "agent", "", "the agent's email: a token that acts as the agent")
		cmd.StringVar(&f.name, "name", "api", "what the agent's token is for")
		cmd.StringVar(&f.integration, "integration", "", "the system of record's name (e.g. certification-system): an integration token, never an agent")
		cmd.StringVar(&f.scopes, "scopes", "", "what the integration token may write, comma-separated: "+certdesk.JoinScopes(certdesk.Scopes))
		cmd.StringVar(&f.ttl, "ttl", "90d", "how long it works (e.g. 720h or 90d), at most CERTDESK_TOKEN_MAX_TTL")
	case "list":
		cmd = newCommand("token list", "token list [--agent EMAIL | --integration NAME] [--data-dir DIR]",
			"Lists the tokens, agents' and integrations' (or one agent's or one integration's), never the tokens themselves.", stdout)
		cmd.StringVar(&f.agent, "agent", "", "only this agent's tokens (their email)")
		cmd.StringVar(&f.integration, "integration", "", "only this integration's tokens (its name)")
	case "revoke":
		cmd = newCommand("token revoke", "token revoke [--data-dir DIR] ID", "Revokes a token, an agent's or an integration's, at once (its id from `certdesk token list`).", stdout)
	default:
		return nil, nil
	}
	cmd.StringVar(&f.dataDir, "data-dir", "", "use the store of `certdesk dev` in this folder")
	return cmd, f
}

// storeConfig is the configuration of the commands that need only the store
// (token, staff, import): the database
// (or the store of `certdesk dev` in dataDir) and the token lifetime.
func storeConfig(dataDir string) (config.Config, error) {
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
