-- A learning profile certdesk made at an account's first sign-in (as the
-- learning site would). While it holds only that account and nothing else
-- (no connected certification profile, no case), the account's owner may
-- move the account to their main learning profile by signing in with it
-- ("Add account"): Ben's personal account, signed in once on its own, can
-- still join the learning profile he works from.
ALTER TABLE learning_profiles ADD COLUMN made_at_sign_in BOOLEAN NOT NULL DEFAULT FALSE;
