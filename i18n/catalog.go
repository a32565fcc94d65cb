package i18n

// messages are the translations of every learner-facing message, keyed by
// its English text. Verbs (%s, %d) keep their order in every language.
var messages = map[string]map[string]string{}
