"""Follow by email: signed links, the news to send, who it goes to, and sending it exactly once.

- **Double opt-in.** Asking to follow stores nothing: the confirmation mail carries what was asked
  (address, what, frequency) in a signed link that expires after 48 hours. Only using it creates the
  address's row and the follow, so an address that never confirms is never kept.
- **News** is an `AlertItem`: a measure the first time it is published, or an action recorded on a
  published measure (not the actions saved with a measure in the transaction that publishes it: the
  measure is the news). Items are written when the change is saved; when the transaction commits, one
  task is queued to send them "as it happens". `send_digests` queues the weekly digests.
- **Who gets an item**: a follow of its measure's jurisdiction (a state's follow takes what lies in the
  state, a county's what lies in the county), of the measure itself (its new actions), or a search
  that lists the measure, evaluated by the list's own FilterSet.
- **Exactly once.** A run inserts the (address, item) rows of the sent-log with its own claim id,
  ignoring rows that exist (the database's unique constraint), reads back the rows carrying its id, and
  sends only those. A retried task, a second worker, or two follows matching one item cannot send an
  item twice. The trade-off: the claim commits before the mail leaves, so a crash in between loses that
  mail rather than sending it twice.
"""

import email.policy
import hashlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from email.headerregistry import HeaderRegistry
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.http import QueryDict
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .filters import ResolutionFilter
from .models import (
    LOCAL_LEVELS,
    MAX_FOLLOWED_SEARCH_LENGTH,
    AlertItem,
    Delivery,
    Follow,
    FollowTarget,
    Frequency,
    Jurisdiction,
    Level,
    Resolution,
    Subscriber,
)

logger = logging.getLogger(__name__)

CONFIRM_SALT = "recognition.alerts.confirm"
UNSUBSCRIBE_SALT = "recognition.alerts.unsubscribe"
MANAGE_SALT = "recognition.alerts.manage"
CONFIRM_MAX_AGE = 48 * 60 * 60  # seconds: the confirmation link's life
# A digest covers what matched since the follow began, within this window (a missed week is caught up).
DIGEST_LOOKBACK = timezone.timedelta(days=30)
SEND_BATCH = 200  # addresses claimed and sent per transaction and SMTP connection


class BadLink(Exception):
    """A confirmation, unsubscribe or manage link that cannot be used; `reason` says why in words."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def site_url():
    """The site's address for links in mail (DJANGO_SITE_URL); a local default for development."""
    return settings.SITE_URL or "http://127.0.0.1:8000"


def absolute(path):
    return f"{site_url()}{path}"


def normal_email(address):
    return address.strip().lower()


# --- What a follow is of -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What someone asks to follow, before anything is stored."""

    kind: str
    jurisdiction: Jurisdiction | None = None
    resolution: Resolution | None = None
    search: str = ""

    @property
    def value(self):
        """What the signed link carries: a primary key or the normalised search."""
        if self.kind == FollowTarget.JURISDICTION:
            return self.jurisdiction.pk
        if self.kind == FollowTarget.MEASURE:
            return self.resolution.pk
        return self.search

    def describe(self):
        return describe_target(self.kind, self.jurisdiction, self.resolution, self.search)

    def query(self):
        """The follow form's own query string for this target (the page the form is on)."""
        key = {FollowTarget.JURISDICTION: "jurisdiction", FollowTarget.MEASURE: "resolution"}.get(self.kind)
        return urlencode({key: self.value} if key else {"search": self.search})


def describe_target(kind, jurisdiction=None, resolution=None, search=""):
    """ "Alabama", "Mobile County, AL", "HB 414 (Alabama)", "the search: Alabama; bill"."""
    if kind == FollowTarget.JURISDICTION:
        if jurisdiction.level == Level.STATE:
            return f"{jurisdiction.name} (the state and every place in it)"
        if jurisdiction.level == Level.COUNTY:
            return f"{jurisdiction} (the county and its cities and districts)"
        return str(jurisdiction)
    if kind == FollowTarget.MEASURE:
        label = resolution.identifier or resolution.title
        return f"{label}, {resolution.jurisdiction}"
    from .feeds import describe

    filterset = ResolutionFilter(QueryDict(search))
    filterset.is_valid()
    return f"the search “{describe(filterset) or 'every record'}”"


