package inbound_test

import (
	"testing"

	"github.com/certdesk/certdesk/inbound"
)

func TestNewText(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"plain", "My MCID is 12345.\n\nThanks,\nAda", "My MCID is 12345.\n\nThanks,\nAda"},
		{"gmail", "Here is my ID.\n\nOn Mon, Jan 8, 2024 at 10:04 AM Certdesk <reply+abc@in.certdesk.example> wrote:\n\n> Dear Ada,\n> please send us a copy of your ID.\n>\n", "Here is my ID."},
		{"gmail wrapped attribution", "Attached.\r\n\r\nOn Mon, Jan 8, 2024 at 10:04 AM Certification Support Desk <\r\nreply+01hq3v5x7c9d2f4g6h8j0k1m2n@in.certdesk.example> wrote:\r\n\r\n> Dear Ada,\r\n", "Attached."},
		{"apple mail", "Yes, that is my old account.\n\nSent from my iPhone\n\n> On 8 Jan 2024, at 10:04, Certdesk <reply+abc@in.certdesk.example> wrote:\n>\n> Dear Ada,\n", "Yes, that is my old account."},
		{"apple mail attribution unquoted", "Done.\n\nOn 8 Jan 2024, at 10:04, Certdesk <support@certdesk.example> wrote:\n\n> We need your ID.", "Done."},
		{"outlook original message", "Please find the certificate attached.\n\nRegards\nBen\n\n-----Original Message-----\nFrom: Certdesk <support@certdesk.example>\nSent: Monday, January 8, 2024 10:04 AM\nTo: Ben <ben@example.org>\nSubject: Your case CD-4F7K2\n\nDear Ben,", "Please find the certificate attached.\n\nRegards\nBen"},
		{"outlook header block", "I took AZ-900 in 2021.\n\n________________________________\nFrom: Certdesk <support@certdesk.example>\nSent: Monday, 8 January 2024 10:04\nTo: ben@example.org\nSubject: Your case\n\nDear Ben,\nwhich exams did you take?", "I took AZ-900 in 2021."},
		{"outlook bold header block", "See attached.\n\n*From:* Certdesk <support@certdesk.example>\n*Sent:* Monday, January 8, 2024 10:04 AM\n*To:* ben@example.org\n*Subject:* Your case\n\nDear Ben,", "See attached."},
		{"outlook french", "Voici ma pièce d'identité.\n\nDe : Certdesk <support@certdesk.example>\nEnvoyé : lundi 8 janvier 2024 10:04\nÀ : claire@example.fr\nObjet : Votre demande", "Voici ma pièce d'identité."},
		{"outlook german", "Anbei mein Ausweis.\n\nVon: Certdesk <support@certdesk.example>\nGesendet: Montag, 8. Januar 2024 10:04\nAn: jonas@example.de\nBetreff: Ihr Fall", "Anbei mein Ausweis."},
		{"outlook german original", "Anbei.\n\n-----Ursprüngliche Nachricht-----\nVon: Certdesk <support@certdesk.example>\nGesendet: Montag", "Anbei."},
		{"french gmail", "Bonjour, voici le document.\n\nLe lun. 8 janv. 2024 à 10:04, Certdesk <reply+abc@in.certdesk.example> a écrit :\n\n> Bonjour Claire,", "Bonjour, voici le document."},
		{"french narrow no-break space", "Merci.\n\nLe 8 janv. 2024 à 10:04, Certdesk <support@certdesk.example> a écrit\u00a0:\n> Bonjour", "Merci."},
		{"german gmail", "Hier ist mein Nachweis.\n\nAm Mo., 8. Jan. 2024 um 10:04 Uhr schrieb Certdesk <\nreply+abc@in.certdesk.example>:\n\n> Hallo Jonas,", "Hier ist mein Nachweis."},
		{"german apple", "Danke!\n\nAm 08.01.2024 um 10:04 hat Certdesk <support@certdesk.example> geschrieben:\n\n> Hallo Jonas,", "Danke!"},
		{"spanish gmail", "Adjunto mi identificación.\n\nEl lun, 8 ene 2024 a las 10:04, Certdesk (<reply+abc@in.certdesk.example>) escribió:\n\n> Hola Lucía,", "Adjunto mi identificación."},
		{"portuguese gmail", "Segue o documento.\n\nEm seg., 8 de jan. de 2024 às 10:04, Certdesk <reply+abc@in.certdesk.example> escreveu:\n\n> Olá João,", "Segue o documento."},
		{"portuguese outlook", "Segue em anexo.\n\nDe: Certdesk <support@certdesk.example>\nEnviado: segunda-feira, 8 de janeiro de 2024 10:04\nPara: joao@example.pt\nAssunto: O seu caso", "Segue em anexo."},
		{"spanish mobile signature", "Listo, ya lo envié.\n\nEnviado desde mi iPhone\n\nEl 8 ene 2024, a las 10:04, Certdesk <support@certdesk.example> escribió:\n\n> Hola", "Listo, ya lo envié."},
		{"dutch", "Bijgevoegd.\n\nOp ma 8 jan 2024 om 10:04 schreef Certdesk <support@certdesk.example>:\n\n> Beste Sanne,", "Bijgevoegd."},
		{"italian", "In allegato.\n\nIl giorno lun 8 gen 2024 alle ore 10:04 Certdesk <support@certdesk.example> ha scritto:\n\n> Ciao Marco,", "In allegato."},
		{"signature delimiter", "My MCID is 998877.\n\n-- \nAda Lovelace\nAnalytical Engines Ltd\n+44 20 7946 0000", "My MCID is 998877."},
		{"signature delimiter without its space", "Here you go.\n--\nBen", "Here you go."},
		{"sent from my iphone", "Yes that's me\n\nSent from my iPhone", "Yes that's me"},
		{"get outlook for android", "Will do.\n\nGet Outlook for Android", "Will do."},
		{"german mobile", "Mache ich.\n\nVon meinem iPhone gesendet", "Mache ich."},
		{"french mobile", "D'accord.\n\nEnvoyé de mon iPhone", "D'accord."},
		{"bottom posting", "On Mon, Jan 8, 2024 at 10:04 AM Certdesk <support@certdesk.example> wrote:\n> Which exams did you take?\n\nAZ-900 and SC-900.", "AZ-900 and SC-900."},
		{"inline answers", "> Which exams did you take?\nAZ-900.\n\n> When?\nIn 2021.", "AZ-900.\n\nIn 2021."},
		{"thunderbird bare attribution", "Thanks.\n\nCertdesk wrote:\n> Dear Ada,", "Thanks."},
		{"quote without attribution", "Confirmed.\n\n> Dear Ada,\n> please confirm.", "Confirmed."},
		{"crlf", "Line one\r\nLine two\r\n\r\n> quoted\r\n", "Line one\nLine two"},
		{"only history", "On Mon, Jan 8, 2024 at 10:04 AM Certdesk <support@certdesk.example> wrote:\n> Dear Ada,", ""},
		{"forward kept", "Here is the email from my old employer.\n\n---------- Forwarded message ---------\nFrom: HR <hr@old.example>\nDate: Fri, 5 Jan 2024 at 09:00\nSubject: Your certificates\nTo: <ada@example.org>\n\nYour certificates are attached.", "Here is the email from my old employer.\n\n---------- Forwarded message ---------\nFrom: HR <hr@old.example>\nDate: Fri, 5 Jan 2024 at 09:00\nSubject: Your certificates\nTo: <ada@example.org>\n\nYour certificates are attached."},
		{"wrote in a sentence", "On Monday my manager wrote: please escalate.\nThanks", "On Monday my manager wrote: please escalate.\nThanks"},
		{"a line that starts with From", "From: my work address, which I no longer have.\nPlease use this one.", "From: my work address, which I no longer have.\nPlease use this one."},
		{"sent from a sentence", "Sent from my old account last year, the certificate never arrived.", "Sent from my old account last year, the certificate never arrived."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inbound.NewText(tt.text); got != tt.want {
				t.Errorf("NewText:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
