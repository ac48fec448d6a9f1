import { agentsMessages } from "../../agents/messages.js";
import { deskMessages } from "../../desk/messages.js";
import { timersMessages } from "../../timers/messages.js";
import type { MessageKey } from "./en.js";

export const de: Record<MessageKey, string> = {
  "app.name": "Sesame",
  "app.tagline": "Kontohilfe",
  "nav.home": "Hilfe-Center",
  "nav.signin": "Anmelden",
  "nav.recover": "Mein Konto wiederherstellen",
  "nav.language": "Sprache",
  "nav.skip": "Zum Inhalt springen",

  "home.title": "Wie können wir helfen?",
  "home.intro":
    "Sie kommen nicht mehr in Ihr Konto? Sie können wieder darauf zugreifen, ohne das gesperrte Postfach zu verwenden.",
  "home.recover.title": "Mein Konto wiederherstellen",
  "home.recover.body":
    "Wir senden einen Code an Ihre Ersatz-E-Mail-Adresse oder Ersatz-Telefonnummer, danach wählen Sie ein neues Passwort.",
  "home.recover.action": "Wiederherstellung starten",
  "home.contact.title": "Support kontaktieren",
  "home.contact.body":
    "Wenn Sie keine Ihrer Ersatzadressen oder -nummern mehr erreichen, starten Sie eine Wiederherstellung und wählen Sie „{action}“: Jemand aus unserem Support-Team übernimmt Ihren Vorgang und hält Sie über eine Adresse Ihrer Wahl auf dem Laufenden.",
  "home.signin.title": "Anmelden",
  "home.signin.body": "Sie kennen Ihr Passwort? Melden Sie sich hier an.",

  "signin.title": "Anmelden",
  "signin.address": "E-Mail-Adresse",
  "signin.password": "Passwort",
  "signin.submit": "Anmelden",
  "signin.invalid": "Die Adresse oder das Passwort ist nicht korrekt.",
  "signin.locked.title": "Ihr Konto ist gesperrt",
  "signin.locked.compromise":
    "Wir haben Ihr Konto gesperrt, weil wir vermuten, dass jemand anderes es verwenden wollte. Ihr Passwort war richtig: Stellen Sie Ihr Konto wieder her, um ein neues Passwort zu wählen und wieder hineinzukommen.",
  "signin.locked.brute_force":
    "Von unbekannten Geräten aus wurden zu viele falsche Passwörter versucht. Die Sperre endet automatisch am {until}; Sie können Ihr Konto auch jetzt schon wiederherstellen.",
  "signin.locked.other":
    "Ihr Konto wird von unserem Team überprüft. Stellen Sie Ihr Konto wieder her oder kontaktieren Sie den Support.",
  "signin.locked.action": "Mein Konto wiederherstellen",
  "signin.success.body": "Willkommen zurück, {name}.",
  "signin.forgot": "Passwort vergessen oder ausgesperrt?",
  "signin.address.missing": "Geben Sie die E-Mail-Adresse Ihres Kontos ein, zum Beispiel lena@beispiel.de.",
  "signin.address.incomplete":
    "Geben Sie Ihre vollständige Adresse ein, mit dem @ und dem, was folgt, zum Beispiel lena@beispiel.de.",
  "signin.password.missing": "Geben Sie Ihr Passwort ein.",
  "account.title": "Ihr Konto",
  "account.address": "Adresse",
  "account.status": "Status",
  "account.status.active": "Aktiv",
  "account.status.locked": "Gesperrt",
  "account.backups": "Ersatzadressen und -nummern",
  "account.backups.none": "Noch keine.",
  "account.backups.unverified": "(nicht bestätigt)",
  "account.case":
    "Sie haben einen offenen Supportfall, Referenz {ref}: Unser Team schreibt Ihnen an die Adresse, die Sie angegeben haben. Halten Sie die Referenz bereit.",
  "account.signout": "Abmelden",
  "account.help": "Zurück zum Hilfe-Center",
  "account.signedout.title": "Sie sind abgemeldet",
  "account.signedout.body": "Ihre Sitzung auf diesem Gerät ist beendet.",

  "recover.start.title": "Ihr Konto wiederherstellen",
  "recover.start.intro":
    "Geben Sie die Adresse des Kontos ein, das Sie zurückhaben möchten. Wir senden nie etwas an diese Adresse: Möglicherweise ist genau sie gesperrt.",
  "recover.start.address": "Adresse Ihres Kontos",
  "recover.start.submit": "Weiter",
  "recover.example.address": "vorname.nachname@beispiel.de",
  "form.renewed":
    "Zu Ihrer Sicherheit wurde dieses Formular erneuert. Prüfen Sie es und senden Sie es noch einmal.",

  "recover.channel.title": "Wo können wir Sie erreichen?",
  "recover.channel.intro":
    "Geben Sie eine Ersatz-E-Mail-Adresse oder Ersatz-Telefonnummer, die Sie uns für dieses Konto genannt haben, vollständig ein. Wenn sie übereinstimmt, senden wir dorthin einen 6-stelligen Code.",
  "recover.channel.email.hint":
    "Ein anderes Postfach als das gesperrte, zum Beispiel vorname.nachname@beispiel.de.",
  "recover.channel.phone.hint": "Mit Ländervorwahl, zum Beispiel +32 470 12 34 56.",
  "recover.channel.kind.email": "E-Mail",
  "recover.channel.kind.phone": "SMS",
  "recover.channel.value": "Ersatzadresse oder Ersatz-Telefonnummer",
  "recover.channel.submit": "Code zusenden",
  "recover.channel.noaccess": "Ich erreiche keine davon",

  "recover.code.title": "Code eingeben",
  "recover.code.intro":
    "Wenn Ihre Eingabe zu einer Ersatzadresse oder -nummer dieses Kontos passt, ist ein 6-stelliger Code unterwegs. Ein Code per E-Mail gilt 24 Stunden, ein Code per SMS 10 Minuten.",
  "recover.code.label": "6-stelliger Code",
  "recover.code.submit": "Bestätigen",
  "recover.code.resend": "Neuen Code senden oder andere Adresse verwenden",
  "recover.code.sentto": "Sie haben einen Code für {destination} angefordert.",
  "recover.link.title": "Bestätigen Sie, dass Sie es sind",
  "recover.link.intro":
    "Sie haben den Link aus Ihrer Wiederherstellungs-E-Mail geöffnet. Klicken Sie auf die Schaltfläche, um fortzufahren: Bis dahin ändert sich nichts.",
  "recover.link.submit": "Weiter",

  "recover.password.title": "Neues Passwort wählen",
  "recover.password.intro":
    "Wählen Sie ein Passwort, das Sie in letzter Zeit nicht verwendet haben. Ein langer Satz aus mehreren Wörtern ist sicher und leicht zu merken.",
  "recover.password.deadline":
    "Sie haben 30 Minuten Zeit, es zu wählen; danach fordern Sie einfach einen neuen Code an.",
  "recover.password.label": "Neues Passwort",
  "recover.password.confirm": "Neues Passwort wiederholen",
  "recover.password.case":
    "Ihr Vorgang {ref} bleibt offen; sobald Ihr Passwort gespeichert ist, informieren wir das Team.",
  "recover.password.submit": "Neues Passwort speichern",

  "recover.done.title": "Ihr Konto ist wiederhergestellt",
  "recover.done.body":
    "Ihr neues Passwort ist gespeichert. Wir haben alle Geräte abgemeldet, die Ihr Konto verwendet haben, und Ihre Ersatzadressen über diese Wiederherstellung informiert.",
  "recover.done.held":
    "Ihr neues Passwort ist gespeichert, aber Ihr Konto wird außerdem von unserem Team überprüft. Ein Vorgang wurde eröffnet: Vorgangsnummer {ref}. Wir melden uns schriftlich bei Ihnen.",
  "recover.done.signin": "Jetzt anmelden",

  "recover.noaccess.title": "Wir helfen Ihnen persönlich",
  "recover.noaccess.intro":
    "Sie erreichen keine Ihrer Ersatzadressen oder -nummern. Jemand aus unserem Support-Team prüft, ob das Konto Ihnen gehört, und hilft Ihnen, wieder hineinzukommen. Nennen Sie uns eine E-Mail-Adresse, unter der wir Ihnen schreiben können, aber nicht die gesperrte.",
  "recover.noaccess.contact": "E-Mail-Adresse, unter der wir Sie erreichen",
  "recover.noaccess.submit": "Support-Vorgang eröffnen",

  "recover.case.title": "Ihr Vorgang ist eröffnet",
  "recover.case.ref": "Ihre Vorgangsnummer: {ref}",
  "recover.case.by": "{team} schreibt Ihnen an {contact} bis {due}.",
  "recover.case.when": "Wir schreiben Ihnen an {contact}.",
  "recover.case.meanwhile":
    "Bis dahin müssen Sie nichts weiter tun. Wenn Sie wieder Zugriff auf eine Ihrer Ersatzadressen oder -nummern haben, können Sie Ihr Konto weiterhin selbst wiederherstellen.",
  "cases.status.title": "Ihr Vorgang",
  "cases.status.written": "Nachrichten zu Ihrem Fall",
  "cases.status.none": "Noch nichts.",

  "error.title": "Etwas ist schiefgelaufen",
  "error.back": "Zurück",
  "error.ERR_VALIDATION": "Einige Ihrer Angaben fehlen oder sind ungültig.",
  "error.ERR_PAYLOAD_TOO_LARGE": "Diese Anfrage ist zu groß.",
  "error.ERR_UNSUPPORTED_MEDIA_TYPE":
    "Diese Anfrage muss als JSON gesendet werden (Content-Type: application/json).",
  "error.ERR_UNAUTHORIZED": "Diese Anfrage erfordert ein gültiges Service-Token.",
  "error.ERR_FORBIDDEN": "Dazu sind Sie nicht berechtigt.",
  "error.ERR_NOT_FOUND": "Diese Seite oder Ressource existiert nicht.",
  "error.ERR_ACCOUNT_EXISTS": "Ein Konto mit dieser Adresse existiert bereits.",
  "error.ERR_ACCOUNT_NOT_FOUND": "Es gibt kein Konto mit dieser Adresse.",
  "error.ERR_INVALID_CREDENTIALS": "Die Adresse oder das Passwort ist nicht korrekt.",
  "error.ERR_ACCOUNT_LOCKED":
    "Dieses Konto ist gesperrt. Stellen Sie es wieder her, um wieder hineinzukommen.",
  "error.ERR_SESSION_INVALID": "Diese Sitzung ist beendet. Melden Sie sich erneut an.",
  "error.ERR_RECOVERY_NOT_FOUND":
    "Diese Wiederherstellung existiert nicht oder ist beendet. Beginnen Sie von vorn.",
  "error.ERR_RECOVERY_STEP":
    "Dieser Schritt ist gerade nicht verfügbar. Fahren Sie dort fort, wo die Wiederherstellung steht.",
  "error.ERR_RECOVERY_EXPIRED":
    "Diese Wiederherstellung hat zu lange gedauert und ist beendet. Beginnen Sie von vorn: Es dauert nur eine Minute.",
  "error.ERR_PASSWORD_TOKEN":
    "Für diesen Schritt muss Ihr Code bestätigt sein. Bestätigen Sie den Code erneut oder fordern Sie einen neuen an.",
  "error.ERR_CODE_FORMAT":
    "Geben Sie die 6 Ziffern des Codes ein, zum Beispiel 123 456. Dieser Versuch wurde nicht gezählt.",
  "error.ERR_CODE_SUPERSEDED":
    "Inzwischen wurde ein neuerer Code gesendet. Verwenden Sie den Code oder den Link aus der neuesten Nachricht.",
  "error.ERR_LINK_INVALID":
    "Dieser Link ist nicht gültig. Öffnen Sie den Link aus der neuesten E-Mail oder geben Sie deren Code ein.",
  "error.ERR_TOO_MANY_WRONG_CODES":
    "Für diese Adresse wurden heute zu viele falsche Codes eingegeben. Versuchen Sie es in {retryAfterHours} Stunden erneut. Kam Ihr Code per E-Mail, funktioniert der Link in Ihrer neuesten E-Mail weiterhin; kam er per SMS, teilen Sie uns mit, dass Sie Ihre Ersatzadressen nicht erreichen, und unser Team hilft Ihnen.",
  "error.ERR_TOO_MANY_STARTS":
    "Von Ihrer Verbindung aus wurden zu viele Wiederherstellungen für diese Adresse gestartet. Versuchen Sie es in {retryAfterMinutes} Minuten erneut, oder teilen Sie uns mit, dass Sie keine Ihrer Ersatzadressen erreichen.",
  "error.ERR_ADDRESS_EMPTY": "Geben Sie die Adresse des Kontos ein, das Sie zurückhaben möchten.",
  "error.ERR_ADDRESS_INCOMPLETE": "Geben Sie die vollständige Adresse ein, zum Beispiel {example}.",
  "error.ERR_BACKUP_EMPTY": "Geben Sie eine Ersatzadresse oder Telefonnummer ein.",
  "error.ERR_BACKUP_IS_ACCOUNT":
    "Das ist die Adresse des gesperrten Kontos. Geben Sie eine andere ein: eine Ersatzadresse oder Telefonnummer, die Sie uns genannt haben.",
  "error.ERR_CONTACT_EMPTY": "Geben Sie eine E-Mail-Adresse ein, unter der wir Ihnen schreiben können.",
  "error.ERR_PASSWORD_EMPTY": "Geben Sie Ihr neues Passwort ein.",
  "error.ERR_PASSWORD_MISMATCH":
    "Die beiden Passwörter stimmen nicht überein. Geben Sie in beide Felder dasselbe Passwort ein.",
  "error.ERR_CODE_INVALID": "Dieser Code ist nicht korrekt. Verbleibende Versuche: {attemptsLeft}.",
  "error.ERR_CODE_EXPIRED": "Dieser Code ist abgelaufen. Fordern Sie einen neuen an.",
  "error.ERR_TOO_MANY_ATTEMPTS": "Zu viele falsche Codes. Fordern Sie einen neuen Code an.",
  "error.ERR_TOO_MANY_CODES":
    "Für dieses Konto wurden zu viele Codes angefordert. Versuchen Sie es in {retryAfterMinutes} Minuten erneut, oder teilen Sie uns mit, dass Sie keine Ihrer Ersatzadressen erreichen.",
  "error.ERR_RATE_LIMITED":
    "Zu viele Anfragen von Ihrer Verbindung. Warten Sie eine Minute und versuchen Sie es erneut.",
  "error.ERR_PASSWORD_WEAK": "Dieses Passwort ist zu leicht zu erraten. {hint}",
  "error.ERR_PASSWORD_REUSED": "Das ist eines Ihrer letzten Passwörter. Wählen Sie ein neues.",
  "error.ERR_CONTACT_IS_ACCOUNT":
    "Geben Sie eine andere Adresse als die des gesperrten Kontos an: Diese können Sie womöglich nicht lesen.",
  "error.ERR_PHONE_INVALID":
    "Diese Telefonnummer ist ungültig. Geben Sie sie mit Ländervorwahl ein, zum Beispiel +32 470 12 34 56.",
  "error.ERR_CLOCK_NOT_MANUAL": "Die Uhr kann nur verstellt werden, wenn SESAME_CLOCK=manual gesetzt ist.",
  "error.ERR_CSRF": "Dieses Formular ist abgelaufen. Laden Sie die Seite neu und versuchen Sie es erneut.",
  "error.ERR_INTERNAL": "Ein unerwarteter Fehler ist aufgetreten. Referenz: {correlationId}.",
  "error.ERR_UNAVAILABLE":
    "Der Dienst ist kurz nicht verfügbar. Bitte versuchen Sie es in einigen Sekunden erneut.",
  "error.ERR_CHANNEL_UNAVAILABLE": "SMS sind hier nicht verfügbar; geben Sie eine Ersatz-E-Mail-Adresse ein.",
  "error.ERR_EMAIL_UNAVAILABLE":
    "E-Mails sind hier nicht verfügbar; geben Sie eine Ersatz-Telefonnummer ein.",
  "password.hint.default": "Verwenden Sie einen längeren Satz aus mehreren zusammenhanglosen Wörtern.",

  "mail.code.subject": "Ihr Sesame-Wiederherstellungscode",
  "mail.code.body":
    "Ihr Wiederherstellungscode lautet {code}\n\nEr ist 24 Stunden gültig. Öffnen Sie zur Bestätigung diesen Link und klicken Sie auf „Bestätigen“:\n{link}\n\nWenn Sie die Wiederherstellung des Kontos {account} nicht angefordert haben, ignorieren Sie diese Nachricht: Ohne den Code ändert sich nichts.",
  "sms.code.body":
    "Sesame-Code: {code}. 10 Minuten gültig. Geben Sie ihn niemals weiter, auch nicht an unseren Support.",
  "mail.recovered.subject": "Ihr Konto wurde wiederhergestellt",
  "mail.recovered.body":
    "Das Passwort Ihres Kontos {account} wurde am {at} über die Kontowiederherstellung geändert. Alle Geräte wurden abgemeldet.\n\nWenn Sie das nicht waren, antworten Sie auf diese Nachricht oder kontaktieren Sie sofort den Support: {helpUrl}",
  "sms.recovered.body":
    "Sesame: Das Passwort von {account} wurde über die Kontowiederherstellung geändert. Waren Sie das nicht? Kontaktieren Sie den Support: {helpUrl}",
  "mail.case.subject": "Ihr Support-Vorgang {ref}",
  "mail.case.body":
    "Wir haben Ihre Anfrage erhalten. Ihre Vorgangsnummer lautet {ref}.\n\nJemand aus unserem Support-Team schreibt Ihnen an diese Adresse. Bewahren Sie diese Nummer auf und nennen Sie sie, wenn Sie uns kontaktieren. Hier können Sie Ihren Vorgang verfolgen:\n{statusUrl}",
  "mail.case.contact_added.subject": "Ein weiterer Kontakt wurde Ihrem Vorgang {ref} hinzugefügt",
  "mail.case.contact_added.body":
    "Jemand hat eine weitere Adresse ({masked}) angegeben, um zu Ihrem Vorgang {ref} erreicht zu werden. Nichts wurde entfernt: Wir schreiben auch weiterhin Ihnen.\n\nWenn Sie davon nichts wissen, antworten Sie auf diese Nachricht oder sagen Sie es uns, wenn wir Sie kontaktieren.",

  "dev.mailbox.footer": "Entwicklung: Keine E-Mail und keine SMS verlässt diesen Rechner; lesen Sie sie im",
  "dev.mailbox.title": "Entwicklungspostfach",
  "dev.mailbox.intro":
    "Es ist kein SMTP-Server und kein SMS-Gateway konfiguriert, daher werden Nachrichten hier aufbewahrt, statt versendet zu werden.",
  "dev.mailbox.empty": "Noch keine Nachrichten.",
  "dev.mailbox.to": "An",
  "dev.mailbox.at": "Zeitpunkt",
  "dev.mailbox.channel": "Kanal",
  ...deskMessages.de,
  ...agentsMessages.de,
  ...timersMessages.de,
};
