-- Who hears of what. A learner's language (i18n: "en", "es", … "pt-BR";
-- '' = not chosen) is kept on their learning profile when they act in the
-- portal in a language they chose, so mail sent later (a merge an agent
-- opened, the inactivity sweep) speaks it too. A staff member may ask to
-- be emailed when a case is assigned to them, and dismisses the console's
-- "assigned to you" notice up to a time (on the row, so every browser
-- agrees).
ALTER TABLE learning_profiles ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN email_on_assign BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE agents ADD COLUMN assigned_seen_at {{.Time}};
