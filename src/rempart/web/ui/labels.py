"""French wording of the pages: labels of the domain's words, and the messages shown to people.

The services speak English to the logs and the API; people read French. A detail the table
below does not know is shown under a French sentence of the error's kind, never instead of it.
"""

from __future__ import annotations

import re

ROLES = {
    "advisor": "Conseiller",
    "training_manager": "Responsable de formation",
    "account_manager": "Responsable gestion de compte (RGC)",
    "security_officer": "Responsable de la sécurité",
    "dpo": "Délégué à la protection des données",
    "admin": "Administrateur",
}

ORG_KINDS = {
    "agency": "Agence France Travail",
    "training_body": "Organisme de formation",
    "mission_locale": "Mission Locale",
    "cap_emploi": "Cap emploi",
}

APPS = {
    "training_follow_up": "Suivi des formations",
    "youth_follow_up": "Suivi des jeunes",
    "cap_emploi": "Cap emploi",
    "agency": "Agence",
}

PURPOSES = {
    "training_follow_up": "Suivi de la formation",
    "youth_follow_up": "Accompagnement d'un jeune",
    "employment_support": "Accompagnement vers l'emploi",
    "enrolment": "Inscription en formation",
    "security_investigation": "Enquête de sécurité",
}

FIELDS = {
    "ft_id": "Identifiant France Travail",
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "email": "Courriel",
    "phone": "Téléphone",
    "postal_address": "Adresse postale",
    "nir": "NIR (numéro de sécurité sociale)",
    "registration_status": "Situation",
    "registration_date": "Inscrit depuis le",
    "deregistration_date": "Désinscrit le",
    "last_activity_date": "Dernière activité",
    "rqth_since": "Reconnaissance de handicap (RQTH) depuis le",
    "trainings": "Formations suivies dans votre organisme",
    "follow_up_notes": "Notes de suivi",
}

CATEGORIES = {
    "identity": "Identité",
    "contact": "Coordonnées",
    "nir": "NIR",
    "status": "Situation",
    "training": "Formation",
    "follow_up_notes": "Notes de suivi",
    "disability": "Handicap",
}

REGISTRATION = {
    "registered": "Inscrit",
    "in_training": "En formation",
    "deregistered": "Désinscrit",
    "suspended": "Inscription suspendue",
}

MARKS = {"present": "Présent", "absent": "Absent", "excused": "Absence excusée"}

SEVERITIES = {
    "info": "Information",
    "low": "Faible",
    "medium": "Moyenne",
    "high": "Élevée",
    "critical": "Critique",
}

REQUEST_STATUSES = {
    "pending_approval": "En attente d'approbation",
    "approved": "Approuvée",
    "denied": "Refusée",
    "cancelled": "Annulée",
    "expired": "Expirée",
}

REQUEST_KINDS = {"create_account": "Création de compte", "change_roles": "Changement de rôles"}

REVIEW_DECISIONS = {"keep": "Conserver", "remove": "Retirer"}

FACTORS = {
    "password": "Mot de passe",
    "totp": "Application d'authentification (code à 6 chiffres)",
    "webauthn": "Clé d'accès (passkey)",
    "recovery_code": "Codes de secours",
    "federated": "ProConnect",
}

ACTIONS = {
    "none": "Aucune",
    "allow": "Autorisé",
    "alert": "Alerte seule",
    "step_up": "Second facteur redemandé",
    "throttle": "Ralenti",
    "deny": "Refusé",
    "revoke_session": "Session fermée",
    "lock_account": "Compte verrouillé",
    "suspend_org_app": "Application suspendue pour l'organisation",
    "refused": "Refusé",
    "account_suspended": "Compte suspendu",
    "account_resumed": "Compte rétabli",
    "organisation_suspended": "Organisation suspendue",
    "organisation_resumed": "Organisation rétablie",
    "app_suspended": "Application suspendue",
    "app_resumed": "Application rétablie",
    "access_removed": "Accès retiré",
    "account_created_pending_enrolment": "Compte créé, enrôlement attendu",
    "account_unlocked": "Compte déverrouillé",
    "accounts_disabled": "Comptes désactivés",
    "factors_erased_sessions_revoked": "Facteurs effacés, sessions fermées",
    "link_revoked": "Lien d'enrôlement révoqué",
    "roles_changed": "Rôles modifiés",
    "throttled": "Ralenti",
}

