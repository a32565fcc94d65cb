-- Staff: agents and supervisors come from the identity provider's app roles
-- (source oidc: the roles in each sign-in's ID token decide) or from
-- `certdesk staff` (source manual: for deployments without app roles and
-- for break-glass access). A disabled member's sessions and tokens stop at
-- once; disabled_reason says why (removed_role: the provider stopped giving
-- a role, and giving it again enables them; disabled: a person disabled
-- them, and only `certdesk staff enable` undoes it).
ALTER TABLE agents ADD COLUMN source TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'oidc'));
ALTER TABLE agents ADD COLUMN disabled_at {{.Time}};
ALTER TABLE agents ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN last_sign_in_at {{.Time}};
