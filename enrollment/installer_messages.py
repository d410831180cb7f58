"""What the installers say, in the enrollment's language: Dutch or English, one per line.

The holder downloads the installer from the step-7 page; the language of that page (the
language they enrolled in) is the installer's. Each message is a value baked into a script,
so it reaches the templates through the target's escaping filter (``sh`` or ``cmd``, see
core.escaping) like every other value, and the hostile-value tests put hostile text here too.

Messages are kept to what cmd's alphabet carries (core.escaping.cmd_text): no parentheses,
no ``% ! ^ & | < > ?`` and no semicolons; ``{}`` marks where the script puts a value it
only knows when it runs (a tool, an HTTP status, a folder), in the order given.

Every failure names its next step; the last line of a successful run says what to do now.
"""

from __future__ import annotations

from django.utils import translation

LANGUAGES = ("nl", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "title": {
        "nl": '{}: installatie van certificaat "{}"',
        "en": '{}: installing certificate "{}"',
    },
    "valid_until": {
        "nl": "Dit installatiebestand werkt tot {}.",
        "en": "This installer works until {}.",
    },
    "error": {"nl": "FOUT: {}", "en": "ERROR: {}"},
    "step_key": {
        "nl": "[1/5] Sleutel maken op deze computer",
        "en": "[1/5] Making the key on this computer",
    },
    "step_key_mac": {
        "nl": "[1/5] Sleutel maken op deze Mac",
        "en": "[1/5] Making the key on this Mac",
    },
    "step_send": {"nl": "[2/5] Aanvraag versturen", "en": "[2/5] Sending the request"},
    "step_wait": {
        "nl": "[3/5] Wachten op het certificaat",
        "en": "[3/5] Waiting for the certificate",
    },
    "step_install": {"nl": "[4/5] Installeren in {}", "en": "[4/5] Installing into {}"},
    "step_install_mac": {
        "nl": "[4/5] Installeren in uw sleutelhanger",
        "en": "[4/5] Installing into your login keychain",
    },
    "step_install_windows": {
        "nl": "[4/5] Installeren. Windows vraagt u het basiscertificaat te vertrouwen: kies Ja.",
        "en": "[4/5] Installing. Windows asks you to trust the root certificate: choose Yes.",
    },
    "step_check": {
        "nl": "[5/5] Controleren bij het portaal",
        "en": "[5/5] Checking with the portal",
    },
    "busy": {
        "nl": "      Het portaal is bezet, HTTP {}. Opnieuw over {} seconden.",
        "en": "      The portal is busy, HTTP {}. Trying again in {} seconds.",
    },
    "unreachable": {
        "nl": "      Het portaal is niet bereikbaar. Opnieuw over {} seconden.",
        "en": "      The portal cannot be reached. Trying again in {} seconds.",
    },
    "gave_up": {
        "nl": "Het portaal bleef onbereikbaar, HTTP {}. Controleer uw internetverbinding en start dit installatiebestand over een kwartier opnieuw.",
        "en": "The portal stayed unavailable, HTTP {}. Check your internet connection and run this installer again in a quarter of an hour.",
    },
    "tool_missing_linux": {
        "nl": "{} ontbreekt. Installeer het eerst, op Debian of Ubuntu met: sudo apt install openssl curl libnss3-tools. Start daarna dit bestand opnieuw.",
        "en": "{} is missing. Install it first, on Debian or Ubuntu with: sudo apt install openssl curl libnss3-tools. Then run this file again.",
    },
    "tool_missing_mac": {
        "nl": "{} ontbreekt op deze Mac. Vraag uw beheerder om hulp, of installeer op een andere computer.",
        "en": "{} is missing on this Mac. Ask your administrator for help, or install on another computer.",
    },
    "tool_missing_windows": {
        "nl": "{} ontbreekt. Dit installatiebestand heeft Windows 10 versie 1803 of nieuwer nodig. Installeer op een computer met een nieuwere Windows, of vraag uw beheerder om hulp.",
        "en": "{} is missing. This installer needs Windows 10 version 1803 or newer. Install on a computer with a newer Windows, or ask your administrator for help.",
    },
    "work_folder": {
        "nl": "Kan de map {} niet maken. Controleer of er schijfruimte vrij is en start dit bestand opnieuw.",
        "en": "Cannot create the folder {}. Check that there is free disk space and run this file again.",
    },
    "key_failed": {
        "nl": "De sleutel kon niet worden gemaakt. Start dit bestand opnieuw. Gebeurt het weer, vraag dan uw beheerder om hulp.",
        "en": "The key could not be made. Run this file again. If it happens again, ask your administrator for help.",
    },
    "confirm": {
        "nl": 'Certificaat "{}" installeren in {}? [j/N] ',
        "en": 'Install certificate "{}" into {}? [y/N] ',
    },
    "stopped": {
        "nl": "Gestopt op uw verzoek. Start dit bestand opnieuw wanneer u wilt installeren.",
        "en": "Stopped at your request. Run this file again when you want to install.",
    },
    "no_terminal": {
        "nl": "Dit draait niet in een terminal. Voeg --yes toe om zonder vragen te installeren: sh {} --yes",
        "en": "This is not running in a terminal. Add --yes to install without asking: sh {} --yes",
    },
    "unknown_option": {
        "nl": "Onbekende optie: {}. Zie sh {} --help",
        "en": "Unknown option: {}. See sh {} --help",
    },
    "option_needs_folder": {
        "nl": "{} heeft een map nodig, bijvoorbeeld: {} /tmp/certificaat",
        "en": "{} needs a folder, for example: {} /tmp/certificate",
    },
    "refused": {
        "nl": "Het portaal weigert dit, HTTP {}. Download een nieuw installatiebestand op de pagina van stap 7, de link staat in uw e-mail. Gebeurt het weer, neem dan contact op met uw contactpersoon.",
        "en": "The portal refuses this, HTTP {}. Download a new installer on the step 7 page, the link is in your e-mail. If it happens again, contact your contact person.",
    },
    "conflict": {
        "nl": 'Het certificaat van deze aanvraag is al gemaakt voor een andere sleutel, op een andere computer of bij een eerdere poging. Dit bestand kan het niet meer installeren. Ga naar de pagina van stap 7, de link staat in uw e-mail, of naar stap 1, en kies "Opnieuw installeren".',
        "en": 'The certificate of this registration was already made for another key, on another computer or in an earlier attempt. This file can no longer install it. Go to the step 7 page, the link is in your e-mail, or to step 1, and choose "Install again".',
    },
    "replaced": {
        "nl": "Er is een nieuwer installatiebestand gedownload. Gebruik het nieuwste bestand uit uw map Downloads.",
        "en": "A newer installer was downloaded. Use the most recent file in your Downloads folder.",
    },
    "expired": {
        "nl": "Deze aanvraag is verlopen. Vraag uw contactpersoon om een nieuwe pincode en begin opnieuw bij stap 1.",
        "en": "This registration has expired. Ask your contact person for a new PIN and start again at step 1.",
    },
    "order_failed": {
        "nl": "Het portaal kon het certificaat niet maken: {}. Start dit bestand opnieuw. Gebeurt het weer, neem dan contact op met uw contactpersoon.",
        "en": "The portal could not make the certificate: {}. Run this file again. If it happens again, contact your contact person.",
    },
    "too_long": {
        "nl": "Na {} seconden nog geen certificaat. Start dit bestand over een kwartier opnieuw.",
        "en": "No certificate after {} seconds. Run this file again in a quarter of an hour.",
    },
    "wrong_chain": {
        "nl": "Het certificaat hoort niet bij het basiscertificaat in dit bestand en is niet geïnstalleerd. Neem contact op met uw contactpersoon.",
        "en": "The certificate does not belong to the root certificate in this file and was not installed. Contact your contact person.",
    },
    "wrong_key": {
        "nl": "Het certificaat hoort niet bij de sleutel op deze computer en is niet geïnstalleerd. Download een nieuw installatiebestand op de pagina van stap 7.",
        "en": "The certificate does not belong to the key on this computer and was not installed. Download a new installer on the step 7 page.",
    },
    "install_failed": {
        "nl": "Installeren in {} lukte niet. Sluit uw browsers en start dit bestand opnieuw. Gebeurt het weer, vraag dan uw beheerder om hulp.",
        "en": "Installing into {} failed. Close your browsers and run this file again. If it happens again, ask your administrator for help.",
    },
    "also_firefox": {"nl": "      Ook in Firefox: {}", "en": "      Also in Firefox: {}"},
    "files_written": {
        "nl": "      Bestanden: {} - key.pem, certificate.pem, chain.pem en root.pem",
        "en": "      Files: {} - key.pem, certificate.pem, chain.pem and root.pem",
    },
    "no_tls": {
        "nl": "Het portaal draait zonder TLS, een ontwikkelversie: de controle is overgeslagen.",
        "en": "The portal runs without TLS, a development version: the check was skipped.",
    },
    "done": {
        "nl": 'Klaar: het certificaat "{}" is geïnstalleerd.',
        "en": 'Done: the certificate "{}" is installed.',
    },
    "unconfirmed": {
        "nl": 'Het certificaat "{}" is geïnstalleerd, maar het portaal kon het nog niet bevestigen. Lukt inloggen straks niet, neem dan contact op met uw contactpersoon.',
        "en": 'The certificate "{}" is installed, but the portal could not confirm it yet. If logging in fails later, contact your contact person.',
    },
    "next_personal": {
        "nl": 'Wat nu: sluit uw browser helemaal af en open hem opnieuw. Ga naar {} en kies het certificaat "{}" als de browser erom vraagt.',
        "en": 'What now: close your browser completely and open it again. Go to {} and choose the certificate named "{}" when the browser asks.',
    },
    "next_system": {
        "nl": 'Wat nu: het certificaat "{}" staat klaar voor uw software. Koppel het in uw softwarepakket, uw leverancier helpt u daarbij.',
        "en": 'What now: the certificate "{}" is ready for your software. Link it in your software package, your supplier can help you.',
    },
    "press_enter": {
        "nl": "Druk op Enter om dit venster te sluiten.",
        "en": "Press Enter to close this window.",
    },
    "usage": {
        "nl": "Gebruik: sh {} [--nssdb MAP] [--out MAP] [--yes]",
        "en": "Usage: sh {} [--nssdb DIR] [--out DIR] [--yes]",
    },
    "usage_nssdb": {
        "nl": "  --nssdb MAP  de NSS-database om in te installeren, standaard ~/.pki/nssdb",
        "en": "  --nssdb DIR  the NSS database to install into, by default ~/.pki/nssdb",
    },
    "usage_out": {
        "nl": "  --out MAP    schrijf ook key.pem, certificate.pem en chain.pem naar MAP, voor servers",
        "en": "  --out DIR    also write key.pem, certificate.pem and chain.pem to DIR, for servers",
    },
    "usage_yes": {
        "nl": "  --yes        niet om bevestiging vragen",
        "en": "  --yes        do not ask for confirmation",
    },
    "usage_needs": {
        "nl": "Nodig: openssl, curl, certutil en pk12util, op Debian of Ubuntu in libnss3-tools.",
        "en": "Needs: openssl, curl, certutil and pk12util, on Debian or Ubuntu in libnss3-tools.",
    },
    "usage_code": {
        "nl": "De installatiecode in dit bestand werkt tot {} en vervalt als u een nieuw installatiebestand downloadt.",
        "en": "The install code in this file works until {} and is replaced when you download a new installer.",
    },
}


