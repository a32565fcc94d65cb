package inbound

import (
	"regexp"
	"strings"
)

// NewText returns what the sender wrote in a reply: without the quoted
// history (the "On … wrote:" block and its "> " lines, Outlook's
// "Original Message" or "From: … Sent: …" headers and everything below
// them, in English, French, German, Spanish, Portuguese, Dutch and
// Italian), and without the signature (after a "-- " line) or a mobile
// client's "Sent from my iPhone". Quoted lines between the sender's own
// (an answer written inline, or below the quote) are dropped and the
// sender's lines kept. A forwarded message is kept: the sender chose to
// include it. Text that is nothing but history comes back empty.
func NewText(text string) string {
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"), "\n")
	var out []string
scan:
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case forwarded.MatchString(strings.TrimSpace(line)):
			out = append(out, lines[i:]...) // kept whole, its headers too
			break scan
		case isSignatureDelimiter(line):
			break scan
		case isQuoted(line):
			continue
		case originalMessage.MatchString(line), isHeaderBlock(lines, i):
			break scan
		}
		if n := attribution(lines, i); n > 0 {
			// The quote it introduces is dropped line by line; an
			// attribution followed by unquoted text (Outlook on the web,
			// some mobile clients) is followed by nothing of the sender.
			j := i + n
			for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
				j++
			}
			if j < len(lines) && !isQuoted(lines[j]) {
				break scan
			}
			i = j - 1
			continue
		}
		out = append(out, line)
	}
	// Below the text: blank lines, separators, a mobile signature.
	for len(out) > 0 {
		last := strings.TrimSpace(out[len(out)-1])
		if last == "" || separator.MatchString(last) || mobileSignature.MatchString(last) {
			out = out[:len(out)-1]
			continue
		}
		break
	}
	for len(out) > 0 && strings.TrimSpace(out[0]) == "" {
		out = out[1:]
	}
	for i, l := range out {
		out[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(out, "\n")
}

// isSignatureDelimiter is the "-- " line (often sent without its space).
func isSignatureDelimiter(line string) bool {
	return strings.TrimRight(line, " \t") == "--" || line == "-- "
}

func isQuoted(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), ">")
}

// Attribution lines end in the verb; Gmail wraps a long one over two or
// three lines, so joined lines are tried too. \p{Zs} covers the
// (narrow) no-break space French puts before the colon.
var attributions = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^on\s.{4,300}\swrote\s?:$`),                           // English: On Mon, 1 Jan 2024 at 10:00, X <x@y> wrote:
	regexp.MustCompile(`(?i)^le\s.{4,300}\sa\s+écrit[\s\p{Zs}]*:$`),               // French: Le lun. 1 janv. 2024 à 10:00, X <x@y> a écrit :
	regexp.MustCompile(`(?i)^am\s.{4,300}\sschrieb\s.{0,200}:$`),                  // German: Am 01.01.2024 um 10:00 schrieb X <x@y>:
	regexp.MustCompile(`(?i)^am\s.{4,300}\s(hat|haben)\s.{0,200}\sgeschrieben:$`), // German (Apple): Am 01.01.2024 um 10:00 hat X <x@y> geschrieben:
	regexp.MustCompile(`(?i)^el\s.{4,300}\sescribió\s?:$`),                        // Spanish: El lun, 1 ene 2024 a las 10:00, X (<x@y>) escribió:
	regexp.MustCompile(`(?i)^em\s.{4,300}\sescreveu\s?:$`),                        // Portuguese: Em seg., 1 de jan. de 2024 às 10:00, X <x@y> escreveu:
	regexp.MustCompile(`(?i)^op\s.{4,300}\sschreef\s.{0,200}:$`),                  // Dutch: Op ma 1 jan 2024 om 10:00 schreef X <x@y>:
	regexp.MustCompile(`(?i)^il\s.{4,300}\sha\s+scritto\s?:$`),                    // Italian: Il giorno lun 1 gen 2024 alle ore 10:00 X <x@y> ha scritto:
}

// bareAttribution is "X <x@y> wrote:" without a date (Thunderbird, old
// clients): an attribution only when a quote follows it.
var bareAttribution = regexp.MustCompile(`(?i)(\swrote|\sa\s+écrit|\sschrieb|\sescribió|\sescreveu|\sschreef|\sha\s+scritto)[\s\p{Zs}]*:$`)

// attribution returns how many lines, from i, introduce a quote; 0 when
// line i does not.
func attribution(lines []string, i int) int {
	joined := ""
	for n := 1; n <= 3 && i+n <= len(lines); n++ {
		l := strings.TrimSpace(lines[i+n-1])
		if l == "" || isQuoted(l) {
			return 0
		}
		joined = strings.TrimSpace(joined + " " + l)
		for _, re := range attributions {
			if re.MatchString(joined) {
				return n
			}
		}
		if n == 1 && bareAttribution.MatchString(joined) && len(joined) < 200 {
			if j := nextNonBlank(lines, i+1); j < len(lines) && isQuoted(lines[j]) {
				return 1
			}
		}
	}
	return 0
}

func nextNonBlank(lines []string, i int) int {
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	return i
}

// forwarded introduces a forwarded message (Gmail, Apple Mail,
// Thunderbird, in the languages above).
var forwarded = regexp.MustCompile(`(?i)^(-{3,}\s*(forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|mensagem encaminhada|messaggio inoltrato|doorgestuurd bericht)\s*-{3,}|begin forwarded message\s?:|début du message réexpédié\s?:|anfang der weitergeleiteten nachricht\s?:|inicio del mensaje reenviado\s?:|início da mensagem reencaminhada\s?:|inizio messaggio inoltrato\s?:|begin doorgestuurd bericht\s?:)$`)

// originalMessage is Outlook's (and others') separator above a quoted
// message.
var originalMessage = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|mensagem original|messaggio originale|oorspronkelijk bericht|originalnachricht)\s*-{2,}\s*$`)

// Outlook quotes a message under its headers, unmarked: a From line, then
// within a few lines its date.
var (
	headerFrom = regexp.MustCompile(`(?i)^\s*\*?(from|de|von|van|da)\s*\*?\s*:\s*\*?\s*\S`)
	headerDate = regexp.MustCompile(`(?i)^\s*\*?(sent|date|envoyé|gesendet|datum|enviado|enviada|fecha|data|verzonden|inviato)\s*\*?\s*:\s*\*?\s*\S`)
)

func isHeaderBlock(lines []string, i int) bool {
	if !headerFrom.MatchString(lines[i]) {
		return false
	}
	for j := i + 1; j < len(lines) && j <= i+4; j++ {
		if headerDate.MatchString(lines[j]) {
			return true
		}
	}
	return false
}

// separator is a line of underscores or dashes (Outlook draws one above
// the quoted headers).
var separator = regexp.MustCompile(`^[_\-=]{10,}$`)

// mobileSignature is the line a phone's mail client adds.
var mobileSignature = regexp.MustCompile(`(?i)^(sent from my .{1,40}|sent from (outlook|mail|yahoo mail|gmail|proton mail|protonmail)\b.{0,40}|get outlook for .{1,30}|sent via .{1,40}|envoyé de mon .{1,40}|envoyé depuis .{1,40}|von meinem .{1,40} gesendet|gesendet von .{1,40}|enviado desde mi .{1,40}|enviado desde .{1,40}|enviado do meu .{1,40}|enviado de meu .{1,40}|verzonden met .{1,40}|verstuurd vanaf mijn .{1,40}|inviato da .{1,40})$`)