# What became of an access, as the person concerned reads it (nothing shown for "allow").
CITIZEN_DECISIONS = {
    "deny": "refusé",
    "not_found": "sans résultat",
    "throttle": "refusé (limite atteinte)",
    "step_up": "suspendu : l'agent devait confirmer son identité",
    "revoke": "refusé, session de l'agent fermée",
    "lock": "refusé, compte de l'agent verrouillé",
}

# Guard and governance rules, as the security team reads them.
RULES = {
    "guard:canary:touched": "Dossier leurre consulté",
    "guard:enumeration:not_found_rate": "Énumération : trop d'identifiants inconnus",
    "guard:enumeration:sequential": "Énumération : identifiants demandés dans l'ordre",
    "guard:network:new": "Nouveau réseau",
    "guard:network:new_country": "Nouveau pays",
    "guard:travel:impossible": "Déplacement impossible",
    "guard:hours:off": "Hors des heures habituelles",
    "guard:velocity:burst": "Rafale de consultations",
    "guard:budget:agent_hour": "Budget horaire de l'agent atteint",
    "guard:budget:agent_day": "Budget journalier de l'agent atteint",
    "guard:budget:org_day": "Budget journalier de l'organisation atteint",
    "guard:budget:app_day": "Budget journalier de l'application atteint",
    "guard:budget:export_rows": "Export au-delà du plafond",
    "guard:export:step_up": "Export sans second facteur récent",
    "guard:budget:burst": "Pic de consultations",
    "guard:budget:agent_week": "Budget de 7 jours de l'agent atteint",
    "guard:budget:agent_month": "Budget de 30 jours de l'agent atteint",
    "guard:pace:machine": "Lecture à vitesse de machine",
    "guard:scope:sweep": "Lecture de presque tout le périmètre",
    "guard:session:concurrent": "Deux utilisateurs sur un même compte",
    "guard:peers:outlier": "Bien au-delà des pairs",
    "guard:budget:lookup_day": "Trop de recherches exactes",
    "account_requested": "Compte demandé",
    "roles_change_requested": "Changement de rôles demandé",
    "account_created": "Compte créé",
    "roles_changed": "Rôles modifiés",
    "privilege_request_refused": "Demande de privilège refusée",
    "four_eyes_refused": "Approbation refusée (double validation)",
    "account_request_burst": "Rafale de demandes de comptes",
    "account_request_weekly_cap": "Plafond hebdomadaire de demandes atteint",
    "account_unlocked": "Compte déverrouillé",
    "account_factors_reset": "Facteurs d'un compte réinitialisés",
    "account_factor_enrolled": "Facteur enrôlé",
    "enrolment_link_abused": "Lien d'enrôlement détourné",
    "account_suspended": "Compte suspendu",
    "account_suspension_lifted": "Suspension de compte levée",
    "federated_identity_linked": "Identité ProConnect liée",
    "federated_identity_refused": "Liaison ProConnect refusée",
    "accounts_disabled": "Comptes désactivés",
    "organisation_suspended": "Organisation suspendue",
    "organisation_suspension_lifted": "Suspension d'organisation levée",
    "app_suspended": "Application suspendue",
    "app_resumed": "Application rétablie",
    "review_removed_access": "Accès retiré en revue",
    "citizen_flag": "Accès signalé par la personne concernée",
}

# Evidence keys of the guard's explanations.
EVIDENCE = {
    "observed": "Valeur observée",
    "threshold": "Seuil",
    "limit": "Limite",
    "baseline": "Référence habituelle",
    "window_seconds": "Fenêtre (secondes)",
    "network": "Réseau",
    "known_networks": "Réseaux connus",
    "country": "Pays",
    "known_countries": "Pays connus",
    "weekday": "Jour de la semaine (0 = lundi)",
    "hour": "Heure (UTC)",
    "fresh": "Second facteur récent",
    "retry_after": "Attente imposée (secondes)",
    "not_found": "Identifiants inconnus",
    "account": "Compte",
    "org_id": "Organisation",
    "sessions_ended": "Sessions fermées",
    "requests_cancelled": "Demandes annulées",
    "account_org_id": "Organisation du compte",
    "grant": "Rôles accordés",
    "revoke": "Rôles retirés",
    "kind": "Type de demande",
    "login": "Identifiant",
    "request_id": "Demande",
    "requested_by": "Demandé par",
    "approved_by": "Approuvé par",
    "refusal": "Motif du refus",
    "journal_seq": "Entrée du journal",
    "tag": "Action journalisée",
    "decision": "Décision",
    "purpose": "Finalité",
    "at": "Date de l'accès",
    "reported_at": "Signalé le",
    "app": "Application",
    "alert_id": "Alerte d'origine",
    "campaign_id": "Revue",
    "role": "Rôle",
    "rows": "Lignes",
    "baseline_hourly_peak": "Pic horaire habituel",
    "factor": "Facteur appliqué",
    "off_hours": "Hors des heures habituelles",
    "previous_country": "Pays précédent",
    "run": "Suite d'identifiants",
    "span": "Écart",
    "threshold_seconds": "Seuil (secondes)",
    "would_add": "Personnes en plus demandées",
    "canary_touched": "Dossier leurre touché",
    "budgets": "Budgets",
    "agent_hour": "Budget horaire de l'agent",
    "agent_day": "Budget journalier de l'agent",
    "org_day": "Budget journalier de l'organisation",
    "app_day": "Budget journalier de l'application",
}

