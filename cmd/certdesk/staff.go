package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// runStaff manages agents and supervisors by hand, for a deployment without
// app roles and for break-glass access:
//
//	certdesk staff add --email E --role agent|supervisor [--name N]
//	certdesk staff list
//	certdesk staff set-role --email E --role R
//	certdesk staff disable --email E
//	certdesk staff enable --email E
//
// With CERTDESK_OIDC_AGENT_ROLE/_SUPERVISOR_ROLE set, members also come
// from the identity provider's app roles at each sign-in (source oidc).
func runStaff(ctx context.Context, args []string, stdout io.Writer) error {
	sub, cmd, f, args, err := subcommand("staff", []string{"add", "list", "set-role", "disable", "enable"}, args, stdout, staffCommand)
	if err != nil {
		return err
	}
	if err := cmd.parse(args); err != nil {
		return err
	}
	role := certdesk.Role(f.role)
	switch {
	case sub != "list" && f.email == "":
		return usagef("staff %s: --email is required", sub)
	case (sub == "add" || sub == "set-role") && !role.Staff():
		return usagef("staff %s: --role must be agent or supervisor, not %q", sub, f.role)
	}
	email := f.email
	if sub == "add" {
		var err error
		if email, err = certdesk.ParseEmail(f.email); err != nil {
			return usagef("staff add: --email: %v", err)
		}
	}
	cfg, err := storeConfig(f.dataDir)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	var a certdesk.Agent
	switch sub {
	case "list":
		staff, err := st.Staff(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "EMAIL\tNAME\tROLE\tSOURCE\tSTATUS\tLAST SIGN-IN")
		for _, a := range staff {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Email, a.Name, a.Role, a.Source, staffStatus(a), stampTime(a.LastSignInAt))
		}
		return w.Flush()
	case "add":
		a, err = st.AddStaff(ctx, store.StaffIdentity{Email: email, Name: f.name, Role: role})
	case "set-role":
		a, err = st.SetStaffRole(ctx, email, role)
	case "disable":
		a, err = st.DisableStaff(ctx, email)
	case "enable":
		a, err = st.EnableStaff(ctx, email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s): %s, %s\n", a.Email, a.Name, a.Role, staffStatus(a))
	return nil
}

type staffFlags struct{ email, role, name, dataDir string }

// staffCommand is a staff subcommand's flags; nil for an unknown one.
func staffCommand(sub string, stdout io.Writer) (*command, *staffFlags) {
	var cmd *command
	f := &staffFlags{}
	switch sub {
	case "add":
		cmd = newCommand("staff add", "staff add --email EMAIL --role agent|supervisor [--name NAME] [--data-dir DIR]",
			"Adds a staff member by hand. They sign in with the identity provider (matched by this email); their role stays the staff list's until the provider's app roles give them one.", stdout)
		cmd.StringVar(&f.role, "role", "", "agent or supervisor (required)")
		cmd.StringVar(&f.name, "name", "", "their name (default: the address's local part; a sign-in updates it)")
	case "list":
		cmd = newCommand("staff list", "staff list [--data-dir DIR]", "Lists the staff: role, where the role comes from (manual or oidc), status and last sign-in.", stdout)
	case "set-role":
		cmd = newCommand("staff set-role", "staff set-role --email EMAIL --role agent|supervisor [--data-dir DIR]",
			"Changes a member's role; from then on it is the staff list's, not the provider's, until a sign-in carries an app role again.", stdout)
		cmd.StringVar(&f.role, "role", "", "agent or supervisor (required)")
	case "disable":
		cmd = newCommand("staff disable", "staff disable --email EMAIL [--data-dir DIR]",
			"Disables a member at once: their sessions and tokens stop, their claimed cases go back to the queue. Only `staff enable` undoes it.", stdout)
	case "enable":
		cmd = newCommand("staff enable", "staff enable --email EMAIL [--data-dir DIR]", "Enables a disabled member; they sign in again (old sessions and tokens stay revoked).", stdout)
	default:
		return nil, nil
	}
	if sub != "list" {
		cmd.StringVar(&f.email, "email", "", "the member's email (required)")
	}
	cmd.StringVar(&f.dataDir, "data-dir", "", "use the store of `certdesk dev` in this folder")
	return cmd, f
}

func staffStatus(a certdesk.Agent) string {
	switch {
	case a.Active():
		return "active"
	case a.DisabledReason == certdesk.StaffRoleRemoved:
		return "disabled (role removed by the provider)"
	}
	return "disabled"
}

func stampTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04")
}
