"""Migration to 18.0.1.1.0: the tier notes former versions left on partners.

Up to 18.0.1.0.0 the module logged its notes on the partner's chatter, which
every internal user of every company sharing the partner reads: tier changes
with their cause and manual-override reason, the pricelist that followed the
tier, the start of a tier's activity plan, and the summary and note of every
reorder check (the customer's figures) and key-date reminder (who, what, its
note) marked as done. The module now logs them on the tier profile, whose
messages follow the profile's record rules. ``_migrate_partner_notes``
(called by ``migrations/18.0.1.1.0/post-migrate.py``) does the same to the
notes that databases keep from before:

* tier, pricelist and plan notes are recognised by their body, against the
  module's templates in English and in every active language (the module's
  Python code translations), on ``res.partner`` notifications only (a message
  somebody wrote has another type and stays), and moved to the customer's
  profile (only ``model`` and ``res_id`` change);
* done reorder checks and key-date reminders stay on the partner, where they
  count as contacts for the follow-up cadence (``last_contact_sql``): moving
  one would change the customer's last-contact date and next follow-up
  whenever it is the latest contact, and even when it is not, the partner
  would lose the call and its feedback that a check done today keeps. Their
  body is cut down to what one done today leaves on the partner (activity
  type, assignee, feedback), and their summary and note go to a note on the
  profile, dated like the message and worded like today's
  (``mail.activity._action_done``).

The profile: the one of the partner's commercial entity; with profiles in
several companies, for a pricelist note the company the note names, else the
profile with the history row closest in time to the message. A message whose
partner has no profile stays where it is; the counts are logged.

Migration to 18.0.1.2.0: up to 18.0.1.1.0 the program kept the last fit of
the prediction models in its own columns (``predict_status``,
``predict_fit_date``, ``bgnbd_r`` ...); it now keeps its fits as records of
``customer.tier.prediction.fit``, one per program and evaluation date.
``_migrate_program_fits`` (called by ``migrations/18.0.1.2.0/post-migrate.py``)
turns the fit of each program that has one (a fit date) into the fit record
of that date and drops the former columns.

Migration to 18.0.1.4.0: the predicted figures of a profile (``prob_alive``,
``expected_orders_12m``, ``expected_value_12m``) are no longer stored but
computed when read from stored inputs that move only with the customer's
orders; ``migrations/18.0.1.4.0/pre-migrate.py`` keeps the value a customer
was ranked by (``ranking_value``, programs ranking by predicted value) and
drops the three columns, ``_migrate_prediction_inputs`` (called by its
``post-migrate.py``) fills the new inputs of every customer profile.
"""

import logging
import re

from lxml import html
from markupsafe import Markup

from odoo.tools import SQL, html_sanitize
from odoo.tools.sql import column_exists
from odoo.tools.translate import code_translations

from .customer_tier_engine import ORDER_RATE, array_literal
from .customer_tier_followup import KEY_DATE_TYPE, REORDER_TYPE

_logger = logging.getLogger(__name__)

MODULE = "customer_tier"
# Bodies of the notes former versions logged on partners (English msgids of
# the module's code translations), each within <p>…</p>.
TIER_TEMPLATES = (
    "Customer tier changed from %(old)s to %(new)s (%(cause)s).",
    "Customer tier set to %(new)s (%(cause)s).",
)
REASON_TEMPLATE = "Reason: %(reason)s"
PRICELIST_TEMPLATE = (
    "Pricelist changed from %(old)s to %(new)s to follow the customer tier "
    "(%(company)s)."
)
PLAN_TEMPLATE = (
    'The plan "%(plan)s" has been started: the customer entered the tier %(tier)s.'
)
# The note a done reorder check leaves on the profile today.
DONE_TEMPLATE = "%(summary)s: done by %(user)s."
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
NOTE_TITLE = (
    "div[contains(concat(' ', normalize-space(@class), ' '), ' o_mail_note_title ')]"
)


def _like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _body_pattern(text, values=None):
    """LIKE pattern of the body a note of ``text`` (a template, or two joined
    by a space) was stored with: ``<p>text</p>``, escaped and sanitized as
    ``mail.message`` stores it; placeholders of ``values`` filled in, the
    others any text."""
    values = values or {}
    markers = {}

    def fill(match):
        name = match.group(1)
        if name in values:
            return values[name]
        markers[name] = f"ctphz{len(markers)}z"
        return markers[name]

    body = html_sanitize(
        Markup("<p>%s</p>") % PLACEHOLDER.sub(fill, text), sanitize_style=True
    )
    pieces = re.split("|".join(markers.values()) or "(?!)", str(body))
    return "%".join(_like(piece) for piece in pieces)