# Flash messages after a form: a fixed code travels in the URL, never what was typed.
NOTICES: dict[str, tuple[str, str]] = {
    "connecte": ("success", "Vous êtes connecté."),
    "deconnecte": ("info", "Vous êtes déconnecté. À bientôt."),
    "inscrit": ("success", "La personne est inscrite à la formation."),
    "introuvable": (
        "error",
        "Aucune personne ne correspond à cet identifiant et cette date de naissance.",
    ),
    "presences": ("success", "Les présences sont enregistrées."),
    "suivi_clos": (
        "success",
        "Le suivi est clos : la personne n'est plus dans votre portefeuille.",
    ),
    "pris_en_charge": ("success", "La personne a donné son accord : son suivi commence."),
    "code_refuse": (
        "error",
        "Code refusé : il est faux, déjà utilisé ou expiré. Demandez à la personne le code "
        "reçu, ou faites une nouvelle demande.",
    ),
    "transferes": ("success", "Les suivis sont transférés ; l'accès suit immédiatement."),
    "verifie": ("success", "Second facteur confirmé : vous pouvez poursuivre."),
    "cle_ajoutee": ("success", "Votre clé d'accès est enregistrée."),
    "preuve_refusee": (
        "error",
        "Code refusé : saisissez un nouveau code de votre application (pas celui de la "
        "connexion), puis recommencez. Rien n'a été modifié.",
    ),
    "demande": (
        "success",
        "La demande est enregistrée : une autre personne habilitée doit l'approuver.",
    ),
    "approuvee": ("success", "La demande est approuvée ; le lien d'enrôlement est envoyé."),
    "refusee": ("success", "La demande est refusée."),
    "annulee": ("success", "La demande est annulée."),
    "sessions_fermees": ("success", "Les sessions de l'agent sont fermées."),
    "compte_verrouille": ("success", "Le compte est verrouillé et ses sessions sont fermées."),
    "app_suspendue": ("success", "L'application est suspendue pour cette organisation."),
    "decision": ("success", "La décision est enregistrée."),
    "campagne": ("success", "La campagne de revue est ouverte."),
    "signale": (
        "success",
        "Votre signalement est transmis à l'équipe sécurité, qui va vérifier cet accès.",
    ),
    "code_envoye": ("info", "Si ces informations sont exactes, un code vous a été envoyé."),
}

