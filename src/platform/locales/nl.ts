import { agentsMessages } from "../../agents/messages.js";
import { deskMessages } from "../../desk/messages.js";
import { timersMessages } from "../../timers/messages.js";
import type { MessageKey } from "./en.js";

export const nl: Record<MessageKey, string> = {
  "app.name": "Sesame",
  "app.tagline": "Hulp bij uw account",
  "nav.home": "Helpcentrum",
  "nav.signin": "Aanmelden",
  "nav.recover": "Mijn account herstellen",
  "nav.language": "Taal",
  "nav.skip": "Naar de inhoud",

  "home.title": "Hoe kunnen we u helpen?",
  "home.intro":
    "Geen toegang meer tot uw account? U kunt weer binnenkomen zonder de geblokkeerde mailbox te gebruiken.",
  "home.recover.title": "Mijn account herstellen",
  "home.recover.body":
    "We sturen een code naar uw herstel-e-mailadres of hersteltelefoonnummer, daarna kiest u een nieuw wachtwoord.",
  "home.recover.action": "Herstel starten",
  "home.contact.title": "Contact met de helpdesk",
  "home.contact.body":
    "Kunt u geen van uw herstel-e-mailadressen of -telefoonnummers meer bereiken? Start dan een herstel en kies “{action}”: een medewerker van onze helpdesk neemt uw dossier over en houdt u op de hoogte via een adres dat u zelf kiest.",
  "home.signin.title": "Aanmelden",
  "home.signin.body": "Weet u uw wachtwoord nog? Meld u hier aan.",

  "signin.title": "Aanmelden",
  "signin.address": "E-mailadres",
  "signin.password": "Wachtwoord",
  "signin.submit": "Aanmelden",
  "signin.invalid": "Het adres of het wachtwoord is niet juist.",
  "signin.locked.title": "Uw account is geblokkeerd",
  "signin.locked.compromise":
    "We hebben uw account geblokkeerd omdat we denken dat iemand anders het probeerde te gebruiken. Uw wachtwoord was juist: herstel uw account om een nieuw wachtwoord te kiezen en weer toegang te krijgen.",
  "signin.locked.brute_force":
    "Er zijn vanaf onbekende apparaten te veel verkeerde wachtwoorden geprobeerd. De blokkering eindigt vanzelf op {until}; u kunt uw account ook nu al herstellen.",
  "signin.locked.other":
    "Uw account wordt door ons team gecontroleerd. Herstel uw account of neem contact op met de helpdesk.",
  "signin.locked.action": "Mijn account herstellen",
  "signin.success.body": "Welkom terug, {name}.",
  "signin.forgot": "Wachtwoord vergeten of geblokkeerd?",
  "signin.address.missing": "Typ het e-mailadres van uw account, bijvoorbeeld jan@voorbeeld.be.",
  "signin.address.incomplete":
    "Typ uw volledige adres, met de @ en wat erna komt, bijvoorbeeld jan@voorbeeld.be.",
  "signin.password.missing": "Typ uw wachtwoord.",
  "account.title": "Uw account",
  "account.address": "Adres",
  "account.status": "Status",
  "account.status.active": "Actief",
  "account.status.locked": "Geblokkeerd",
  "account.backups": "Reserveadressen en -nummers",
  "account.backups.none": "Nog geen.",
  "account.backups.unverified": "(niet bevestigd)",
  "account.case":
    "U hebt een open dossier bij onze klantendienst, referentie {ref}: ons team schrijft u op het adres dat u hebt opgegeven. Houd deze referentie bij de hand.",
  "account.signout": "Afmelden",
  "account.help": "Terug naar het helpcentrum",
  "account.signedout.title": "U bent afgemeld",
  "account.signedout.body": "Uw sessie op dit toestel is beëindigd.",

  "recover.start.title": "Uw account herstellen",
  "recover.start.intro":
    "Typ het adres van het account dat u terug wilt krijgen. We sturen nooit iets naar dat adres: misschien is het net dat adres dat geblokkeerd is.",
  "recover.start.address": "Adres van uw account",
  "recover.start.submit": "Doorgaan",
  "recover.example.address": "voornaam.naam@voorbeeld.be",
  "form.renewed": "Voor uw veiligheid is dit formulier vernieuwd. Controleer het en verstuur het opnieuw.",

  "recover.channel.title": "Waar kunnen we u bereiken?",
  "recover.channel.intro":
    "Typ volledig een herstel-e-mailadres of hersteltelefoonnummer dat u ons voor dit account hebt gegeven. Als het overeenkomt, sturen we daar een code van 6 cijfers naartoe.",
  "recover.channel.email.hint":
    "Een andere mailbox dan de geblokkeerde, bijvoorbeeld voornaam.naam@voorbeeld.be.",
  "recover.channel.phone.hint": "Met het landnummer, bijvoorbeeld +32 470 12 34 56.",
  "recover.channel.kind.email": "E-mail",
  "recover.channel.kind.phone": "Tekstbericht (sms)",
  "recover.channel.value": "Herstel-e-mailadres of -telefoonnummer",
  "recover.channel.submit": "Stuur mij een code",
  "recover.channel.noaccess": "Ik kan geen van deze bereiken",

  "recover.code.title": "Voer uw code in",
  "recover.code.intro":
    "Als wat u hebt getypt overeenkomt met een herstel-e-mailadres of -telefoonnummer van dit account, is er een code van 6 cijfers onderweg. Een code per e-mail is 24 uur geldig, een code per sms 10 minuten.",
  "recover.code.label": "Code van 6 cijfers",
  "recover.code.submit": "Bevestigen",
  "recover.code.resend": "Een nieuwe code sturen of een ander adres gebruiken",
  "recover.code.sentto": "U vroeg een code aan voor {destination}.",
  "recover.link.title": "Bevestig dat u het bent",
  "recover.link.intro":
    "U opende de link uit uw herstelmail. Druk op de knop om door te gaan: tot dan verandert er niets.",
  "recover.link.submit": "Doorgaan",

  "recover.password.title": "Kies een nieuw wachtwoord",
  "recover.password.intro":
    "Kies een wachtwoord dat u de laatste tijd niet hebt gebruikt. Een lange zin van meerdere woorden is sterk en makkelijk te onthouden.",
  "recover.password.deadline":
    "U hebt 30 minuten om het te kiezen; daarna vraagt u gewoon een nieuwe code aan.",
  "recover.password.label": "Nieuw wachtwoord",
  "recover.password.confirm": "Typ het nieuwe wachtwoord opnieuw",
  "recover.password.case":
    "Uw dossier {ref} blijft open; zodra uw wachtwoord is opgeslagen, laten we het team dat weten.",
  "recover.password.submit": "Mijn nieuwe wachtwoord opslaan",

  "recover.done.title": "U hebt uw account terug",
  "recover.done.body":
    "Uw nieuwe wachtwoord is opgeslagen. We hebben alle apparaten die uw account gebruikten afgemeld en uw herstel-e-mailadressen en -telefoonnummers over dit herstel ingelicht.",
  "recover.done.held":
    "Uw nieuwe wachtwoord is opgeslagen, maar uw account wordt ook door ons team gecontroleerd. Er is een dossier geopend: referentie {ref}. We nemen schriftelijk contact met u op.",
  "recover.done.signin": "Nu aanmelden",

  "recover.noaccess.title": "We helpen u persoonlijk",
  "recover.noaccess.intro":
    "U kunt geen van uw herstel-e-mailadressen of -telefoonnummers bereiken. Een medewerker van onze helpdesk controleert of het account van u is en helpt u weer binnen. Geef ons een e-mailadres waarop we u kunnen schrijven: niet het geblokkeerde adres.",
  "recover.noaccess.contact": "E-mailadres waarop we u kunnen bereiken",
  "recover.noaccess.submit": "Dossier openen bij de helpdesk",

  "recover.case.title": "Uw dossier is geopend",
  "recover.case.ref": "Uw referentie: {ref}",
  "recover.case.by": "{team} schrijft u op {contact} uiterlijk {due}.",
  "recover.case.when": "We schrijven u op {contact}.",
  "recover.case.meanwhile":
    "Intussen hoeft u niets anders te doen. Kunt u weer bij een van uw herstel-e-mailadressen of -nummers, dan kunt u uw account nog altijd zelf herstellen.",
  "cases.status.title": "Uw dossier",
  "cases.status.written": "Berichten over uw dossier",
  "cases.status.none": "Nog niets.",

  "error.title": "Er is iets misgegaan",
  "error.back": "Terug",
  "error.ERR_VALIDATION": "Een deel van wat u hebt verstuurd ontbreekt of is ongeldig.",
  "error.ERR_PAYLOAD_TOO_LARGE": "Dit verzoek is te groot.",
  "error.ERR_UNSUPPORTED_MEDIA_TYPE":
    "Dit verzoek moet als JSON worden verstuurd (Content-Type: application/json).",
  "error.ERR_UNAUTHORIZED": "Voor dit verzoek is een geldig servicetoken nodig.",
  "error.ERR_FORBIDDEN": "U hebt geen toestemming om dit te doen.",
  "error.ERR_NOT_FOUND": "Deze pagina of bron bestaat niet.",
  "error.ERR_ACCOUNT_EXISTS": "Er bestaat al een account met dit adres.",
  "error.ERR_ACCOUNT_NOT_FOUND": "Er is geen account met dit adres.",
  "error.ERR_INVALID_CREDENTIALS": "Het adres of het wachtwoord is niet juist.",
  "error.ERR_ACCOUNT_LOCKED": "Dit account is geblokkeerd. Herstel het om weer toegang te krijgen.",
  "error.ERR_SESSION_INVALID": "Deze sessie is beëindigd. Meld u opnieuw aan.",
  "error.ERR_RECOVERY_NOT_FOUND": "Dit herstel bestaat niet of is beëindigd. Begin opnieuw.",
  "error.ERR_RECOVERY_STEP": "Deze stap is nu niet beschikbaar. Ga verder waar het herstel nu staat.",
  "error.ERR_RECOVERY_EXPIRED":
    "Dit herstel duurde te lang en is beëindigd. Begin opnieuw: het duurt maar een minuutje.",
  "error.ERR_PASSWORD_TOKEN":
    "Voor deze stap moet uw code bevestigd zijn. Bevestig de code opnieuw, of vraag een nieuwe aan.",
  "error.ERR_CODE_FORMAT": "Typ de 6 cijfers van de code, bijvoorbeeld 123 456. Deze poging telt niet mee.",
  "error.ERR_CODE_SUPERSEDED":
    "Er is sindsdien een nieuwere code verstuurd. Gebruik de code of de link uit het laatste bericht dat u kreeg.",
  "error.ERR_LINK_INVALID":
    "Deze link is niet geldig. Open de link uit de laatste e-mail die u kreeg, of typ de code ervan.",
  "error.ERR_TOO_MANY_WRONG_CODES":
    "Er zijn vandaag te veel foute codes getypt voor dit adres. Probeer het over {retryAfterHours} uur opnieuw. Kwam uw code per e-mail, dan werkt de link in uw laatste e-mail nog altijd; kwam hij per sms, laat ons dan weten dat u uw herstelgegevens niet kunt bereiken en ons team helpt u verder.",
  "error.ERR_TOO_MANY_STARTS":
    "Er zijn vanaf uw verbinding te veel herstelpogingen gestart voor dit adres. Probeer het over {retryAfterMinutes} minuten opnieuw, of laat ons weten dat u geen van uw herstel-e-mailadressen of -telefoonnummers kunt bereiken.",
  "error.ERR_ADDRESS_EMPTY": "Typ het adres van het account dat u terug wilt.",
  "error.ERR_ADDRESS_INCOMPLETE": "Typ het volledige adres, bijvoorbeeld {example}.",
  "error.ERR_BACKUP_EMPTY": "Typ een herstel-e-mailadres of -telefoonnummer.",
  "error.ERR_BACKUP_IS_ACCOUNT":
    "Dit is het adres van het geblokkeerde account. Typ een ander: een herstel-e-mailadres of -telefoonnummer dat u ons gaf.",
  "error.ERR_CONTACT_EMPTY": "Typ een e-mailadres waarop we u kunnen schrijven.",
  "error.ERR_PASSWORD_EMPTY": "Typ uw nieuwe wachtwoord.",
  "error.ERR_PASSWORD_MISMATCH":
    "De twee wachtwoorden zijn niet gelijk. Typ in beide velden hetzelfde wachtwoord.",
  "error.ERR_CODE_INVALID": "Deze code is niet juist. Resterende pogingen: {attemptsLeft}.",
  "error.ERR_CODE_EXPIRED": "Deze code is verlopen. Vraag een nieuwe aan.",
  "error.ERR_TOO_MANY_ATTEMPTS": "Te veel verkeerde codes. Vraag een nieuwe code aan.",
  "error.ERR_TOO_MANY_CODES":
    "Er zijn te veel codes aangevraagd voor dit account. Probeer het over {retryAfterMinutes} minuten opnieuw, of laat ons weten dat u geen van uw herstel-e-mailadressen of -telefoonnummers kunt bereiken.",
  "error.ERR_RATE_LIMITED": "Te veel verzoeken vanaf uw verbinding. Wacht een minuut en probeer het opnieuw.",
  "error.ERR_PASSWORD_WEAK": "Dit wachtwoord is te makkelijk te raden. {hint}",
  "error.ERR_PASSWORD_REUSED": "Dit is een van uw recente wachtwoorden. Kies een nieuw.",
  "error.ERR_CONTACT_IS_ACCOUNT":
    "Geef een ander adres dan dat van het geblokkeerde account: dat kunt u misschien niet lezen.",
  "error.ERR_PHONE_INVALID":
    "Dit telefoonnummer is niet geldig. Typ het met het landnummer, bijvoorbeeld +32 470 12 34 56.",
  "error.ERR_CLOCK_NOT_MANUAL": "De klok kan alleen worden verzet als SESAME_CLOCK=manual.",
  "error.ERR_CSRF": "Dit formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.",
  "error.ERR_INTERNAL": "Er is een onverwachte fout opgetreden. Referentie: {correlationId}.",
  "error.ERR_UNAVAILABLE": "De dienst is even niet beschikbaar. Probeer het over enkele seconden opnieuw.",
  "error.ERR_CHANNEL_UNAVAILABLE":
    "Sms-berichten zijn hier niet beschikbaar; vul een reserve-e-mailadres in.",
  "error.ERR_EMAIL_UNAVAILABLE": "E-mails zijn hier niet beschikbaar; vul een reservetelefoonnummer in.",
  "password.hint.default": "Gebruik een langere zin van meerdere willekeurige woorden.",

  "mail.code.subject": "Uw Sesame-herstelcode",
  "mail.code.body":
    "Uw herstelcode is {code}\n\nDeze code is 24 uur geldig. Open deze link en druk op Bevestigen om de code te bevestigen:\n{link}\n\nHebt u niet gevraagd om het account {account} te herstellen? Negeer dan dit bericht: zonder de code verandert er niets.",
  "sms.code.body":
    "Sesame-code: {code}. 10 minuten geldig. Deel deze code nooit, ook niet met onze helpdesk.",
  "mail.recovered.subject": "Uw account is hersteld",
  "mail.recovered.body":
    "Het wachtwoord van uw account {account} is op {at} gewijzigd via accountherstel. Alle apparaten zijn afgemeld.\n\nWas u dit niet? Beantwoord dan dit bericht of neem meteen contact op met de helpdesk: {helpUrl}",
  "sms.recovered.body":
    "Sesame: het wachtwoord van {account} is gewijzigd via accountherstel. Was u dit niet? Neem contact op met de helpdesk: {helpUrl}",
  "mail.case.subject": "Uw helpdeskdossier {ref}",
  "mail.case.body":
    "We hebben uw verzoek ontvangen. Uw referentie is {ref}.\n\nEen medewerker van onze helpdesk mailt u op dit adres. Bewaar deze referentie en geef die door als u contact met ons opneemt. U kunt uw dossier hier volgen:\n{statusUrl}",
  "mail.case.contact_added.subject": "Er is een ander contactadres toegevoegd aan uw dossier {ref}",
  "mail.case.contact_added.body":
    "Iemand gaf een ander adres ({masked}) op om bereikt te worden over uw dossier {ref}. Er is niets verwijderd: we schrijven u ook verder.\n\nWist u hier niets van? Antwoord dan op dit bericht of meld het wanneer we contact met u opnemen.",

  "dev.mailbox.footer": "Ontwikkeling: geen e-mail of sms verlaat deze machine; lees ze in de",
  "dev.mailbox.title": "Ontwikkelmailbox",
  "dev.mailbox.intro":
    "Er is geen SMTP-server of sms-gateway ingesteld, dus berichten worden hier bewaard in plaats van verstuurd.",
  "dev.mailbox.empty": "Nog geen berichten.",
  "dev.mailbox.to": "Aan",
  "dev.mailbox.at": "Tijdstip",
  "dev.mailbox.channel": "Kanaal",
  ...deskMessages.nl,
  ...agentsMessages.nl,
  ...timersMessages.nl,
};