def language_of_installer(language: str | None = None) -> str:
    """``language``, or the active one (the step-7 page's), as one the installers speak."""
    code = (language or translation.get_language() or "").split("-")[0].lower()
    return code if code in LANGUAGES else LANGUAGES[0]


def messages(language: str) -> dict[str, str]:
    """Every message in ``language`` (a key of LANGUAGES)."""
    return {key: texts[language] for key, texts in MESSAGES.items()}


WINDOWS = [
    "title", "error", "step_key", "step_send", "step_wait",
    "step_install_windows", "step_check", "busy", "unreachable", "gave_up",
    "tool_missing_windows", "work_folder", "key_failed", "refused", "conflict", "expired",
    "order_failed", "too_long", "install_failed", "done", "unconfirmed", "next_personal",
    "next_system",
]  # fmt: skip


def cmd_messages(language: str) -> list[tuple[str, str]]:
    """The .cmd's messages as ``set`` variables: M_KEY_0, M_KEY_1, … are the parts of a
    message between its ``{}``, which the .cmd echoes around the values it knows when it
    runs (``echo !M_DONE_0!!CERT_NAME!!M_DONE_1!``). The .cmd keeps the certificate name in
    double quotes already; every other double quote is left out, so that a ``set "…"`` line
    never holds one (cmd's quoting would then depend on the translation)."""
    texts = messages(language)
    texts["install_failed"] = texts["install_failed"].replace("{}", _WINDOWS_STORE[language])
    return [
        (f"M_{key.upper()}_{number}", part.replace('"', ""))
        for key in WINDOWS
        for number, part in enumerate(texts[key].split("{}"))
    ]


_WINDOWS_STORE = {"nl": "de certificatenopslag van Windows", "en": "the Windows certificate store"}