# Known details from the services, in French.
DETAILS = {
    "wrong login or password": "Identifiant ou mot de passe incorrect.",
    "wrong or already used code": "Code incorrect ou déjà utilisé.",
    "wrong or already used recovery code": "Code de secours incorrect ou déjà utilisé.",
    "unknown or expired sign-in challenge: sign in again": (
        "Cette étape de connexion a expiré : recommencez depuis le début."
    ),
    "unknown or expired challenge: start again": "Cette étape a expiré : recommencez.",
    "this account is locked after repeated failures: your account manager can unlock it": (
        "Ce compte est verrouillé après des échecs répétés : "
        "votre responsable gestion de compte peut le déverrouiller."
    ),
    "this account is locked": "Ce compte est verrouillé.",
    "this account is suspended": "Ce compte est suspendu.",
    "your organisation's access is suspended": "L'accès de votre organisation est suspendu.",
    "enrol a second factor with your enrolment link first": (
        "Enrôlez d'abord un second facteur avec le lien reçu par courriel."
    ),
    "too many attempts: wait before trying again": (
        "Trop de tentatives : patientez avant de réessayer."
    ),
    "no usable second factor is enrolled: ask your account manager": (
        "Aucun second facteur utilisable n'est enrôlé : "
        "contactez votre responsable gestion de compte."
    ),
    "this training has ended": "Cette formation est terminée.",
    "ft_id must be 7 digits followed by one upper-case letter": (
        "L'identifiant France Travail compte 7 chiffres suivis d'une lettre majuscule."
    ),
    "this login is already in use or requested": "Cet identifiant est déjà utilisé ou demandé.",
    "this request has expired: ask for a new one": (
        "Cette demande a expiré : faites-en une nouvelle."
    ),
    "this campaign is closed": "Cette campagne est close.",
    "this item is already decided": "Cette ligne est déjà décidée.",
    "this security key is already registered": "Cette clé est déjà enregistrée.",
    "at most 10 security keys per account": "Au plus 10 clés d'accès par compte.",
    "confirm with your security key": "Confirmez avec votre clé d'accès.",
    "a review campaign is already open for this organisation": (
        "Une campagne de revue est déjà ouverte pour cette organisation."
    ),
    "only a training body's training managers use the training follow-up app": (
        "Seuls les responsables de formation d'un organisme de formation utilisent cette page."
    ),
    "this role does not consult people's records": "Votre rôle ne consulte pas de dossiers.",
    "this role has no portfolio": "Votre rôle n'a pas de portefeuille.",
    "only the security team reads alerts": "Seule l'équipe sécurité lit les alertes.",
    "a request is approved by someone other than its requester": (
        "Une demande est approuvée par une autre personne que son auteur."
    ),
    "approval needs another account manager of the organisation or an agency administrator": (
        "L'approbation revient à un autre RGC de l'organisation ou à un administrateur de l'agence."
    ),
    "this account is too recent to approve requests": (
        "Ce compte est trop récent pour approuver des demandes."
    ),
    "an account on probation cannot approve requests": (
        "Un compte en période probatoire n'approuve pas de demandes."
    ),
    "admin, security_officer and dpo are never granted by request": (
        "Les rôles administrateur, sécurité et DPO ne s'obtiennent jamais par demande."
    ),
    "this role is not used in this kind of organisation": (
        "Ce rôle n'existe pas dans ce type d'organisation."
    ),
    "the account_manager role is granted only with an agency administrator's approval": (
        "Le rôle RGC n'est accordé qu'avec l'approbation d'un administrateur de l'agence."
    ),
    "this account or its organisation is suspended": "Ce compte ou son organisation est suspendu.",
    "no one requests, approves or reviews changes to their own account": (
        "Personne ne demande, n'approuve ni ne revoit les changements de son propre compte."
    ),
}


_BUDGET = re.compile(
    r"Exposure budget reached: this request would show (?P<add>\d+) more people; (?P<count>\d+) "
    r"distinct people were shown in the last (?P<n>\d+) (?P<unit>h|days|min) against a limit "
    r"of (?P<limit>\d+) for this account\. Wait (?P<wait>\d+) s"
)
_UNITS_FR = {"h": "heures", "days": "jours", "min": "minutes"}


def detail_fr(detail: str) -> str:
    """The French version of a service's detail, or an empty string when unknown."""
    budget = _BUDGET.search(detail)
    if budget is not None:
        n, unit = int(budget["n"]), _UNITS_FR[budget["unit"]]
        last = "derniers" if unit == "jours" else "dernières"
        window = "la dernière heure" if (n, unit) == (1, "heures") else f"les {n} {last} {unit}"
        add = int(budget["add"])
        return (
            f"Cette demande afficherait {add} personne{'s' if add > 1 else ''} de plus ; "
            f"{budget['count']} personnes différentes ont déjà été affichées sur {window}, pour "
            f"une limite de {budget['limit']} pour ce compte. Patientez "
            f"{wait_fr(int(budget['wait']))} ou, si votre travail l'exige, demandez à votre "
            "responsable gestion de compte de contacter l'équipe sécurité."
        )
    return DETAILS.get(detail.strip(), "")


def wait_fr(seconds: int) -> str:
    """A wait in words: « 45 secondes », « 3 minutes », « 2 heures »."""
    if seconds < 90:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = -(-seconds // 60)
    if minutes < 90:
        return f"{minutes} minutes"
    hours = -(-minutes // 60)
    return f"{hours} heures"