def _templates(env, template):
    """``template`` and its translations in the active languages."""
    translated = {template}
    for lang in env["res.lang"].search([]).mapped("code"):
        translated.add(
            code_translations.get_python_translations(MODULE, lang).get(
                template, template
            )
        )
    return translated


def _choose_profile_sql(messages):
    """SQL: ``(message id, profile id)`` for the messages selected by
    ``messages`` (a query of ``id, res_id, create_date, body`` of partner
    messages): the profile of the partner's commercial entity; among several,
    the one of the company named in the body (table ``named_company`` of
    ``company_id, pattern``), then the one whose history row is closest in
    time to the message."""
    return SQL(
        """
        SELECT DISTINCT ON (msg.id) msg.id, prof.id
          FROM (%(messages)s) msg
          JOIN res_partner p ON p.id = msg.res_id
          JOIN customer_tier_profile prof
            ON prof.partner_id = p.commercial_partner_id
          LEFT JOIN LATERAL (
                SELECT ABS(EXTRACT(EPOCH FROM h.create_date - msg.create_date))
                       AS gap
                  FROM customer_tier_history h
                 WHERE h.profile_id = prof.id
                   AND h.partner_id = prof.partner_id
                 ORDER BY 1
                 LIMIT 1
          ) near ON TRUE
         ORDER BY msg.id,
                  EXISTS (
                      SELECT 1
                        FROM named_company nc
                       WHERE nc.company_id = prof.company_id
                         AND msg.body LIKE nc.pattern
                  ) DESC,
                  near.gap NULLS LAST,
                  prof.id
        """,
        messages=messages,
    )


def _named_company_sql(env):
    """SQL: the CTE ``named_company (company_id, pattern)``: per company,
    the pricelist note naming it, in every active language."""
    rows = [
        (company.id, _body_pattern(text, {"company": company.name}))
        for company in env["res.company"].sudo().search([])
        for text in _templates(env, PRICELIST_TEMPLATE)
    ]
    return SQL(
        "named_company AS (SELECT * FROM unnest(%s::int[], %s::text[]) "
        "AS nc(company_id, pattern))",
        [row[0] for row in rows],
        [row[1] for row in rows],
    )


def _note_patterns(env):
    """LIKE patterns of the tier, pricelist and plan notes."""
    reasons = _templates(env, REASON_TEMPLATE)
    patterns = set()
    for template in TIER_TEMPLATES:
        for text in _templates(env, template):
            patterns.add(_body_pattern(text))
            for reason in reasons:
                patterns.add(_body_pattern(f"{text} {reason}"))
    for template in (PRICELIST_TEMPLATE, PLAN_TEMPLATE):
        for text in _templates(env, template):
            patterns.add(_body_pattern(text))
    return sorted(patterns)


def _move_notes(env):
    """Move the tier, pricelist and plan notes; (moved, left on partners)."""
    patterns = _note_patterns(env)
    notes = SQL(
        """
        SELECT id, res_id, create_date, body
          FROM mail_message
         WHERE model = 'res.partner'
           AND message_type = 'notification'
           AND body LIKE ANY(%s)
        """,
        patterns,
    )
    moved = env.execute_query(
        SQL(
            """
            WITH %(named)s,
                 target(message_id, profile_id) AS (%(choice)s)
            UPDATE mail_message m
               SET model = 'customer.tier.profile', res_id = target.profile_id
              FROM target
             WHERE m.id = target.message_id
            RETURNING m.id
            """,
            named=_named_company_sql(env),
            choice=_choose_profile_sql(notes),
        )
    )
    [(left,)] = env.execute_query(SQL("SELECT COUNT(*) FROM (%s) notes", notes))
    return len(moved), left


def _drop(element):
    """Remove ``element``, keeping the text that follows it."""
    previous = element.getprevious()
    if element.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent = element.getparent()
            parent.text = (parent.text or "") + element.tail
    element.getparent().remove(element)


def _inner_html(element):
    return (element.text or "") + "".join(
        html.tostring(child, encoding="unicode") for child in element
    )


def _split_check(body):
    """A done reorder check's body: (body without its summary and note,
    summary or None, activity type name, note HTML), or None when it has
    neither (done by the current version)."""
    root = html.fragment_fromstring(body or "", create_parent="div")
    paragraph = root.find(".//p")
    if paragraph is None:
        return None
    spans = paragraph.findall("span")
    summary = None
    if (
        len(spans) >= 4
        and (spans[-2].text or "").strip() in (":", "：")
        and not len(spans[-1])
    ):
        summary = spans[-1].text_content().strip()
        _drop(spans[-1])
        _drop(spans[-2])
    type_name = spans[1].text_content().strip() if len(spans) > 1 else ""
    note = ""
    titles = root.xpath(".//" + NOTE_TITLE)
    if titles:
        note_div = titles[0].getnext()
        if note_div is not None and note_div.tag == "div":
            note = _inner_html(note_div)
            _drop(note_div)
        _drop(titles[0])
    if summary is None and not note:
        return None
    return _inner_html(root), summary, type_name, note


