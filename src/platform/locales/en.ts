import { agentsMessages } from "../../agents/messages.js";
import { deskMessages } from "../../desk/messages.js";
import { timersMessages } from "../../timers/messages.js";
/**
 * English catalogue; the other languages must have exactly these keys (the type checker enforces
 * it). `{name}` placeholders are filled by `t()`.
 */
export const en = {
  "app.name": "Sesame",
  "app.tagline": "Account help",
  "nav.home": "Help centre",
  "nav.signin": "Sign in",
  "nav.recover": "Recover my account",
  "nav.language": "Language",
  "nav.skip": "Skip to content",

  "home.title": "How can we help?",
  "home.intro": "Locked out of your account? You can get back in without using the blocked mailbox.",
  "home.recover.title": "Recover my account",
  "home.recover.body":
    "We send a code to your backup email address or phone number, then you choose a new password.",
  "home.recover.action": "Start recovery",
  "home.contact.title": "Contact support",
  "home.contact.body":
    "If you can no longer reach any of your backup addresses or numbers, start a recovery and choose “{action}”: a person from our support team takes over your case and keeps you informed at an address you choose.",
  "home.signin.title": "Sign in",
  "home.signin.body": "Already have your password? Sign in here.",

  "signin.title": "Sign in",
  "signin.address": "Email address",
  "signin.password": "Password",
  "signin.submit": "Sign in",
  "signin.invalid": "The address or password is not correct.",
  "signin.locked.title": "Your account is locked",
  "signin.locked.compromise":
    "We blocked your account because we think someone else tried to use it. Your password was right: recover your account to choose a new password and get back in.",
  "signin.locked.brute_force":
    "Too many wrong passwords were tried from unknown devices. The lock ends by itself at {until}; you can also recover your account now.",
  "signin.locked.other": "Your account is held by our team. Recover your account or contact support.",
  "signin.locked.action": "Recover my account",
  "signin.success.body": "Welcome back, {name}.",
  "signin.forgot": "Forgot your password or locked out?",
  "signin.address.missing": "Type the email address of your account, like sam@example.com.",
  "signin.address.incomplete":
    "Type your whole address, with the @ and what follows it, like sam@example.com.",
  "signin.password.missing": "Type your password.",
  "account.title": "Your account",
  "account.address": "Address",
  "account.status": "Status",
  "account.status.active": "Active",
  "account.status.locked": "Locked",
  "account.backups": "Backup addresses and numbers",
  "account.backups.none": "None yet.",
  "account.backups.unverified": "(not verified)",
  "account.case":
    "You have an open support case, reference {ref}: our team will write to you at the address you gave. Keep the reference at hand.",
  "account.signout": "Sign out",
  "account.help": "Back to the help centre",
  "account.signedout.title": "You are signed out",
  "account.signedout.body": "Your session on this device has ended.",

  "recover.start.title": "Recover your account",
  "recover.start.intro":
    "Type the address of the account you want to get back. We will never send anything to that address: it may be the one that is blocked.",
  "recover.start.address": "Address of your account",
  "recover.start.submit": "Continue",
  "recover.example.address": "firstname.lastname@example.com",
  "form.renewed": "For your safety this form was renewed. Check it and send it again.",

  "recover.channel.title": "Where can we reach you?",
  "recover.channel.intro":
    "Type in full a backup email address or phone number that you gave us for this account. If it matches, we send a 6-digit code there.",
  "recover.channel.email.hint":
    "Another mailbox than the blocked one, for example firstname.lastname@example.com.",
  "recover.channel.phone.hint": "With the country code, for example +32 470 12 34 56.",
  "recover.channel.kind.email": "Email",
  "recover.channel.kind.phone": "Text message (SMS)",
  "recover.channel.value": "Backup address or phone number",
  "recover.channel.submit": "Send me a code",
  "recover.channel.noaccess": "I can't reach any of these",

  "recover.code.title": "Enter your code",
  "recover.code.intro":
    "If what you typed matches a backup address or number of this account, a 6-digit code is on its way. An email code is valid 24 hours, a text-message code 10 minutes.",
  "recover.code.label": "6-digit code",
  "recover.code.submit": "Confirm",
  "recover.code.resend": "Send a new code or use another address",
  "recover.code.sentto": "You asked for a code at {destination}.",
  "recover.link.title": "Confirm it is you",
  "recover.link.intro":
    "You opened the link from your recovery mail. Press the button to continue: nothing changes until you do.",
  "recover.link.submit": "Continue",

  "recover.password.title": "Choose a new password",
  "recover.password.intro":
    "Choose a password you have not used recently. A long phrase of several words is strong and easy to remember.",
  "recover.password.deadline": "You have 30 minutes to choose it; after that, simply ask for a new code.",
  "recover.password.label": "New password",
  "recover.password.confirm": "Type the new password again",
  "recover.password.case":
    "Your support case {ref} stays open; once your password is saved we will tell the team.",
  "recover.password.submit": "Save my new password",

  "recover.done.title": "Your account is back",
  "recover.done.body":
    "Your new password is saved. We signed out every device that was using your account and told your backup addresses about this recovery.",
  "recover.done.held":
    "Your new password is saved, but your account is also held by our team for review. A case was opened: reference {ref}. We will write to you.",
  "recover.done.signin": "Sign in now",

  "recover.noaccess.title": "We will help you personally",
  "recover.noaccess.intro":
    "You can't reach any of your backup addresses or numbers. A person from our support team will check that the account is yours and help you back in. Give us an email address where we can write to you: not the blocked one.",
  "recover.noaccess.contact": "Email address where we can reach you",
  "recover.noaccess.submit": "Open a support case",

  "recover.case.title": "Your case is open",
  "recover.case.ref": "Your reference: {ref}",
  "recover.case.by": "{team} will write to you at {contact} by {due}.",
  "recover.case.when": "We will write to you at {contact}.",
  "recover.case.meanwhile":
    "Meanwhile you do not need to do anything else. If you find one of your backup addresses or numbers again, you can still recover your account yourself.",
  "cases.status.title": "Your support case",
  "cases.status.written": "Messages about your case",
  "cases.status.none": "Nothing yet.",

  "error.title": "Something went wrong",
  "error.back": "Back",
  "error.ERR_VALIDATION": "Some of what you sent is missing or not valid.",
  "error.ERR_PAYLOAD_TOO_LARGE": "This request is too large.",
  "error.ERR_UNSUPPORTED_MEDIA_TYPE": "This request must be sent as JSON (Content-Type: application/json).",
  "error.ERR_UNAUTHORIZED": "This request needs a valid service token.",
  "error.ERR_FORBIDDEN": "You are not allowed to do this.",
  "error.ERR_NOT_FOUND": "This page or resource does not exist.",
  "error.ERR_ACCOUNT_EXISTS": "An account with this address already exists.",
  "error.ERR_ACCOUNT_NOT_FOUND": "No account has this address.",
  "error.ERR_INVALID_CREDENTIALS": "The address or password is not correct.",
  "error.ERR_ACCOUNT_LOCKED": "This account is locked. Recover it to get back in.",
  "error.ERR_SESSION_INVALID": "This session has ended. Sign in again.",
  "error.ERR_RECOVERY_NOT_FOUND": "This recovery does not exist or has ended. Start again.",
  "error.ERR_RECOVERY_STEP": "This step is not available now. Continue where the recovery stands.",
  "error.ERR_RECOVERY_EXPIRED":
    "This recovery took too long and has ended. Start again: it only takes a minute.",
  "error.ERR_PASSWORD_TOKEN":
    "This step needs the confirmation of your code. Confirm the code again, or ask for a new one.",
  "error.ERR_CODE_FORMAT": "Type the 6 digits of the code, for example 123 456. This did not use up a try.",
  "error.ERR_CODE_SUPERSEDED":
    "A newer code was sent since this one. Use the code or the link in the latest message you received.",
  "error.ERR_LINK_INVALID":
    "This link is not valid. Open the link in the latest mail you received, or type its code.",
  "error.ERR_TOO_MANY_WRONG_CODES":
    "Too many wrong codes were typed for this address today. Try again in {retryAfterHours} hours. If your code came by email, the link in your latest mail still works; if it came by text message, tell us you can't reach your backups and our team will help you.",
  "error.ERR_TOO_MANY_STARTS":
    "Too many recoveries were started for this address from your connection. Try again in {retryAfterMinutes} minutes, or tell us you can't reach any of your backup addresses.",
  "error.ERR_ADDRESS_EMPTY": "Type the address of the account you want to get back.",
  "error.ERR_ADDRESS_INCOMPLETE": "Type the whole address, like {example}.",
  "error.ERR_BACKUP_EMPTY": "Type a backup address or phone number.",
  "error.ERR_BACKUP_IS_ACCOUNT":
    "This is the address of the blocked account. Type another one: a backup address or phone number that you gave us.",
  "error.ERR_CONTACT_EMPTY": "Type an email address where we can write to you.",
  "error.ERR_PASSWORD_EMPTY": "Type your new password.",
  "error.ERR_PASSWORD_MISMATCH": "The two passwords are not the same. Type the same password in both fields.",
  "error.ERR_CODE_INVALID": "This code is not correct. Tries left: {attemptsLeft}.",
  "error.ERR_CODE_EXPIRED": "This code has expired. Ask for a new one.",
  "error.ERR_TOO_MANY_ATTEMPTS": "Too many wrong codes. Ask for a new code.",
  "error.ERR_TOO_MANY_CODES":
    "Too many codes were asked for this account. Try again in {retryAfterMinutes} minutes, or tell us you can't reach any of your backup addresses.",
  "error.ERR_RATE_LIMITED": "Too many requests from your connection. Wait a minute and try again.",
  "error.ERR_PASSWORD_WEAK": "This password is too easy to guess. {hint}",
  "error.ERR_PASSWORD_REUSED": "This is one of your recent passwords. Choose a new one.",
  "error.ERR_CONTACT_IS_ACCOUNT":
    "Give another address than the one of the blocked account: you may not be able to read it.",
  "error.ERR_PHONE_INVALID":
    "This phone number is not valid. Type it with the country code, for example +32 470 12 34 56.",
  "error.ERR_CLOCK_NOT_MANUAL": "The clock can only be moved when SESAME_CLOCK=manual.",
  "error.ERR_CSRF": "This form has expired. Reload the page and try again.",
  "error.ERR_INTERNAL": "An unexpected error happened. Reference: {correlationId}.",
  "error.ERR_UNAVAILABLE": "The service is briefly unavailable. Please try again in a few seconds.",
  "error.ERR_CHANNEL_UNAVAILABLE": "Text messages are not available here; type a backup email address.",
  "error.ERR_EMAIL_UNAVAILABLE": "Emails are not available here; type a backup phone number.",
  "password.hint.default": "Use a longer phrase of several unrelated words.",

  "mail.code.subject": "Your Sesame recovery code",
  "mail.code.body":
    "Your recovery code is {code}\n\nIt is valid for 24 hours. To confirm it, open this link and press Confirm:\n{link}\n\nIf you did not ask to recover the account {account}, ignore this message: nothing changes without the code.",
  "sms.code.body": "Sesame code: {code}. Valid 10 minutes. Never share it, not even with our support.",
  "mail.recovered.subject": "Your account was recovered",
  "mail.recovered.body":
    "The password of your account {account} was changed through account recovery on {at}. Every device was signed out.\n\nIf this wasn't you, reply to this message or contact support at once: {helpUrl}",
  "sms.recovered.body":
    "Sesame: the password of {account} was changed by account recovery. If this wasn't you, contact support: {helpUrl}",
  "mail.case.subject": "Your support case {ref}",
  "mail.case.body":
    "We received your request. Your reference is {ref}.\n\nA person from our support team will write to you at this address. Keep this reference: give it if you contact us. You can follow your case here:\n{statusUrl}",
  "mail.case.contact_added.subject": "Another contact was added to your support case {ref}",
  "mail.case.contact_added.body":
    "Someone gave another address ({masked}) to reach them about your support case {ref}. Nothing was removed: we still write to you too.\n\nIf you don't know about this, reply to this message or mention it when we contact you.",

  "dev.mailbox.footer": "Development: no mail or SMS leaves this machine; read them on the",
  "dev.mailbox.title": "Development mailbox",
  "dev.mailbox.intro":
    "No SMTP server or SMS gateway is configured, so messages are kept here instead of being sent.",
  "dev.mailbox.empty": "No message yet.",
  "dev.mailbox.to": "To",
  "dev.mailbox.at": "At",
  "dev.mailbox.channel": "Channel",
  ...deskMessages.en,
  ...agentsMessages.en,
  ...timersMessages.en,
} as const;

export type MessageKey = keyof typeof en;
