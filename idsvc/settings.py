"""Settings: environment variables for secrets and locations, a TOML file for the rest.

Loaded once at start into frozen structs; nothing reads the environment afterwards. A bad
file or value raises :class:`ConfigError` whose message names the key and what was
expected, so an operator can fix it without reading code.

Environment:

- ``IDSVC_CONFIG``: path of the TOML file (optional; defaults apply without it).
- ``IDSVC_DATABASE_URL``: a PostgreSQL URL; without it an embedded server runs in the
  data folder.
- ``IDSVC_KEY_ENCRYPTION_KEY`` or ``IDSVC_KEY_ENCRYPTION_KEY_FILE``: 32 bytes, base64url,
  that encrypt private signing keys at rest.
- ``IDSVC_SESSION_SECRET`` or ``IDSVC_SESSION_SECRET_FILE``: keys browser sessions and
  pairwise subjects.
- ``IDSVC_DATA_DIR``: overrides ``service.data_dir``.
- ``IDSVC_MIGRATIONS_DIR``: where ``migrations/*.sql`` are when idsvc is installed from a
  wheel (the container image); a source checkout finds its own.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from idsvc.config.oauth import ClientSettings, OAuthSettings
from idsvc.config.providers import ProviderSettings
from idsvc.policy.country_groups import use_country_groups
from idsvc.policy.model import PolicySettings

# A source checkout keeps migrations beside the package.
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

__all__ = [
    "AuditSettings",
    "ConfigError",
    "ConfigFile",
    "DatabaseSettings",
    "DnsSettings",
    "KeySettings",
    "OrgSettings",
    "PolicyOptions",
    "ReminderSettings",
    "RetentionSettings",
    "ScreeningSettings",
    "Secrets",
    "ServiceSettings",
    "Settings",
    "SmtpSettings",
    "StatusListSettings",
    "TracingSettings",
    "load_settings",
    "parse_config",
]

Seconds = Annotated[int, msgspec.Meta(ge=1, le=31_536_000)]
HttpUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$", max_length=512)]


class ConfigError(Exception):
    """The configuration is unusable; the message names the key."""


class ServiceSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[service]``: who the service is and how it listens."""

    issuer: HttpUrl = "http://127.0.0.1:8000"
    listen_host: str = "127.0.0.1"
    listen_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    data_dir: str = ".idsvc"
    # Bodies larger than this are refused with 413 before they are parsed.
    max_request_body: Annotated[int, msgspec.Meta(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    # Secure cookies need HTTPS; only local development over http:// may switch them off.
    cookie_secure: bool = True
    migrate_on_start: bool = True
    # Browser sessions end after this much inactivity, and in any case after the absolute
    # lifetime; the id rotates at every sign-in.
    session_idle_timeout: Annotated[int, msgspec.Meta(ge=60, le=86_400)] = 1800
    session_absolute_lifetime: Annotated[int, msgspec.Meta(ge=300, le=30 * 86_400)] = 43_200
    # Sign-in attempts allowed per client address and minute.
    signin_rate_limit: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 30
    # Token requests allowed per user and minute.
    token_rate_limit: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 120
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Strict-Transport-Security on every response of an https deployment (an https issuer,
    # or secure cookies, which need https): browsers then refuse plain http to the service,
    # so the session cookie is never offered to a downgraded connection. 0 sends none.
    hsts_max_age: Annotated[int, msgspec.Meta(ge=0, le=2 * 31_536_000)] = 31_536_000
    hsts_include_subdomains: bool = False

    def __post_init__(self) -> None:
        if self.issuer.startswith("https://") and not self.cookie_secure:
            # Insecure cookies on an https service could be planted over plain http or
            # from a sibling subdomain (no __Host- prefix): a session fixation, and with
            # it a victim's identity linked to an attacker's account.
            raise ValueError("service.cookie_secure must be true when the issuer is https")

    @property
    def https(self) -> bool:
        return self.issuer.startswith("https://") or self.cookie_secure

    def always_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """Headers every response carries."""
        if not self.https or self.hsts_max_age == 0:
            return ()
        value = f"max-age={self.hsts_max_age}"
        if self.hsts_include_subdomains:
            value += "; includeSubDomains"
        return ((b"strict-transport-security", value.encode()),)


class DatabaseSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[database]``: pool sizing."""

    pool_min_size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 2
    pool_max_size: Annotated[int, msgspec.Meta(ge=1, le=500)] = 20
    command_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 30.0


class AuditSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[audit]``: how often the sealer chains new events, and partitions kept ahead."""

    seal_interval: Annotated[float, msgspec.Meta(gt=0, le=60)] = 0.5
    seal_batch_size: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 5_000
    partitions_ahead: Annotated[int, msgspec.Meta(ge=1, le=24)] = 2


class KeySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[keys]``: signing algorithms kept ready, and the rotation schedule."""

    # ES256 first: every common gateway verifies it; EdDSA and RS256 for audiences that ask.
    algorithms: tuple[Literal["ES256", "EdDSA", "RS256"], ...] = ("ES256",)
    rotation_interval: Seconds = 30 * 86_400
    # A key is published this long before it signs; must exceed jwks_max_age so that a
    # gateway caching the JWKS never meets an unknown kid.
    publish_ahead: Seconds = 86_400
    jwks_max_age: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 300
    clock_skew: Annotated[int, msgspec.Meta(ge=0, le=600)] = 60
    rotation_check_interval: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 60.0

    def __post_init__(self) -> None:
        if not self.algorithms:
            raise ValueError("keys.algorithms: name at least one algorithm")
        if self.publish_ahead <= self.jwks_max_age:
            raise ValueError("keys.publish_ahead must be longer than keys.jwks_max_age")


class ScreeningSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[screening]``: restricted-party screening of organisations (docs/screening.md)."""

    # A name scoring at least this (0..100, rapidfuzz) against a listed name is a hit. 88
    # catches every true variant of the measured fixture (case, diacritics, legal suffix,
    # word order, alias, one typo) and none of its near misses; see docs/screening.md.
    threshold: Annotated[float, msgspec.Meta(ge=50, le=100)] = 88.0
    # Nobody gets a token unscreened: every name verified for the person screened against
    # the newest list, itself within max_list_age; otherwise issuance is refused with
    # screening_unavailable. false only deliberately, where screening happens elsewhere.
    required: bool = True
    # Four eyes: an organisation with an overridden hit is approved only by an operator
    # other than the one who overrode it, so no single person can both decide a listed
    # party is not the applicant and let the applicant in.
    four_eyes_approval: bool = True
    # Approvals and program grants need a list no older than this (docs/screening.md).
    max_list_age: Seconds = 14 * 86_400
    # An import whose entry count drops by more than this share against the current list
    # is refused unless forced: a truncated download must not close hits it no longer has.
    max_entry_drop: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.10
    # An operator's override of a hit lapses after this; the hit opens again at the next
    # screening that still finds the entry.
    override_validity: Seconds = 365 * 86_400
    # Every organisation that is not rejected is screened again this often against the
    # newest list (besides at every import), once across all instances.
    rescreen_interval: Seconds = 86_400
    # Where to fetch the list from on a schedule (the Consolidated Screening List's CSV or
    # JSON, or a mirror); empty: lists come only from `idsvc screening import`.
    list_url: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    fetch_interval: Seconds = 86_400

    @property
    def list_max_age(self) -> timedelta:
        return timedelta(seconds=self.max_list_age)


IpAddress = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f:.]{2,45}$")]


class DnsSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[dns]``: the resolver that checks domain-verification TXT records."""

    # Empty: the system resolver (/etc/resolv.conf). Otherwise these addresses, on `port`.
    nameservers: tuple[IpAddress, ...] = ()
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 53
    # Seconds for the whole look-up; past it the check fails without changing anything.
    timeout: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[smtp]``: where invitation e-mails go. Without a host, invitations are refused
    (503) rather than e-mailed nowhere; `idsvc dev` prints them and keeps an outbox."""

    host: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    # The password comes from IDSVC_SMTP_PASSWORD (or _FILE), never from this file.
    from_address: Annotated[str, msgspec.Meta(max_length=320)] = "idsvc@localhost"
    timeout: Annotated[float, msgspec.Meta(gt=0, le=120)] = 15.0
    invitation_lifetime: Annotated[int, msgspec.Meta(ge=3600, le=30 * 86_400)] = 7 * 86_400


class StatusListSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[status_lists]``: revocation through Token Status Lists (docs/revocation.md)."""

    # Slots per list. Large lists keep few lists live at once (each gateway fetches each
    # list its tokens name) and hide issuance order among more tokens; 2^20 two-bit slots
    # are 256 KiB raw, a few KiB compressed while few are revoked.
    list_size: Annotated[int, msgspec.Meta(ge=1024, le=16_777_216)] = 1_048_576
    # How long gateways may cache a list (Cache-Control max-age and the list's ttl): the
    # bound on how long a revoked token can still pass, plus the gateway's refresh.
    ttl: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 300
    retire_interval: Annotated[float, msgspec.Meta(gt=0, le=86_400)] = 600.0


class OrgSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[orgs]``: access reviews (docs/organisations.md)."""

    # Each approved organisation re-certifies its members this often (0: never)...
    review_interval: Annotated[int, msgspec.Meta(ge=0, le=10 * 365 * 86_400)] = 90 * 86_400
    # ...within this window; memberships not confirmed by then are suspended.
    review_window: Annotated[int, msgspec.Meta(ge=86_400, le=365 * 86_400)] = 14 * 86_400
    # The organisation's admins are reminded by e-mail this long before the due date.
    review_reminder: Annotated[int, msgspec.Meta(ge=3600, le=365 * 86_400)] = 3 * 86_400
    # Admins see, per member, a coarse eligibility state for the organisation's own
    # audiences (docs/privacy.md). Where even that reveals a protected fact (an audience
    # for U.S. persons only), false shows only "enrolled" / "not enrolled".
    admin_sees_eligibility: bool = True


class ReminderSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[reminders]``: e-mail people before a verification they depend on expires."""

    # How long before the expiry (0: never remind). Needs [smtp] (or idsvc dev's outbox).
    expiry_notice: Annotated[int, msgspec.Meta(ge=0, le=365 * 86_400)] = 30 * 86_400


class RetentionSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[retention]``: how long a person's records are kept after their last activity."""

    # 15 CFR 762.6: export-control records are kept five years. 0: never erase by age.
    period: Annotated[int, msgspec.Meta(ge=0, le=50 * 366 * 86_400)] = 5 * 366 * 86_400


class PolicyOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[policy]``: the data every policy reads (docs/country-groups.md)."""

    # A deployment's own, signed-off copy of the country groups (the shipped file's format);
    # empty: the file shipped in idsvc/policy/data.
    country_groups_file: Annotated[str, msgspec.Meta(max_length=4096)] = ""
    # Start even though the country groups have no valid sign-off (none, or one for other
    # data). Only for development (idsvc dev sets it, and the console shows a banner): in
    # production a compliance officer signs the data off first. Codes that are no country
    # are refused either way.
    allow_unreviewed_country_groups: bool = False


class ComplianceSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[compliance]``: how compliance decisions are taken (docs/four-eyes.md)."""

    # Four eyes: a second operator approves what one proposes (organisation approval and
    # program grants, hit overrides, determinations, reinstated attestations, erasure
    # despite retention, lifting a legal hold, the country groups' sign-off). false only in
    # development: `idsvc dev` sets it so that one operator can try every flow, and the
    # console then says so on every page.
    four_eyes: bool = True
    # How long a proposal waits for its second operator before it lapses.
    proposal_validity: Annotated[int, msgspec.Meta(ge=3600, le=90 * 86_400)] = 7 * 86_400


class TracingSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``[tracing]``: OpenTelemetry spans for each request and each database statement,
    exported over OTLP/HTTP. Needs ``pip install idsvc[otel]``; off while the endpoint is
    empty. Spans carry route templates and SQL text, never paths, query strings or values."""

    # e.g. "http://otel-collector:4318/v1/traces"
    otlp_endpoint: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    service_name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "idsvc"


class ConfigFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole TOML file. Its JSON Schema is ``schemas/config.schema.json``."""

    service: ServiceSettings = msgspec.field(default_factory=ServiceSettings)
    database: DatabaseSettings = msgspec.field(default_factory=DatabaseSettings)
    audit: AuditSettings = msgspec.field(default_factory=AuditSettings)
    keys: KeySettings = msgspec.field(default_factory=KeySettings)
    screening: ScreeningSettings = msgspec.field(default_factory=ScreeningSettings)
    dns: DnsSettings = msgspec.field(default_factory=DnsSettings)
    providers: tuple[ProviderSettings, ...] = ()
    policies: tuple[PolicySettings, ...] = ()
    oauth: OAuthSettings = msgspec.field(default_factory=OAuthSettings)
    status_lists: StatusListSettings = msgspec.field(default_factory=StatusListSettings)
    tracing: TracingSettings = msgspec.field(default_factory=TracingSettings)
    policy: PolicyOptions = msgspec.field(default_factory=PolicyOptions)
    orgs: OrgSettings = msgspec.field(default_factory=OrgSettings)
    reminders: ReminderSettings = msgspec.field(default_factory=ReminderSettings)
    retention: RetentionSettings = msgspec.field(default_factory=RetentionSettings)
    compliance: ComplianceSettings = msgspec.field(default_factory=ComplianceSettings)
    smtp: SmtpSettings = msgspec.field(default_factory=SmtpSettings)
    clients: tuple[ClientSettings, ...] = ()
    # Subjects (``provider:subject`` of an upstream identity) that are operators.
    operators: tuple[Annotated[str, msgspec.Meta(min_length=3, max_length=512)], ...] = ()

    def __post_init__(self) -> None:
        ids = [p.id for p in self.providers]
        if len(ids) != len(set(ids)):
            raise ValueError("providers: two providers share an id")
        clients = [c.id for c in self.clients]
        if len(clients) != len(set(clients)):
            raise ValueError("clients: two clients share an id")
        audiences = [p.audience for p in self.policies]
        if len(audiences) != len(set(audiences)):
            raise ValueError("policies: one policy per audience")


class Secrets(msgspec.Struct, frozen=True, kw_only=True):
    """Secret material from the environment; repr never shows it."""

    key_encryption_key: bytes | None
    session_secret: bytes | None
    # Upstream providers' client secrets by provider id, read from where each names.
    provider_secrets: dict[str, str] = msgspec.field(default_factory=dict)
    smtp_password: bytes | None = None

    def __repr__(self) -> str:
        return "Secrets(<redacted>)"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service needs, resolved once at start."""

    config: ConfigFile
    database_url: str | None
    secrets: Secrets
    data_dir: Path
    config_path: Path | None
    migrations_dir: Path = MIGRATIONS_DIR

    @property
    def service(self) -> ServiceSettings:
        return self.config.service


def parse_config(data: Mapping[str, object], *, source: str = "config") -> ConfigFile:
    """Validate a decoded TOML document; the error names the offending key. The country
    groups file ([policy] country_groups_file) is put in use first: policies name its
    groups."""
    _use_country_groups_of(data, source)
    try:
        return msgspec.convert(data, ConfigFile, strict=True)
    except msgspec.ValidationError as exc:
        # msgspec says e.g. "Expected `int`, got `str` - at `$.service.listen_port`";
        # rewrite the JSON path into the TOML key the operator wrote.
        raise ConfigError(f"{source}: {_toml_key_message(str(exc))}") from None


def _use_country_groups_of(data: Mapping[str, object], source: str) -> None:
    section = data.get("policy")
    named = section.get("country_groups_file") if isinstance(section, Mapping) else None
    if named is not None and not isinstance(named, str):
        raise ConfigError(f"{source}: key `policy.country_groups_file`: expected a path")
    try:
        use_country_groups(Path(named) if named else None)
    except ValueError as exc:
        raise ConfigError(f"{source}: key `policy.country_groups_file`: {exc}") from None


def _toml_key_message(message: str) -> str:
    text, sep, path = message.rpartition(" - at `")
    if not sep:
        text, path = message, "$"
    key = path.rstrip("`").removeprefix("$").lstrip(".")
    unknown = re.fullmatch(r"Object contains unknown field `([^`]*)`", text)
    if unknown:
        return f"unknown key `{'.'.join(filter(None, (key, unknown.group(1))))}`"
    return f"key `{key}`: {text}" if key else text


def _secret(env: Mapping[str, str], name: str) -> bytes | None:
    if value := env.get(name):
        return value.encode()
    if path := env.get(f"{name}_FILE"):
        try:
            return Path(path).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the environment and the TOML file it names."""
    env = os.environ if env is None else env
    config_path = Path(env["IDSVC_CONFIG"]) if env.get("IDSVC_CONFIG") else None
    document: dict[str, object] = {}
    if config_path is not None:
        try:
            document = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"IDSVC_CONFIG: cannot read {config_path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
    config = parse_config(document, source=str(config_path or "defaults"))
    provider_secrets = {}
    for provider in config.providers:
        if provider.client_secret_env:
            value = env.get(provider.client_secret_env)
            if not value:
                raise ConfigError(
                    f"providers.{provider.id}.client_secret_env: "
                    f"{provider.client_secret_env} is not set"
                )
            provider_secrets[provider.id] = value
        elif provider.client_secret_file:
            try:
                provider_secrets[provider.id] = (
                    Path(provider.client_secret_file).read_text(encoding="utf-8").strip()
                )
            except OSError as exc:
                raise ConfigError(
                    f"providers.{provider.id}.client_secret_file: cannot read: {exc.strerror}"
                ) from None
    data_dir = Path(env.get("IDSVC_DATA_DIR") or config.service.data_dir).resolve()
    return Settings(
        config=config,
        database_url=env.get("IDSVC_DATABASE_URL") or None,
        secrets=Secrets(
            key_encryption_key=_secret(env, "IDSVC_KEY_ENCRYPTION_KEY"),
            session_secret=_secret(env, "IDSVC_SESSION_SECRET"),
            provider_secrets=provider_secrets,
            smtp_password=_secret(env, "IDSVC_SMTP_PASSWORD"),
        ),
        data_dir=data_dir,
        config_path=config_path,
        migrations_dir=Path(env["IDSVC_MIGRATIONS_DIR"])
        if env.get("IDSVC_MIGRATIONS_DIR")
        else MIGRATIONS_DIR,
    )