def _split_reorder_checks(env):
    """Done reorder checks and key-date reminders: summary and note to the
    profile, the rest stays on the partner; (split, left with their summary
    or note on partners)."""
    activity_types = [
        activity_type.id
        for activity_type in (
            env.ref(REORDER_TYPE, raise_if_not_found=False),
            env.ref(KEY_DATE_TYPE, raise_if_not_found=False),
        )
        if activity_type
    ]
    if not activity_types:
        return 0, 0
    rows = env.execute_query(
        SQL(
            """
            SELECT m.id, m.body, m.date, m.author_id, author.name, author.lang
              FROM mail_message m
              LEFT JOIN res_partner author ON author.id = m.author_id
             WHERE m.model = 'res.partner'
               AND m.mail_activity_type_id = ANY(%s)
               AND m.body IS NOT NULL
            """,
            activity_types,
        )
    )
    checks = {}
    for message_id, body, date, author_id, author, lang in rows:
        parts = _split_check(body)
        if parts:
            checks[message_id] = (parts, date, author_id, author, lang)
    if not checks:
        return 0, 0
    target = dict(
        env.execute_query(
            SQL(
                "WITH %s %s",
                _named_company_sql(env),
                _choose_profile_sql(
                    SQL(
                        "SELECT id, res_id, create_date, body FROM mail_message "
                        "WHERE id = ANY(%s)",
                        list(checks),
                    )
                ),
            )
        )
    )
    if not target:
        return 0, len(checks)
    subtype = env.ref("mail.mt_note")
    vals_list = []
    for message_id, profile_id in target.items():
        (_body, summary, type_name, note), date, author_id, author, lang = checks[
            message_id
        ]
        template = (
            code_translations.get_python_translations(MODULE, lang).get(
                DONE_TEMPLATE, DONE_TEMPLATE
            )
            if lang
            else DONE_TEMPLATE
        )
        vals_list.append(
            {
                "model": "customer.tier.profile",
                "res_id": profile_id,
                "message_type": "notification",
                "subtype_id": subtype.id,
                "author_id": author_id,
                "date": date,
                "body": Markup("<p>%s</p>%s")
                % (
                    template % {"summary": summary or type_name, "user": author or ""},
                    Markup(note),
                ),
            }
        )
    env["mail.message"].sudo().create(vals_list)
    env.execute_query(
        SQL(
            """
            UPDATE mail_message m
               SET body = kept.body
              FROM unnest(%s::int[], %s::text[]) AS kept(id, body)
             WHERE m.id = kept.id
            """,
            list(target),
            [checks[message_id][0][0] for message_id in target],
        )
    )
    env["mail.message"].invalidate_model(["body"])
    return len(target), len(checks) - len(target)


def _migrate_partner_notes(env):
    """Move the module's notes off the partners (see the module docstring);
    returns the counts it logs."""
    moved, left = _move_notes(env)
    split, checks_left = _split_reorder_checks(env)
    env.invalidate_all()
    _logger.info(
        "customer_tier: %s tier, pricelist and plan notes moved from partners "
        "to tier profiles, %s left on partners without a tier profile; %s done "
        "reorder checks and key-date reminders had their summary and note "
        "moved to the profile, %s left on partners without a tier profile",
        moved,
        left,
        split,
        checks_left,
    )
    return {
        "moved": moved,
        "left": left,
        "checks_split": split,
        "checks_left": checks_left,
    }


# Columns of a fit record: the program's former column holding it (18.0.1.1.0).
PROGRAM_FIT_COLUMNS = {
    "fit_date": "predict_fit_date",
    "status": "predict_status",
    "gg_status": "predict_gg_status",
    "customers": "predict_customers",
    "repeaters": "predict_repeaters",
    "gg_customers": "predict_gg_customers",
    "bgnbd_r": "bgnbd_r",
    "bgnbd_alpha": "bgnbd_alpha",
    "bgnbd_a": "bgnbd_a",
    "bgnbd_b": "bgnbd_b",
    "gg_p": "gg_p",
    "gg_q": "gg_q",
    "gg_v": "gg_v",
}