def normalise_search(query):
    """A search of the list as the follow keeps it: the list's own parameters, validated, in a fixed order.

    Page and sort order do not change what a search finds, so they are left out. Raises a
    ValidationError in words when the list would refuse the search too.
    """
    if len(query) > MAX_FOLLOWED_SEARCH_LENGTH:
        raise ValidationError(
            f"This search is too long to follow (at most {MAX_FOLLOWED_SEARCH_LENGTH} characters)."
        )
    data = QueryDict(query)
    filterset = ResolutionFilter(data)
    if not filterset.is_valid():
        from .exports import filter_errors

        problems = "; ".join(f"{label}: {' '.join(messages)}" for label, messages in filter_errors(filterset))
        raise ValidationError(f"This search has an error. {problems}")
    kept = []
    for name in ResolutionFilter.base_filters:
        if name == "ordering":
            continue
        values = sorted({value.strip() for value in data.getlist(name) if value.strip()})
        if name == "state":
            values = sorted({value.upper() for value in values})
        kept.extend((name, value) for value in values)
    if not kept:
        raise ValidationError("Choose at least one filter of the list before following a search.")
    normalised = urlencode(kept)
    if len(normalised) > MAX_FOLLOWED_SEARCH_LENGTH:
        raise ValidationError(
            f"This search is too long to follow (at most {MAX_FOLLOWED_SEARCH_LENGTH} characters)."
        )
    return normalised


def _digits(value):
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18


def target_from_params(params):
    """The Target that the follow form's query string names, or a ValidationError in words.

    `?state=AL`, `?jurisdiction=<id>`, `?resolution=<id>` or `?search=<the list's query string>`.
    """
    if "state" in params:
        usps = params["state"].strip().upper()
        state = Jurisdiction.objects.filter(level=Level.STATE, usps=usps).first() if len(usps) == 2 else None
        if state is None:
            raise ValidationError("There is no such state or territory to follow.")
        return Target(FollowTarget.JURISDICTION, jurisdiction=state)
    if "jurisdiction" in params:
        value = params["jurisdiction"]
        place = (
            Jurisdiction.objects.select_related("parent").filter(pk=int(value)).first()
            if _digits(value)
            else None
        )
        if place is None:
            raise ValidationError("There is no such place to follow.")
        return Target(FollowTarget.JURISDICTION, jurisdiction=place)
    if "resolution" in params:
        value = params["resolution"]
        measure = (
            Resolution.objects.published().with_jurisdiction().filter(pk=int(value)).first()
            if _digits(value)
            else None
        )
        if measure is None:
            raise ValidationError("There is no such published record to follow.")
        return Target(FollowTarget.MEASURE, resolution=measure)
    if "search" in params:
        return Target(FollowTarget.SEARCH, search=normalise_search(params["search"]))
    raise ValidationError("Choose what to follow from a state, place, record or search page.")


# --- Signed links -------------------------------------------------------------------------------------


def confirmation_token(email, target, frequency):
    return signing.dumps(
        {"e": normal_email(email), "k": str(target.kind), "v": target.value, "f": str(frequency)},
        salt=CONFIRM_SALT,
        compress=True,
    )


