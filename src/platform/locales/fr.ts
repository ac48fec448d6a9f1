import { agentsMessages } from "../../agents/messages.js";
import { deskMessages } from "../../desk/messages.js";
import { timersMessages } from "../../timers/messages.js";
import type { MessageKey } from "./en.js";

export const fr: Record<MessageKey, string> = {
  "app.name": "Sesame",
  "app.tagline": "Aide au compte",
  "nav.home": "Centre d'aide",
  "nav.signin": "Se connecter",
  "nav.recover": "Récupérer mon compte",
  "nav.language": "Langue",
  "nav.skip": "Aller au contenu",

  "home.title": "Comment pouvons-nous vous aider ?",
  "home.intro":
    "Vous n'avez plus accès à votre compte ? Vous pouvez le récupérer sans utiliser la boîte mail bloquée.",
  "home.recover.title": "Récupérer mon compte",
  "home.recover.body":
    "Nous envoyons un code à votre adresse e-mail ou à votre numéro de téléphone de secours, puis vous choisissez un nouveau mot de passe.",
  "home.recover.action": "Commencer la récupération",
  "home.contact.title": "Contacter l'assistance",
  "home.contact.body":
    "Si vous n'avez plus accès à aucune de vos adresses ou numéros de secours, commencez une récupération et choisissez « {action} » : une personne de notre équipe d'assistance prend votre dossier en charge et vous tient au courant à l'adresse de votre choix.",
  "home.signin.title": "Se connecter",
  "home.signin.body": "Vous connaissez déjà votre mot de passe ? Connectez-vous ici.",

  "signin.title": "Se connecter",
  "signin.address": "Adresse e-mail",
  "signin.password": "Mot de passe",
  "signin.submit": "Se connecter",
  "signin.invalid": "L'adresse ou le mot de passe est incorrect.",
  "signin.locked.title": "Votre compte est bloqué",
  "signin.locked.compromise":
    "Nous avons bloqué votre compte car nous pensons que quelqu'un d'autre a tenté de l'utiliser. Votre mot de passe était correct : récupérez votre compte pour choisir un nouveau mot de passe et y accéder à nouveau.",
  "signin.locked.brute_force":
    "Trop de mots de passe erronés ont été essayés depuis des appareils inconnus. Le blocage prendra fin automatiquement le {until} ; vous pouvez aussi récupérer votre compte dès maintenant.",
  "signin.locked.other":
    "Votre compte est en cours de vérification par notre équipe. Récupérez votre compte ou contactez l'assistance.",
  "signin.locked.action": "Récupérer mon compte",
  "signin.success.body": "Bon retour parmi nous, {name}.",
  "signin.forgot": "Mot de passe oublié ou compte bloqué ?",
  "signin.address.missing": "Tapez l'adresse e-mail de votre compte, par exemple marie@exemple.be.",
  "signin.address.incomplete":
    "Tapez votre adresse complète, avec le @ et ce qui suit, par exemple marie@exemple.be.",
  "signin.password.missing": "Tapez votre mot de passe.",
  "account.title": "Votre compte",
  "account.address": "Adresse",
  "account.status": "État",
  "account.status.active": "Actif",
  "account.status.locked": "Bloqué",
  "account.backups": "Adresses et numéros de secours",
  "account.backups.none": "Aucun pour l'instant.",
  "account.backups.unverified": "(non vérifié)",
  "account.case":
    "Vous avez un dossier ouvert auprès de notre support, référence {ref} : notre équipe vous écrira à l’adresse que vous avez donnée. Gardez cette référence à portée de main.",
  "account.signout": "Me déconnecter",
  "account.help": "Retour au centre d'aide",
  "account.signedout.title": "Vous êtes déconnecté",
  "account.signedout.body": "Votre session sur cet appareil est terminée.",

  "recover.start.title": "Récupérer votre compte",
  "recover.start.intro":
    "Saisissez l'adresse du compte que vous voulez récupérer. Nous n'enverrons jamais rien à cette adresse : c'est peut-être celle qui est bloquée.",
  "recover.start.address": "Adresse de votre compte",
  "recover.start.submit": "Continuer",
  "recover.example.address": "prenom.nom@exemple.be",
  "form.renewed": "Pour votre sécurité, ce formulaire a été renouvelé. Vérifiez-le et envoyez-le à nouveau.",

  "recover.channel.title": "Où pouvons-nous vous joindre ?",
  "recover.channel.intro":
    "Saisissez en entier une adresse e-mail ou un numéro de téléphone de secours que vous nous avez donné pour ce compte. S'il correspond, nous y envoyons un code à 6 chiffres.",
  "recover.channel.email.hint":
    "Une autre boîte mail que celle qui est bloquée, par exemple prenom.nom@exemple.be.",
  "recover.channel.phone.hint": "Avec l'indicatif du pays, par exemple +32 470 12 34 56.",
  "recover.channel.kind.email": "E-mail",
  "recover.channel.kind.phone": "SMS",
  "recover.channel.value": "Adresse ou numéro de téléphone de secours",
  "recover.channel.submit": "Envoyez-moi un code",
  "recover.channel.noaccess": "Je n'ai accès à aucun de ces moyens de contact",

  "recover.code.title": "Saisissez votre code",
  "recover.code.intro":
    "Si ce que vous avez saisi correspond à une adresse ou à un numéro de secours de ce compte, un code à 6 chiffres est en route. Un code envoyé par e-mail est valable 24 heures, un code par SMS 10 minutes.",
  "recover.code.label": "Code à 6 chiffres",
  "recover.code.submit": "Confirmer",
  "recover.code.resend": "Envoyer un nouveau code ou utiliser une autre adresse",
  "recover.code.sentto": "Vous avez demandé un code pour {destination}.",
  "recover.link.title": "Confirmez que c'est bien vous",
  "recover.link.intro":
    "Vous avez ouvert le lien de votre e-mail de récupération. Appuyez sur le bouton pour continuer : rien ne change avant cela.",
  "recover.link.submit": "Continuer",

  "recover.password.title": "Choisissez un nouveau mot de passe",
  "recover.password.intro":
    "Choisissez un mot de passe que vous n'avez pas utilisé récemment. Une longue phrase de plusieurs mots est solide et facile à retenir.",
  "recover.password.deadline":
    "Vous avez 30 minutes pour le choisir ; ensuite, demandez simplement un nouveau code.",
  "recover.password.label": "Nouveau mot de passe",
  "recover.password.confirm": "Retapez le nouveau mot de passe",
  "recover.password.case":
    "Votre dossier d'assistance {ref} reste ouvert ; une fois votre mot de passe enregistré, nous en informerons l'équipe.",
  "recover.password.submit": "Enregistrer mon nouveau mot de passe",

  "recover.done.title": "Vous avez récupéré votre compte",
  "recover.done.body":
    "Votre nouveau mot de passe est enregistré. Nous avons déconnecté tous les appareils qui utilisaient votre compte et prévenu vos adresses de secours de cette récupération.",
  "recover.done.held":
    "Votre nouveau mot de passe est enregistré, mais votre compte est aussi en cours de vérification par notre équipe. Un dossier a été ouvert : référence {ref}. Nous vous écrirons.",
  "recover.done.signin": "Se connecter maintenant",

  "recover.noaccess.title": "Nous allons vous aider personnellement",
  "recover.noaccess.intro":
    "Vous n'avez accès à aucune de vos adresses ou numéros de secours. Une personne de notre équipe d'assistance vérifiera que le compte est bien le vôtre et vous aidera à y accéder à nouveau. Donnez-nous une adresse e-mail où vous écrire : pas celle qui est bloquée.",
  "recover.noaccess.contact": "Adresse e-mail où vous joindre",
  "recover.noaccess.submit": "Ouvrir un dossier d'assistance",

  "recover.case.title": "Votre dossier est ouvert",
  "recover.case.ref": "Votre référence : {ref}",
  "recover.case.by": "{team} vous écrira à {contact} d'ici {due}.",
  "recover.case.when": "Nous vous écrirons à {contact}.",
  "recover.case.meanwhile":
    "En attendant, vous n'avez rien d'autre à faire. Si vous retrouvez l'accès à l'une de vos adresses ou à l'un de vos numéros de secours, vous pouvez toujours récupérer votre compte vous-même.",
  "cases.status.title": "Votre dossier d'assistance",
  "cases.status.written": "Les messages de votre dossier",
  "cases.status.none": "Rien pour l'instant.",

  "error.title": "Un problème est survenu",
  "error.back": "Retour",
  "error.ERR_VALIDATION": "Certaines informations envoyées sont manquantes ou non valides.",
  "error.ERR_PAYLOAD_TOO_LARGE": "Cette requête est trop volumineuse.",
  "error.ERR_UNSUPPORTED_MEDIA_TYPE":
    "Cette requête doit être envoyée en JSON (Content-Type: application/json).",
  "error.ERR_UNAUTHORIZED": "Cette demande nécessite un jeton de service valide.",
  "error.ERR_FORBIDDEN": "Cette action ne vous est pas permise.",
  "error.ERR_NOT_FOUND": "Cette page ou cette ressource n'existe pas.",
  "error.ERR_ACCOUNT_EXISTS": "Un compte existe déjà avec cette adresse.",
  "error.ERR_ACCOUNT_NOT_FOUND": "Aucun compte ne correspond à cette adresse.",
  "error.ERR_INVALID_CREDENTIALS": "L'adresse ou le mot de passe est incorrect.",
  "error.ERR_ACCOUNT_LOCKED": "Ce compte est bloqué. Récupérez-le pour y accéder à nouveau.",
  "error.ERR_SESSION_INVALID": "Cette session a pris fin. Reconnectez-vous.",
  "error.ERR_RECOVERY_NOT_FOUND": "Cette récupération n'existe pas ou a pris fin. Recommencez.",
  "error.ERR_RECOVERY_STEP":
    "Cette étape n'est pas disponible pour le moment. Reprenez la récupération là où elle en est.",
  "error.ERR_RECOVERY_EXPIRED":
    "Cette récupération a duré trop longtemps et a expiré. Recommencez : cela ne prend qu'une minute.",
  "error.ERR_PASSWORD_TOKEN":
    "Cette étape demande la confirmation de votre code. Confirmez à nouveau le code, ou demandez-en un nouveau.",
  "error.ERR_CODE_FORMAT": "Tapez les 6 chiffres du code, par exemple 123 456. Cet essai n'a pas été compté.",
  "error.ERR_CODE_SUPERSEDED":
    "Un code plus récent a été envoyé depuis. Utilisez le code ou le lien du dernier message reçu.",
  "error.ERR_LINK_INVALID":
    "Ce lien n'est pas valable. Ouvrez le lien du dernier e-mail reçu, ou tapez son code.",
  "error.ERR_TOO_MANY_WRONG_CODES":
    "Trop de codes erronés ont été tapés aujourd'hui pour cette adresse. Réessayez dans {retryAfterHours} heures. Si votre code est arrivé par e-mail, le lien de votre dernier e-mail fonctionne toujours ; s'il est arrivé par SMS, indiquez-nous que vous n'avez accès à aucune de vos adresses de secours et notre équipe vous aidera.",
  "error.ERR_TOO_MANY_STARTS":
    "Trop de récupérations ont été lancées pour cette adresse depuis votre connexion. Réessayez dans {retryAfterMinutes} minutes, ou indiquez-nous que vous n'avez accès à aucune de vos adresses de secours.",
  "error.ERR_ADDRESS_EMPTY": "Tapez l'adresse du compte que vous voulez récupérer.",
  "error.ERR_ADDRESS_INCOMPLETE": "Tapez l'adresse complète, par exemple {example}.",
  "error.ERR_BACKUP_EMPTY": "Tapez une adresse e-mail ou un numéro de téléphone de secours.",
  "error.ERR_BACKUP_IS_ACCOUNT":
    "C'est l'adresse du compte bloqué. Tapez-en une autre : une adresse ou un numéro de secours que vous nous avez donné.",
  "error.ERR_CONTACT_EMPTY": "Tapez une adresse e-mail où nous pouvons vous écrire.",
  "error.ERR_PASSWORD_EMPTY": "Tapez votre nouveau mot de passe.",
  "error.ERR_PASSWORD_MISMATCH":
    "Les deux mots de passe ne sont pas identiques. Tapez le même mot de passe dans les deux champs.",
  "error.ERR_CODE_INVALID": "Ce code n'est pas correct. Essais restants : {attemptsLeft}.",
  "error.ERR_CODE_EXPIRED": "Ce code a expiré. Demandez-en un nouveau.",
  "error.ERR_TOO_MANY_ATTEMPTS": "Trop de codes erronés. Demandez un nouveau code.",
  "error.ERR_TOO_MANY_CODES":
    "Trop de codes ont été demandés pour ce compte. Réessayez dans {retryAfterMinutes} minutes, ou indiquez-nous que vous n'avez accès à aucune de vos adresses de secours.",
  "error.ERR_RATE_LIMITED": "Trop de demandes depuis votre connexion. Patientez une minute et réessayez.",
  "error.ERR_PASSWORD_WEAK": "Ce mot de passe est trop facile à deviner. {hint}",
  "error.ERR_PASSWORD_REUSED": "C'est un de vos mots de passe récents. Choisissez-en un nouveau.",
  "error.ERR_CONTACT_IS_ACCOUNT":
    "Indiquez une autre adresse que celle du compte bloqué : vous ne pourrez peut-être pas la consulter.",
  "error.ERR_PHONE_INVALID":
    "Ce numéro de téléphone n'est pas valide. Saisissez-le avec l'indicatif du pays, par exemple +32 470 12 34 56.",
  "error.ERR_CLOCK_NOT_MANUAL": "L'horloge ne peut être déplacée que si SESAME_CLOCK=manual.",
  "error.ERR_CSRF": "Ce formulaire a expiré. Rechargez la page et réessayez.",
  "error.ERR_INTERNAL": "Une erreur inattendue s'est produite. Référence : {correlationId}.",
  "error.ERR_UNAVAILABLE": "Le service est momentanément indisponible. Réessayez dans quelques secondes.",
  "error.ERR_CHANNEL_UNAVAILABLE":
    "Les SMS ne sont pas disponibles ici ; indiquez une adresse e-mail de secours.",
  "error.ERR_EMAIL_UNAVAILABLE":
    "Les e-mails ne sont pas disponibles ici ; indiquez un numéro de téléphone de secours.",
  "password.hint.default": "Utilisez une phrase plus longue, faite de plusieurs mots sans rapport entre eux.",

  "mail.code.subject": "Votre code de récupération Sesame",
  "mail.code.body":
    "Votre code de récupération est {code}\n\nIl est valable 24 heures. Pour le confirmer, ouvrez ce lien et appuyez sur Confirmer :\n{link}\n\nSi vous n'avez pas demandé à récupérer le compte {account}, ignorez ce message : rien ne change sans le code.",
  "sms.code.body":
    "Code Sesame : {code}. Valable 10 minutes. Ne le communiquez jamais à personne, y compris notre assistance.",
  "mail.recovered.subject": "Votre compte a été récupéré",
  "mail.recovered.body":
    "Le mot de passe de votre compte {account} a été changé par une récupération de compte le {at}. Tous les appareils ont été déconnectés.\n\nSi ce n'était pas vous, répondez à ce message ou contactez immédiatement l'assistance : {helpUrl}",
  "sms.recovered.body":
    "Sesame : le mot de passe de {account} a été changé par une récupération de compte. Si ce n'était pas vous, contactez l'assistance : {helpUrl}",
  "mail.case.subject": "Votre dossier d'assistance {ref}",
  "mail.case.body":
    "Nous avons bien reçu votre demande. Votre référence est {ref}.\n\nUne personne de notre équipe d'assistance vous écrira à cette adresse. Conservez cette référence : donnez-la si vous nous contactez. Vous pouvez suivre votre dossier ici :\n{statusUrl}",
  "mail.case.contact_added.subject": "Un autre contact a été ajouté à votre dossier {ref}",
  "mail.case.contact_added.body":
    "Quelqu'un a donné une autre adresse ({masked}) pour être contacté au sujet de votre dossier {ref}. Rien n'a été supprimé : nous continuons aussi à vous écrire.\n\nSi vous n'êtes pas au courant, répondez à ce message ou signalez-le quand nous vous contacterons.",

  "dev.mailbox.footer": "Développement : aucun e-mail ni SMS ne quitte cette machine ; lisez-les dans la",
  "dev.mailbox.title": "Boîte mail de développement",
  "dev.mailbox.intro":
    "Aucun serveur SMTP ni passerelle SMS n'est configuré : les messages sont donc conservés ici au lieu d'être envoyés.",
  "dev.mailbox.empty": "Aucun message pour l'instant.",
  "dev.mailbox.to": "À",
  "dev.mailbox.at": "Date",
  "dev.mailbox.channel": "Canal",
  ...deskMessages.fr,
  ...agentsMessages.fr,
  ...timersMessages.fr,
};