def _migrate_program_fits(env):
    """Turn the fit kept on each program (former columns) into its fit
    record and drop those columns; returns the number of fits created."""
    if not column_exists(env.cr, "customer_tier_program", "predict_fit_date"):
        return 0
    now = env.cr.now()
    sources = [
        SQL.identifier("p", column)
        if column_exists(env.cr, "customer_tier_program", column)
        else SQL("NULL")
        for column in PROGRAM_FIT_COLUMNS.values()
    ]
    created = env.execute_query(
        SQL(
            """
            INSERT INTO customer_tier_prediction_fit
                   (program_id, company_id, %(columns)s,
                    create_uid, create_date, write_uid, write_date)
            SELECT p.id, p.company_id, %(sources)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM customer_tier_program p
             WHERE p.predict_fit_date IS NOT NULL
               AND p.predict_status IN %(statuses)s
            ON CONFLICT (program_id, fit_date) DO NOTHING
            RETURNING id
            """,
            columns=SQL(", ").join(map(SQL.identifier, PROGRAM_FIT_COLUMNS)),
            sources=SQL(", ").join(sources),
            uid=env.uid,
            now=now,
            statuses=("ok", "insufficient", "failed", "unreliable"),
        )
    )
    for column in PROGRAM_FIT_COLUMNS.values():
        env.cr.execute(
            SQL(
                "ALTER TABLE customer_tier_program DROP COLUMN IF EXISTS %s",
                SQL.identifier(column),
            )
        )
    env.invalidate_all()
    _logger.info(
        "customer_tier: %s prediction fits moved from tier programs to fit records",
        len(created),
    )
    return len(created)


def _migrate_prediction_inputs(env):
    """18.0.1.4.0: fill the prediction's inputs of every customer profile
    (``repeat_order_days``, ``repeat_order_value``, ``purchase_day_value``)
    from its counted orders up to its evaluation date, as the engine's plan
    computes them (same amounts, same float arithmetic), so that the
    predicted figures, now computed when read, read what the engine computes
    for that date. One statement reads, one writes; returns the number of
    profiles filled."""
    rows = env.execute_query(
        SQL(
            """
            WITH prof AS (
                SELECT prof.id, prof.partner_id, prof.company_id,
                       GREATEST(prog.last_run_date, prof.full_evaluation_date,
                                prof.refresh_date) AS eval_date
                  FROM customer_tier_profile prof
                  JOIN customer_tier_program prog ON prog.id = prof.program_id
                 WHERE NOT prof.is_prospect
            ), days AS (
                SELECT prof.id, so.date_order::date AS day,
                       SUM(so.amount_untaxed / %(rate)s) AS amount
                  FROM prof
                  JOIN res_partner p ON p.commercial_partner_id = prof.partner_id
                  JOIN sale_order so ON so.partner_id = p.id
                 WHERE so.state = 'sale'
                   AND so.company_id = prof.company_id
                   AND so.date_order < prof.eval_date + 1
                 GROUP BY prof.id, so.date_order::date
            ), marked AS (
                SELECT id, day, amount, MIN(day) OVER (PARTITION BY id) AS first_day
                  FROM days
            )
            SELECT id, COUNT(*) - 1,
                   COALESCE(SUM(amount) FILTER (WHERE day > first_day), 0),
                   COALESCE(SUM(amount), 0)
              FROM marked
             GROUP BY id
             ORDER BY id
            """,
            rate=ORDER_RATE,
        )
    )
    if not rows:
        return 0
    ids = [row[0] for row in rows]
    x = [int(row[1]) for row in rows]
    # (the engine's arithmetic: float amounts, numpy's float division)
    repeat_value = [
        float(row[2]) / repeats if repeats > 0 else 0.0
        for row, repeats in zip(rows, x, strict=True)
    ]
    day_value = [
        float(row[3]) / (repeats + 1.0) for row, repeats in zip(rows, x, strict=True)
    ]
    env.cr.execute(
        SQL(
            """
            UPDATE customer_tier_profile prof
               SET repeat_order_days = v.x,
                   repeat_order_value = v.repeat_value,
                   purchase_day_value = v.day_value
              FROM unnest(%s::int4[], %s::int4[], %s::numeric[], %s::numeric[])
                   AS v(id, x, repeat_value, day_value)
             WHERE prof.id = v.id
            """,
            array_literal(ids, "int4"),
            array_literal(x, "int4"),
            array_literal(repeat_value, "numeric"),
            array_literal(day_value, "numeric"),
        )
    )
    env["customer.tier.profile"].invalidate_model()
    _logger.info("customer_tier: prediction inputs of %s profiles filled", len(ids))
    return len(ids)