def read_confirmation(token, max_age=CONFIRM_MAX_AGE):
    """(email, Target, frequency) from a confirmation link; BadLink when expired, altered or stale."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink("This confirmation link has expired: links work for 48 hours. Ask again.") from None
    except signing.BadSignature:
        raise BadLink("This link is not valid: it may have been cut short or changed. Ask again.") from None
    kind, value, frequency = data.get("k"), data.get("v"), data.get("f")
    key = {
        FollowTarget.JURISDICTION: "jurisdiction",
        FollowTarget.MEASURE: "resolution",
        FollowTarget.SEARCH: "search",
    }
    if kind not in key or frequency not in Frequency.values:
        raise BadLink("This link is not valid. Ask again.")
    try:
        target = target_from_params({key[kind]: str(value)})
    except ValidationError:
        raise BadLink("What this link follows is no longer on the site.") from None
    return data["e"], target, frequency


def _address_check(subscriber):
    """Ties a link to the address too, so a link outlives no deleted row whose number was reused."""
    return hashlib.sha256(subscriber.email.encode()).hexdigest()[:12]


def subscriber_token(subscriber, salt):
    return signing.dumps({"s": subscriber.pk, "h": _address_check(subscriber)}, salt=salt)


def read_subscriber_token(token, salt):
    """The Subscriber a manage or unsubscribe link names; BadLink otherwise. These links do not expire:
    an old mail must still be able to stop the mail."""
    try:
        data = signing.loads(token, salt=salt)
    except signing.BadSignature:
        raise BadLink("This link is not valid: it may have been cut short or changed.") from None
    subscriber = Subscriber.objects.filter(pk=data.get("s")).first() if isinstance(data, dict) else None
    if subscriber is None or _address_check(subscriber) != data.get("h"):
        raise BadLink("This address no longer follows anything here: there is nothing to change.")
    return subscriber


def unsubscribe_url(subscriber):
    return absolute(reverse("recognition:unsubscribe", args=[subscriber_token(subscriber, UNSUBSCRIBE_SALT)]))


def manage_url(subscriber):
    return absolute(reverse("recognition:follow_manage", args=[subscriber_token(subscriber, MANAGE_SALT)]))


def _list_headers(unsubscribe_link):
    """RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click` to the address."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


# --- Asking, confirming, managing ---------------------------------------------------------------------


def send_confirmation(email, target, frequency):
    """The one mail an unconfirmed address gets: what it asked to follow, and the link that confirms it."""
    email = normal_email(email)
    link = absolute(
        reverse("recognition:follow_confirm", args=[confirmation_token(email, target, frequency)])
    )
    context = {
        "what": target.describe(),
        "frequency": Frequency(frequency).label.lower(),
        "link": link,
        "site_url": site_url(),
        "hours": CONFIRM_MAX_AGE // 3600,
    }
    message = EmailMultiAlternatives(
        subject="Confirm: follow " + target.describe(),
        body=render_to_string("recognition/email/confirm.txt", context),
        to=[email],
    )
    message.attach_alternative(render_to_string("recognition/email/confirm.html", context), "text/html")
    message.send()


@transaction.atomic
def confirm(email, target, frequency):
    """Use a confirmation: the address (again) receiving, and the follow with this frequency."""
    now = timezone.now()
    subscriber, _created = Subscriber.objects.get_or_create(email=normal_email(email))
    if not subscriber.is_receiving:
        subscriber.confirmed_at, subscriber.unsubscribed_at = now, None
        subscriber.save(update_fields=["confirmed_at", "unsubscribed_at"])
    lookup = {
        FollowTarget.JURISDICTION: {"jurisdiction": target.jurisdiction},
        FollowTarget.MEASURE: {"resolution": target.resolution},
        FollowTarget.SEARCH: {"search": target.search},
    }[target.kind]
    follow, created = Follow.objects.get_or_create(
        subscriber=subscriber, target=target.kind, **lookup, defaults={"frequency": frequency}
    )
    if not created and follow.frequency != frequency:
        follow.frequency = frequency
        follow.save(update_fields=["frequency"])
    return subscriber, follow


def unsubscribe(subscriber):
    """Stop all mail now; the address is deleted 30 days later (`forget_addresses`)."""
    if subscriber.unsubscribed_at is None:
        subscriber.unsubscribed_at = timezone.now()
        subscriber.save(update_fields=["unsubscribed_at"])


def forget_addresses(now=None):
    """Delete addresses unsubscribed for more than 30 days (and any never confirmed): returns how many."""
    _total, per_model = Subscriber.objects.forgettable(now).delete()
    return per_model.get(Subscriber._meta.label, 0)


def follow_rows(subscriber):
    """What an address follows, each with its words, for the manage page (3 queries at most)."""
    follows = list(
        subscriber.follows.select_related("jurisdiction__parent", "resolution__jurisdiction__parent")
    )
    return [
        (follow, describe_target(follow.target, follow.jurisdiction, follow.resolution, follow.search))
        for follow in follows
    ]


# --- News: items written as changes are saved ---------------------------------------------------------


class _PendingItems:
    """This transaction's new items; queued for sending, in one task, when it commits."""

    def __init__(self):
        self.item_ids = []
        self.measures = set()  # published in this transaction: their actions are not news of their own
        self.queued = False

    def __call__(self):
        self.queued = True
        if self.item_ids:
            try:
                send_new_items.enqueue(self.item_ids)
            except Exception:  # the queue is unreachable: the digest still carries them
                logger.exception("Could not queue the alerts for items %s", self.item_ids)


def _pending_items():
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        for _savepoints, callback, _robust in reversed(connection.run_on_commit):
            if isinstance(callback, _PendingItems) and not callback.queued:
                return callback
    pending = _PendingItems()
    transaction.on_commit(pending, robust=True)
    return pending


def measure_saved(sender, instance, created=False, raw=False, **kwargs):
    """A published measure with no item yet is news: record it (once, ever)."""
    if raw or not instance.published:
        return
    if created:
        # A measure inserted just now has no item, nor can another transaction give it one meanwhile: one
        # INSERT, rather than a look, a savepoint and the INSERT (a third of an imported row's time).
        item = AlertItem.objects.create(resolution_id=instance.pk, action=None)
    else:
        item, created = AlertItem.objects.get_or_create(resolution_id=instance.pk, action=None)
    if created:
        pending = _pending_items()
        pending.measures.add(instance.pk)
        pending.item_ids.append(item.pk)


def action_saved(sender, instance, created=False, raw=False, **kwargs):
    """A new action on a published measure is news, unless the measure is being published with it."""
    if raw or not created:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        for _savepoints, callback, _robust in connection.run_on_commit:
            if (
                isinstance(callback, _PendingItems)
                and not callback.queued
                and instance.resolution_id in callback.measures
            ):
                return
    if not Resolution.objects.filter(pk=instance.resolution_id, published=True).exists():
        return
    item = AlertItem.objects.create(resolution_id=instance.resolution_id, action=instance)
    _pending_items().item_ids.append(item.pk)


def actions_created(actions):
    """Actions written in bulk (an import sends no save signal): those on published measures are news.

    Two queries whatever the number of actions, as for one saved action each.
    """
    actions = [a for a in actions if a.pk is not None]
    published = set(
        Resolution.objects.filter(pk__in={a.resolution_id for a in actions}, published=True).values_list(
            "pk", flat=True
        )
    )
    news = [
        AlertItem(resolution_id=a.resolution_id, action=a) for a in actions if a.resolution_id in published
    ]
    if news:
        AlertItem.objects.bulk_create(news)
        _pending_items().item_ids.extend(item.pk for item in news)


# --- Who gets what -------------------------------------------------------------------------------------


def _followed_places(jurisdiction):
    """The jurisdictions whose follow takes a measure of this one: itself, its county, its state."""
    places = {jurisdiction.pk}
    if jurisdiction.level in LOCAL_LEVELS:
        places.add(jurisdiction.parent_id)
        if jurisdiction.county_id:
            places.add(jurisdiction.county_id)
    return places


def matches(items, follows):
    """{follow id: [items it takes]}: the one matching rule, for "as it happens" and digests alike.

    `follows` are Follow rows; a search follow is asked of the list's FilterSet once per distinct
    search, restricted to the items' measures (one query each).
    """
    measure_ids = {item.resolution_id for item in items}
    by_search = defaultdict(list)
    for follow in follows:
        if follow.target == FollowTarget.SEARCH:
            by_search[follow.search].append(follow)
    listed = {}
    for search in by_search:
        filterset = ResolutionFilter(QueryDict(search))
        listed[search] = (
            set(filterset.qs.filter(pk__in=measure_ids).values_list("pk", flat=True).order_by())
            if filterset.is_valid()
            else set()
        )
    taken = defaultdict(list)
    for item in items:
        places = _followed_places(item.resolution.jurisdiction)
        for follow in follows:
            if follow.created_at > item.created_at:
                continue  # news from before the follow began is not sent
            if follow.target == FollowTarget.JURISDICTION:
                hit = follow.jurisdiction_id in places
            elif follow.target == FollowTarget.MEASURE:
                hit = item.action_id is not None and follow.resolution_id == item.resolution_id
            else:
                hit = item.resolution_id in listed[follow.search]
            if hit:
                taken[follow.pk].append(item)
    return taken


def candidate_follows(items, frequency, subscriber_ids=None):
    """The receiving follows that could take any of these items, of these addresses if named (one query)."""
    places, measures = set(), set()
    for item in items:
        places |= _followed_places(item.resolution.jurisdiction)
        measures.add(item.resolution_id)
    receiving = Follow.objects.receiving().filter(frequency=frequency)
    if subscriber_ids is not None:
        receiving = receiving.filter(subscriber_id__in=subscriber_ids)
    return list(
        receiving.filter(
            Q(jurisdiction_id__in=places) | Q(resolution_id__in=measures) | Q(target=FollowTarget.SEARCH)
        ).order_by("subscriber_id", "pk")
    )


def _items(item_ids=None, since=None):
    """Items whose measure is still published, with what the mail shows (one query)."""
    items = AlertItem.objects.filter(resolution__published=True).select_related(
        "resolution__jurisdiction__parent",
        "resolution__jurisdiction__county",
        "resolution__session",
        "action",
    )
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    if since is not None:
        items = items.since(since)
    return list(items.order_by("created_at", "pk"))


def plan(items, frequency, subscriber_ids=None):
    """{subscriber id: (follows that matched, items in order)} for these items and this frequency (and
    these addresses, if named)."""
    if not items:
        return {}
    follows = candidate_follows(items, frequency, subscriber_ids)
    taken = matches(items, follows)
    by_subscriber = {}
    order = {item.pk: index for index, item in enumerate(items)}
    for follow in follows:
        if follow.pk not in taken:
            continue
        reasons, chosen = by_subscriber.setdefault(follow.subscriber_id, ([], {}))
        reasons.append(follow)
        for item in taken[follow.pk]:
            chosen.setdefault(item.pk, item)
    return {
        subscriber: (reasons, sorted(chosen.values(), key=lambda item: order[item.pk]))
        for subscriber, (reasons, chosen) in by_subscriber.items()
    }


def _claim_rows(pairs, run, now):
    """Insert what is not claimed yet; on PostgreSQL one statement that returns what it inserted."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor == "postgresql":
        # A digest claims about fifty rows per address: building model instances for them cost more
        # than composing the mail itself.
        table = connection.ops.quote_name(Delivery._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (subscriber_id, item_id, claim, sent_at) "
                "SELECT s, i, %s::uuid, %s FROM unnest(%s::bigint[], %s::bigint[]) AS p(s, i) "
                "ON CONFLICT DO NOTHING RETURNING subscriber_id, item_id",
                [str(run), now, [s for s, _ in pairs], [i for _, i in pairs]],
            )
            return set(cursor.fetchall())
    Delivery.objects.bulk_create(
        [Delivery(subscriber_id=s, item_id=i, claim=run, sent_at=now) for s, i in pairs],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return set(Delivery.objects.filter(claim=run).values_list("subscriber_id", "item_id"))


@transaction.atomic
def claim(pairs):
    """Insert the sent-log rows for these (subscriber id, item id) pairs; the pairs this call inserted.

    A row that exists (sent before, or claimed by another run at the same moment) is left alone by
    the unique constraint and is not returned, so nothing is ever sent twice.
    """
    if not pairs:
        return set()
    return _claim_rows(pairs, uuid.uuid4(), timezone.now())


# --- The mail ------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One item as the mail says it."""

    headline: str
    place: str
    summary: str
    link: str
    source: str
    when: str = ""


def _source_of(item, sources):
    if item.action_id:
        return item.action.source_url
    return sources.get(item.resolution_id, "")


def entries(items):
    """Each item in words, with its absolute link and its source (one query for the sources)."""
    from .models import Source

    sources = {}
    for resolution_id, url in (
        Source.objects.filter(resolution_id__in={item.resolution_id for item in items})
        .exclude(url="")
        .order_by("resolution_id", "pk")
        .values_list("resolution_id", "url")
    ):
        sources.setdefault(resolution_id, url)
    found = []
    for item in items:
        measure = item.resolution
        if item.action_id:
            action = item.action
            action.resolution = measure
            headline, link, when = action.headline, absolute(action.get_absolute_url()), str(action.date)
        else:
            label = measure.identifier or measure.get_kind_display()
            headline = f"New record: {label}, {measure.status_label.lower()}"
            link, when = (
                absolute(measure.get_absolute_url()),
                str(measure.adopted or measure.introduced or ""),
            )
        found.append(
            Entry(headline, str(measure.jurisdiction), measure.title, link, _source_of(item, sources), when)
        )
    return found


@dataclass
class Outgoing:
    subscriber: Subscriber
    reasons: list = field(default_factory=list)
    items: list = field(default_factory=list)


class _HeaderClasses(HeaderRegistry):
    """The standard header classes, each made once: the library makes a new class for every header of
    every mail (31 per digest), a tenth of a digest's sending time."""

    def __init__(self):
        super().__init__()
        self.made = {}

    def __getitem__(self, name):
        key = name.lower()
        if key not in self.made:
            self.made[key] = super().__getitem__(name)
        return self.made[key]


HEADER_CLASSES = _HeaderClasses()


class PlainMail(EmailMultiAlternatives):
    """A mail whose parts go out as they are when they are plain ASCII (nearly always here).

    RFC 5322 allows lines of up to 998 characters; the mail library would encode any part with a line over
    78 (every mail here has its signed 120-character unsubscribe and manage links) as quoted-printable, in
    Python, which was most of a digest's sending time. A part with other characters keeps the default.
    """

    def message(self, *, policy=email.policy.default):
        parts = [self.body, *(alternative.content for alternative in self.alternatives)]
        if all(part.isascii() and max(map(len, part.splitlines()), default=0) <= 998 for part in parts):
            policy = policy.clone(max_line_length=998)
        return super().message(policy=policy.clone(header_factory=HEADER_CLASSES))


class Blocks:
    """The list of items as each part of a mail shows it, drawn once per distinct list of items.

    A digest run sends the same few lists to thousands of addresses; only the address's own lines (what it
    follows, its links) differ, so only those are drawn per mail.
    """

    def __init__(self, shown_by_item=None):
        self.shown_by_item = shown_by_item
        self.drawn = {}

    def of(self, items):
        key = tuple(item.pk for item in items)
        if key not in self.drawn:
            shown = (
                [self.shown_by_item[pk] for pk in key] if self.shown_by_item is not None else entries(items)
            )
            context = {"entries": shown}
            self.drawn[key] = (
                shown,
                render_to_string("recognition/email/alert.txt#entries", context),
                # Already escaped as it was drawn: the template engine hands it back as safe text.
                render_to_string("recognition/email/alert.html#entries", context),
            )
        return self.drawn[key]


def compose(subscriber, reasons, items, digest=False, blocks=None):
    """The mail for one address: plain text and HTML, both whole without images, with both unsubscribe ways."""
    shown, text_block, html_block = (blocks or Blocks()).of(items)
    count = len(shown)
    if digest:
        subject = f"This week: {count} update{'s' if count != 1 else ''} on what you follow"
    elif count == 1:
        subject = shown[0].headline
    else:
        subject = f"{count} updates on what you follow"
    context = {
        "reasons": [describe_target(r.target, r.jurisdiction, r.resolution, r.search) for r in reasons],
        "digest": digest,
        "manage_url": manage_url(subscriber),
        "unsubscribe_url": unsubscribe_url(subscriber),
        "site_url": site_url(),
    }
    message = PlainMail(
        subject=subject,
        body=render_to_string("recognition/email/alert.txt", context | {"entries_block": text_block}),
        to=[subscriber.email],
        headers=_list_headers(context["unsubscribe_url"]),
    )
    message.attach_alternative(
        render_to_string("recognition/email/alert.html", context | {"entries_block": html_block}), "text/html"
    )
    return message


def deliver(planned, digest=False):
    """Claim and send, SEND_BATCH addresses at a time over one SMTP connection; the number of mails sent."""
    subscriber_ids = sorted(planned)
    sent = 0
    blocks = Blocks({})
    for start in range(0, len(subscriber_ids), SEND_BATCH):
        batch = subscriber_ids[start : start + SEND_BATCH]
        subscribers = Subscriber.objects.receiving().in_bulk(batch)
        pairs = [(s, item.pk) for s in batch if s in subscribers for item in planned[s][1]]
        claimed = claim(pairs)
        if not claimed:
            continue
        items_in_batch = {item.pk: item for s in batch for item in planned[s][1]}
        new = [item for pk, item in items_in_batch.items() if pk not in blocks.shown_by_item]
        blocks.shown_by_item.update(zip((item.pk for item in new), entries(new), strict=True))
        for_follows = Follow.objects.filter(
            pk__in=[f.pk for s in batch for f in planned[s][0]]
        ).select_related("jurisdiction__parent", "resolution__jurisdiction__parent")
        follows = {follow.pk: follow for follow in for_follows}
        messages = []
        for s in batch:
            items = [item for item in planned[s][1] if (s, item.pk) in claimed]
            if not items:
                continue
            reasons = [follows[f.pk] for f in planned[s][0] if f.pk in follows]
            messages.append(compose(subscribers[s], reasons, items, digest=digest, blocks=blocks))
        with mailers.default as connection:
            sent += connection.send_messages(messages) or 0
    return sent


@task
def send_new_items(item_ids):
    """Send these new items to the addresses that follow them "as it happens" (queued on commit)."""
    return deliver(plan(_items(item_ids), Frequency.IMMEDIATE))


@task
def send_weekly_digests():
    """Split the week's digests into batches of SEND_BATCH addresses, each a task of its own, so that every
    running worker shares the sending; the number of batches queued."""
    return queue_digest_batches()


@task
def send_digest_batch(subscriber_ids, item_ids):
    """The digests of these addresses, with these items (those still published); the number of mails sent."""
    return deliver(plan(_items(item_ids), Frequency.WEEKLY, subscriber_ids), digest=True)


def queue_digest_batches(now=None):
    now = now or timezone.now()
    items = _items(since=now - DIGEST_LOOKBACK)
    planned = plan(items, Frequency.WEEKLY)
    subscriber_ids = sorted(planned)
    for start in range(0, len(subscriber_ids), SEND_BATCH):
        batch = subscriber_ids[start : start + SEND_BATCH]
        item_ids = sorted({item.pk for s in batch for item in planned[s][1]})
        send_digest_batch.enqueue(batch, item_ids)
    return -(-len(subscriber_ids) // SEND_BATCH)


def send_digests_now(now=None):
    """Every digest, sent from this process (for a one-off run and the benchmark's one-process figure)."""
    now = now or timezone.now()
    return deliver(plan(_items(since=now - DIGEST_LOOKBACK), Frequency.WEEKLY), digest=True)
