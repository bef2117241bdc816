"""Follow-up cadence per tier, reorder and risk alerts, key-date reminders.

Exact meaning of the dates (tests pin them):

* last contact (of a profile, in its company): the latest ``mail.message`` on
  the commercial partner or on any of its contacts (shared by the companies,
  as the partner is), on one of their sale orders of the profile's company
  (quotations included) or on the profile itself that is either the trace of
  an activity marked as done (``mail_activity_type_id`` set) or a message a
  person wrote (logged note, sent message, incoming or outgoing e-mail:
  ``message_type`` comment, email, email_outgoing); its UTC date.
  Notifications (tier changes, tracking, plans, order confirmations) do not
  count;
* cadence date: last contact plus the tier's follow-up interval; without any
  contact, the date the customer entered its tier plus the interval; empty when
  the tier has no interval;
* next follow-up: the deadline of the customer's open follow-up activity (the
  one the follow-up run schedules: ``customer_tier_activity`` "followup" on
  the profile) when there is one, else the cadence date;
* overdue: the next follow-up date is before today.

Both dates are stored on the profile and written by SQL only: the engine's
upsert writes them with the figures (``FollowupFeature.before_write``, one
query per batch), and one statement (``_followup_refresh_dates``) refreshes
them when a message is posted on a partner (a done activity posts one), when
a tier's interval changes, after a tier change (once its open follow-up is
moved to the new cadence), for the candidates of each follow-up run and once
it scheduled their activities, and when a follow-up activity's deadline
changes, is archived, marked as done or deleted (``mail.activity`` write and
unlink).

The daily follow-up run (``_cron_followup``) schedules, in bounded batches:

* a reminder for every key date due (``key_date_remind_days`` before the
  occurrence, once per occurrence; 29 February recurs on 28 February in
  non-leap years);
* the tier's follow-up activity for every active customer or prospect whose
  next follow-up is at most ``followup_days_ahead`` days away and that has no
  open follow-up activity (an open one is reused, never duplicated), assigned
  to the partner's salesperson or else the program's default follow-up user,
  with the next follow-up date (today at the earliest) as deadline.

Engine side effects (``FollowupFeature.after_write``): reschedule open follow-ups of
customers that changed tier to the new tier's cadence, launch the new tier's
activity plan, and raise a "Reorder check" once per episode when a customer's
reorder becomes overdue or its RFM segment turns to at risk / can't lose (or
it becomes a churn risk). A refresh of a few customers creates the check at
once; a full evaluation only marks the episode (``alert_pending_date``) and
triggers the follow-up run, which creates the checks in its bounded batches.

Reorder checks and key-date reminders are activities on the partner, which
every user who may edit the partner reads: they carry no summary (the activity
type's name shows) and a note pointing to the tier profile. Their reasons,
figures and key date are logged on the profile, under its record rules, in the
same transaction.
"""

from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_amount, format_date

from .customer_tier_bounds import (
    MAX_BATCH_SIZE,
    MAX_DAYS,
    MAX_NOTICE_DAYS,
    check_bounds,
)
from .customer_tier_engine import EngineFeature
from .customer_tier_field_guard import flag_domain, flag_search_values
from .customer_tier_key_date import reminder_due
from .res_partner import PROFILE_FIGURE

# Message types a person writes (the trace of a done activity counts as well).
CONTACT_MESSAGE_TYPES = ("comment", "email", "email_outgoing")
# RFM segment codes that raise a reorder check.
RISK_SEGMENT_CODES = ("at_risk", "cant_lose")
FOLLOWUP_TYPE = "customer_tier.mail_activity_type_tier_followup"
REORDER_TYPE = "customer_tier.mail_activity_type_reorder_check"
# Profile figures a reorder check is raised from and describes.
ALERT_FIGURES = (
    "partner_id",
    "is_prospect",
    "reorder_overdue",
    "rfm_segment_id",
    "churn_risk",
    "expected_order_date",
    "reorder_cycle_days",
    "recency_days",
    "rfm_recency_score",
    "rfm_frequency_score",
    "rfm_monetary_score",
    "prob_alive",
    "expected_orders_12m",
    "last_order_date",
    "order_count_window",
    "revenue_window",
)
KEY_DATE_TYPE = "customer_tier.mail_activity_type_key_date"
# Profile columns of a reorder check episode (written by full evaluations).
ALERT_COLUMNS = ("reorder_alert_date", "risk_alert_date", "alert_pending_date")
# Range of the follow-up numbers a manager types (inclusive). The lower bounds
# left at None are refused by the older checks (_check_followup_numbers, the
# SQL constraint of the interval).
PROGRAM_BOUNDS = {
    "followup_days_ahead": (None, MAX_NOTICE_DAYS),
    "followup_batch_size": (None, MAX_BATCH_SIZE),
    "key_date_remind_days": (None, MAX_NOTICE_DAYS),
}
TIER_BOUNDS = {"followup_interval": (None, MAX_DAYS)}


def last_contact_sql(targets):
    """SQL: ``(commercial partner id, company id, last contact date)`` of the
    pairs selected by ``targets`` (an ``SQL`` query of ``(commercial partner
    id, company id)`` rows): from the messages of the partner and of its
    contacts, of their sale orders of that company and of the partner's tier
    profile in that company that count as a contact (see the module
    docstring). A company's orders and profile say nothing of another
    company's contacts."""
    return SQL(
        """
        SELECT src.partner_id, src.company_id, MAX(m.date)::date AS last_contact
          FROM (
                SELECT tg.partner_id, tg.company_id,
                       'res.partner' AS model, p.id AS res_id
                  FROM (%(targets)s) AS tg(partner_id, company_id)
                  JOIN res_partner p ON p.commercial_partner_id = tg.partner_id
                 UNION ALL
                SELECT tg.partner_id, tg.company_id, 'sale.order', so.id
                  FROM (%(targets)s) AS tg(partner_id, company_id)
                  JOIN res_partner p ON p.commercial_partner_id = tg.partner_id
                  JOIN sale_order so
                    ON so.partner_id = p.id AND so.company_id = tg.company_id
                 UNION ALL
                SELECT tg.partner_id, tg.company_id, 'customer.tier.profile', prof.id
                  FROM (%(targets)s) AS tg(partner_id, company_id)
                  JOIN customer_tier_profile prof
                    ON prof.partner_id = tg.partner_id
                   AND prof.company_id = tg.company_id
               ) src
          JOIN mail_message m ON m.model = src.model AND m.res_id = src.res_id
         WHERE (m.mail_activity_type_id IS NOT NULL OR m.message_type IN %(types)s)
         GROUP BY src.partner_id, src.company_id
        """,
        targets=targets,
        types=CONTACT_MESSAGE_TYPES,
    )


def is_contact(message):
    """Whether ``message`` counts as a contact (module docstring)."""
    return bool(
        message.mail_activity_type_id or message.message_type in CONTACT_MESSAGE_TYPES
    )


def open_followup_sql(profiles):
    """SQL: ``(profile id, deadline)`` of the open follow-up activity of the
    profiles selected by ``profiles`` (an ``SQL`` list of ids or subquery);
    the earliest if there were several."""
    return SQL(
        """
        SELECT a.customer_tier_profile_id AS profile_id,
               MIN(a.date_deadline) AS deadline
          FROM mail_activity a
         WHERE a.customer_tier_profile_id IN (%(profiles)s)
           AND a.customer_tier_activity = 'followup'
           AND a.active
         GROUP BY a.customer_tier_profile_id
        """,
        profiles=profiles,
    )


def cadence_date_sql(last_contact, since, interval):
    """SQL: the cadence date (module docstring) from the SQL expressions of
    the last contact, the tier entry date and the tier's interval."""
    return SQL(
        "CASE WHEN %(interval)s > 0 THEN COALESCE(%(last)s, %(since)s) "
        "+ %(interval)s END",
        interval=interval,
        last=last_contact,
        since=since,
    )


def _paragraphs(text):
    """Plain text to HTML paragraphs (escaped)."""
    return Markup("").join(
        Markup("<p>%s</p>") % line for line in (text or "").splitlines() if line.strip()
    )


class FollowupFeature(EngineFeature):
    """Follow-up dates with the figures, side effects of tier changes and
    reorder check episodes (module docstring).

    Sequence 30: after the prediction (10), whose churn flag its
    before_write reads to open churn episodes, and after the pricing (20).
    State: ``pending``, the episodes a full evaluation marked (its
    after_write then triggers the follow-up run)."""

    name = "followup"
    sequence = 30
    columns = ("last_contact_date", "next_followup_date")
    # a refresh leaves the episode dates to _followup_alerts
    full_columns = ALERT_COLUMNS

    def __init__(self, engine):
        super().__init__(engine)
        self.pending = 0
        self._risk_segments = None

    def keep_row(self, row, old):
        """A profile whose episodes do not match its figures: an overdue
        reorder or a risk without its check (waiting for a salesperson or
        an active partner), or a check left on an episode that ended. Its
        last contact and next follow-up need no evaluation: messages,
        activities and tier changes refresh them when they happen
        (``_followup_refresh_dates``)."""
        customer = not row.get("is_prospect")
        reorder_on = customer and bool(row.get("reorder_overdue"))
        risk_on = customer and bool(
            old.get("churn_risk") or row.get("rfm_segment_id") in self.risk_segments
        )
        return (
            reorder_on != bool(old.get("reorder_alert_date"))
            or risk_on != bool(old.get("risk_alert_date"))
            or bool(old.get("alert_pending_date") and not (reorder_on or risk_on))
        )

    @property
    def risk_segments(self):
        """Ids of the program's RFM segments that raise a reorder check."""
        if self._risk_segments is None:
            self._risk_segments = {
                s.id for s in self.engine.segments if s.code in RISK_SEGMENT_CODES
            }
        return self._risk_segments

    def before_write(self, rows, eval_date, full):
        """Last contact and next follow-up of the profiles about to be
        written, so that the upsert writes them with the figures (one query
        for the set, no second pass over the rows)."""
        if not rows:
            return
        if full:
            # a stored profile whose tier holds as it was keeps its dates:
            # messages, activities and interval changes refresh them when
            # they happen (_followup_refresh_dates)
            state = self.engine.state
            computed = []
            for row in rows:
                old = state.get(row["partner_id"])
                if (
                    old
                    and old.get("tier_id") == row.get("tier_id")
                    and old.get("tier_since") == row.get("tier_since")
                ):
                    row["last_contact_date"] = old.get("last_contact_date")
                    row["next_followup_date"] = old.get("next_followup_date")
                else:
                    computed.append(row)
            self._followup_dates(computed)
            self._mark_alerts(rows, eval_date)
        else:
            self._followup_dates(rows)

    def _followup_dates(self, rows):
        """Last contact and next follow-up of ``rows`` (one query)."""
        program, engine = self.program, self.engine
        if not rows:
            return
        partner_ids = SQL(
            "SELECT unnest(%s::int4[])", [row["partner_id"] for row in rows]
        )
        # (partner id, last contact, deadline of the open follow-up)
        dates = {
            partner_id: (last, deadline)
            for partner_id, last, deadline in program.env.execute_query(
                SQL(
                    """
                    WITH contact AS (%(contact)s), followup AS (%(open)s)
                    SELECT v.partner_id, c.last_contact, o.deadline
                      FROM (%(partners)s) AS v(partner_id)
                      LEFT JOIN contact c ON c.partner_id = v.partner_id
                      LEFT JOIN customer_tier_profile prof
                        ON prof.partner_id = v.partner_id
                       AND prof.program_id = %(program)s
                      LEFT JOIN followup o ON o.profile_id = prof.id
                    """,
                    contact=last_contact_sql(
                        SQL(
                            "SELECT unnest(%s::int4[]), %s",
                            [row["partner_id"] for row in rows],
                            engine.company.id,
                        )
                    ),
                    open=open_followup_sql(
                        SQL(
                            "SELECT id FROM customer_tier_profile "
                            "WHERE program_id = %s AND partner_id IN (%s)",
                            program.id,
                            partner_ids,
                        )
                    ),
                    partners=partner_ids,
                    program=program.id,
                )
            )
        }
        intervals = {
            tier_id: tier.followup_interval
            for tier_id, tier in engine.tier_by_id.items()
        }
        for row in rows:
            # a tier change moves the open follow-up to the new cadence
            # and refreshes these dates (after_write)
            last, deadline = dates.get(row["partner_id"], (None, None))
            interval = intervals.get(row.get("tier_id")) or 0
            start = last or row.get("tier_since")
            row["last_contact_date"] = last
            row["next_followup_date"] = deadline or (
                start + timedelta(days=interval) if interval > 0 and start else None
            )

    def _mark_alerts(self, rows, eval_date):
        """Mark the reorder check episodes of a full evaluation's ``rows``."""
        program, engine = self.program, self.engine
        if rows:
            # A full evaluation may open thousands of reorder check episodes:
            # it only marks them (the follow-up run creates the checks in its
            # bounded batches), and the marks travel with the upsert instead
            # of a second pass over the written profiles. Refreshes create
            # their checks at once, after the write (after_write).
            state = program._followup_alert_state(row["partner_id"] for row in rows)
            pending = 0
            decisions = program._followup_alert_decisions(
                engine, rows, state, eval_date, True
            )
            for row, _profile, _user, _before, after, *_raised in decisions:
                row.update(zip(ALERT_COLUMNS, after, strict=True))
                pending += bool(after[2])
            self.pending = pending

    def after_write(self, rows, changes, eval_date, full):
        program, engine = self.program, self.engine
        # the engine's rows carry their dates (before_write); tier changes
        # made through the ORM (overrides) come without rows
        written = {row["partner_id"] for row in rows}
        others = {c[0] for c in changes} - written
        if changes:
            # partners whose open follow-up moved: their next follow-up
            # follows it
            others |= program._followup_reschedule(changes, eval_date)
        if others:
            program._followup_refresh_dates(
                SQL(
                    "prof.program_id = %s AND prof.partner_id = ANY(%s)",
                    program.id,
                    sorted(others),
                )
            )
        if changes:
            program._followup_launch_plans(changes, eval_date)
        if full:
            # episodes marked by the upsert (before_write)
            pending = self.pending
        else:
            pending = rows and program._followup_alerts(engine, rows, eval_date)
        if pending:
            cron = program.env.ref(
                "customer_tier.ir_cron_customer_tier_followup",
                raise_if_not_found=False,
            )
            if cron:
                cron.sudo()._trigger()


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    followup_user_id = fields.Many2one(
        "res.users",
        string="Default Follow-up User",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Follow-up activities of customers without an (active) "
        "salesperson are assigned to this user (empty: the administrator).",
    )
    followup_days_ahead = fields.Integer(
        string="Schedule Follow-ups Ahead (days)",
        default=3,
        help="The daily follow-up run schedules an activity once the next "
        "follow-up date is at most this many days away, so it shows in the "
        "salesperson's queue before it falls due.",
    )
    followup_batch_size = fields.Integer(
        default=500,
        help="Number of activities the daily follow-up run creates per batch.",
    )
    key_date_remind_days = fields.Integer(
        string="Remind Key Dates (days before)",
        default=7,
        help="A key date of a key contact (birthday, company anniversary ...) "
        "produces a reminder activity this many days before it, once a year.",
    )

    @api.constrains(
        "followup_days_ahead", "followup_batch_size", "key_date_remind_days"
    )
    def _check_followup_numbers(self):
        for program in self:
            if program.followup_days_ahead < 0 or program.key_date_remind_days < 0:
                raise ValidationError(
                    self.env._("Follow-up and reminder days cannot be negative.")
                )
            if program.followup_batch_size < 1:
                raise ValidationError(
                    self.env._("The follow-up batch size must be at least 1.")
                )

    @api.constrains(*PROGRAM_BOUNDS)
    def _check_value_bounds_followup(self):
        # (runs after the older checks, named earlier)
        check_bounds(self, PROGRAM_BOUNDS, label=lambda program: program.name)

    # ------------------------------------------------------------------
    # Dates
    # ------------------------------------------------------------------
    @api.model
    def _followup_refresh_dates(self, condition):
        """Recompute last contact and next follow-up of the profiles matching
        ``condition`` (an ``SQL`` on the profile alias ``prof``), in one
        statement (module docstring: the open follow-up's deadline, else the
        cadence date). Returns the ids of the profiles whose dates changed."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                WITH target AS (
                    SELECT prof.id, prof.partner_id, prof.company_id,
                           prof.tier_since, t.followup_interval AS interval
                      FROM customer_tier_profile prof
                      LEFT JOIN customer_tier t ON t.id = prof.tier_id
                     WHERE %(condition)s
                ), contact AS (%(contact)s
                ), followup AS (%(open)s
                ), computed AS (
                    SELECT tg.id, c.last_contact,
                           COALESCE(o.deadline, %(cadence)s) AS next_date
                      FROM target tg
                      LEFT JOIN contact c
                        ON c.partner_id = tg.partner_id
                       AND c.company_id = tg.company_id
                      LEFT JOIN followup o ON o.profile_id = tg.id
                )
                UPDATE customer_tier_profile prof
                   SET last_contact_date = computed.last_contact,
                       next_followup_date = computed.next_date
                  FROM computed
                 WHERE prof.id = computed.id
                   AND (prof.last_contact_date, prof.next_followup_date)
                       IS DISTINCT FROM (computed.last_contact, computed.next_date)
             RETURNING prof.id
                """,
                condition=condition,
                contact=last_contact_sql(
                    SQL("SELECT partner_id, company_id FROM target")
                ),
                open=open_followup_sql(SQL("SELECT id FROM target")),
                cadence=cadence_date_sql(
                    SQL("c.last_contact"), SQL("tg.tier_since"), SQL("tg.interval")
                ),
            )
        )
        if rows:
            self.env["customer.tier.profile"].invalidate_model(
                ["last_contact_date", "next_followup_date", "followup_overdue"]
            )
        return [row[0] for row in rows]

    def _followup_fallback_user(self):
        """Assignee of customers without an active salesperson: the default
        follow-up user, else the administrator (None if neither is active)."""
        self.ensure_one()
        candidates = [
            self.sudo().followup_user_id.id,
            self.env["ir.model.data"]._xmlid_to_res_id(
                "base.user_admin", raise_if_not_found=False
            ),
        ]
        # both checked in one query (a one-customer refresh asks)
        active = (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch(
                [("id", "in", [c for c in candidates if c]), ("active", "=", True)],
                ["active"],
                order="id",
            )
        )
        return next((c for c in candidates if c and c in active.ids), None)

    def _followup_user_sql(self):
        """SQL of the assignee: the partner's (alias ``p``) active salesperson,
        else the fallback user."""
        return SQL(
            "COALESCE((SELECT u.id FROM res_users u WHERE u.id = p.user_id "
            "AND u.active), %s::int)",
            self._followup_fallback_user(),
        )

    @api.model
    def _followup_langs(self, user_ids):
        """Language of each user (None: unassigned -> current language)."""
        default = self.env.lang or "en_US"
        users = self.env["res.users"].sudo().browse({u for u in user_ids if u})
        langs = {user.id: user.lang or default for user in users}
        langs[None] = default
        return langs

    def _followup_texts(self, tier_ids, langs):
        """(tier id, lang) -> (activity type id, summary, note)."""
        default_type = self.env.ref(FOLLOWUP_TYPE, raise_if_not_found=False)
        texts = {}
        for lang in set(langs):
            for tier in (
                self.env["customer.tier"]
                .sudo()
                .with_context(lang=lang)
                .browse(tier_ids)
            ):
                activity_type = tier.followup_activity_type_id or default_type
                summary = (
                    tier.followup_summary
                    or activity_type.summary
                    or self.with_context(lang=lang).env._(
                        "Follow-up (%(tier)s)", tier=tier.display_name
                    )
                )
                note = tier.followup_note or _paragraphs(tier.description)
                texts[tier.id, lang] = (activity_type.id, summary, note or False)
        return texts

    # ------------------------------------------------------------------
    # Engine side effects (FollowupFeature)
    # ------------------------------------------------------------------
    def _engine_features(self):
        return [*super()._engine_features(), FollowupFeature]

    def _followup_reschedule(self, changes, today):
        """Move the open follow-ups of customers that changed tier to the
        cadence date of their new tier, today at the earliest (or drop them
        when it has none). Returns the ids of the partners whose follow-up
        moved (their next follow-up is the caller's to refresh; a dropped
        one refreshes its own)."""
        self.ensure_one()
        self.env.flush_all()
        partner_ids = [c[0] for c in changes]
        rows = self.env.execute_query(
            SQL(
                """
                WITH contact AS (%(contact)s)
                SELECT a.id, a.user_id, prof.tier_id, %(cadence)s,
                       COALESCE(t.followup_interval, 0), prof.partner_id
                  FROM mail_activity a
                  JOIN customer_tier_profile prof
                    ON prof.id = a.customer_tier_profile_id
                  LEFT JOIN customer_tier t ON t.id = prof.tier_id
                  LEFT JOIN contact c ON c.partner_id = prof.partner_id
                 WHERE prof.program_id = %(program)s
                   AND prof.partner_id = ANY(%(partners)s)
                   AND a.customer_tier_activity = 'followup'
                   AND a.active
                """,
                # (the last contact of the customers with an open follow-up
                # only: most of a first evaluation's have none)
                contact=last_contact_sql(
                    SQL(
                        """
                        SELECT DISTINCT prof.partner_id, %(company)s
                          FROM mail_activity a
                          JOIN customer_tier_profile prof
                            ON prof.id = a.customer_tier_profile_id
                         WHERE prof.program_id = %(program)s
                           AND prof.partner_id = ANY(%(partners)s)
                           AND a.customer_tier_activity = 'followup'
                           AND a.active
                        """,
                        company=self.company_id.id,
                        program=self.id,
                        partners=partner_ids,
                    )
                ),
                cadence=cadence_date_sql(
                    SQL("c.last_contact"),
                    SQL("prof.tier_since"),
                    SQL("t.followup_interval"),
                ),
                program=self.id,
                partners=partner_ids,
            )
        )
        if not rows:
            return set()
        Activity = self.env["mail.activity"].sudo()
        drop = [r[0] for r in rows if not (r[2] and r[4] > 0 and r[3])]
        keep = [r for r in rows if r[0] not in set(drop)]
        if keep:
            langs = self._followup_langs([r[1] for r in keep])
            texts = self._followup_texts({r[2] for r in keep}, set(langs.values()))
            values = SQL(", ").join(
                SQL(
                    "(%s::int, %s::int, %s::varchar, %s::text, %s::date)",
                    activity_id,
                    *texts[tier_id, langs.get(user_id, langs[None])],
                    max(next_date, today),
                )
                for activity_id, user_id, tier_id, next_date, _interval, _p in keep
            )
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE mail_activity a
                       SET activity_type_id = v.type, summary = v.summary,
                           note = v.note, date_deadline = v.deadline,
                           write_uid = %s, write_date = NOW() AT TIME ZONE 'UTC'
                      FROM (VALUES %s) AS v(id, type, summary, note, deadline)
                     WHERE a.id = v.id
                    """,
                    self.env.uid,
                    values,
                )
            )
            Activity.invalidate_model()
        if drop:
            Activity.browse(drop).unlink()
        return {row[5] for row in keep}

    def _followup_launch_plans(self, changes, today):
        """Launch the activity plan of the tier a customer enters."""
        self.ensure_one()
        tiers = self.env["customer.tier"].sudo().browse({c[2] for c in changes if c[2]})
        plans = {
            tier.id: tier.followup_plan_id
            for tier in tiers
            if tier.followup_plan_id.active and tier.followup_plan_id.template_ids
        }
        entering = {c[0]: c[2] for c in changes if c[2] in plans}
        if not entering:
            return
        info = self.env.execute_query(
            SQL(
                """
                SELECT prof.partner_id, prof.id, %s
                  FROM customer_tier_profile prof
                  JOIN res_partner p ON p.id = prof.partner_id
                 WHERE prof.program_id = %s AND prof.partner_id = ANY(%s)
                   AND p.active
                """,
                self._followup_user_sql(),
                self.id,
                list(entering),
            )
        )
        Activity = self.env["mail.activity"]
        vals_list = []
        messages = []
        for partner_id, profile_id, user_id in info:
            plan = plans[entering[partner_id]]
            for template in plan.template_ids:
                if template.responsible_type == "other" and template.responsible_id:
                    responsible = template.responsible_id.id
                else:
                    responsible = user_id
                if not responsible:
                    continue
                vals_list.append(
                    Activity._customer_tier_values(
                        "plan",
                        partner_id,
                        profile_id,
                        template.activity_type_id.id,
                        responsible,
                        template._get_date_deadline(today),
                        summary=template.summary,
                        note=template.note,
                    )
                )
            messages.append(
                (
                    profile_id,
                    self.env._(
                        'The plan "%(plan)s" has been started: the customer '
                        "entered the tier %(tier)s.",
                        plan=plan.name,
                        tier=self.env["customer.tier"]
                        .sudo()
                        .browse(entering[partner_id])
                        .display_name,
                    ),
                )
            )
        self._followup_create_activities(vals_list)
        self.env["customer.tier.profile"]._post_notes(messages)

    def _followup_alert_state(self, partner_ids):
        """Per partner: (profile id or None, reorder episode date, risk episode
        date, pending date, partner active?, assignee). One query; a partner
        without a profile yet has no episode."""
        self.ensure_one()
        return {
            row[0]: row[1:]
            for row in self.env.execute_query(
                SQL(
                    """
                    SELECT p.id, prof.id, prof.reorder_alert_date,
                           prof.risk_alert_date, prof.alert_pending_date,
                           p.active, %s
                      FROM unnest(%s::int4[]) AS v(partner_id)
                      JOIN res_partner p ON p.id = v.partner_id
                      LEFT JOIN customer_tier_profile prof
                        ON prof.partner_id = p.id AND prof.program_id = %s
                    """,
                    self._followup_user_sql(),
                    list(partner_ids),
                    self.id,
                )
            )
        }

    def _followup_alert_decisions(self, engine, rows, state, today, defer):
        """What each row's reorder check episode becomes.

        Yields ``(row, profile id, user id, (reorder date, risk date, pending
        date) before, the same after, raise reorder?, risk segment to raise or
        None, churn?)``. With ``defer``, a check due today is not raised but
        marked pending (the pending date).
        """
        risk_segments = {
            s.id: s for s in engine.segments if s.code in RISK_SEGMENT_CODES
        }
        for row in rows:
            if row["partner_id"] not in state:
                continue
            profile_id, reorder_date, risk_date, pending_date, active, user_id = state[
                row["partner_id"]
            ]
            customer = not row.get("is_prospect")
            reorder_on = customer and bool(row.get("reorder_overdue"))
            segment = risk_segments.get(row.get("rfm_segment_id")) if customer else None
            # churn risk (predicted value feature) opens a risk episode too
            churn = customer and bool(row.get("churn_risk"))
            risk_on = bool(segment or churn)
            new_reorder = reorder_date if reorder_on else None
            new_risk = risk_date if risk_on else None
            # archived partners (or nobody to assign) wait: no check, and the
            # episode stays open so they get one once it can be scheduled
            can_raise = bool(active and user_id)
            raise_reorder = can_raise and reorder_on and not reorder_date
            raise_risk = bool(can_raise and risk_on and not risk_date)
            if pending_date and can_raise and not defer:
                # a check left pending by a full evaluation is created now,
                # for every episode still open
                raise_reorder, raise_risk = reorder_on, risk_on
            if raise_reorder:
                new_reorder = today
            if raise_risk:
                new_risk = today
            # a pending check waits while its episode lasts
            keep = defer or not can_raise
            new_pending = pending_date if (reorder_on or risk_on) and keep else None
            if defer and (raise_reorder or raise_risk) and not pending_date:
                new_pending = today
            yield (
                row,
                profile_id,
                user_id,
                (reorder_date, risk_date, pending_date),
                (new_reorder, new_risk, new_pending),
                raise_reorder and not defer,
                segment if raise_risk and not defer else None,
                churn and raise_risk and not defer,
            )

    def _followup_alerts(self, engine, rows, today, defer=False):
        """Reorder checks, once per episode of overdue reorder or risk.

        With ``defer``, the checks of the episodes opened today are not
        created here but marked pending (``alert_pending_date``) for the
        follow-up run. Returns the number of checks left pending.
        """
        self.ensure_one()
        state = self._followup_alert_state(row["partner_id"] for row in rows)
        updates = []  # (profile id, reorder date, risk date, pending date)
        alerts = []  # (row, profile id, user id, reorder?, risk segment, churn?)
        pending = 0
        for (
            row,
            profile_id,
            user_id,
            before,
            after,
            reorder,
            segment,
            churn,
        ) in self._followup_alert_decisions(engine, rows, state, today, defer):
            if profile_id is None:
                continue  # not written (yet): nothing to mark
            if after[2]:
                pending += 1
            if after != before:
                updates.append((profile_id, *after))
            if reorder or segment or churn:
                alerts.append((row, profile_id, user_id, reorder, segment, churn))
        if updates:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_profile prof
                       SET reorder_alert_date = v.reorder, risk_alert_date = v.risk,
                           alert_pending_date = v.pending
                      FROM unnest(%s::int4[], %s::date[], %s::date[], %s::date[])
                           AS v(id, reorder, risk, pending)
                     WHERE prof.id = v.id
                    """,
                    *(list(column) for column in zip(*updates, strict=True)),
                )
            )
            self.env["customer.tier.profile"].invalidate_model(
                ["reorder_alert_date", "risk_alert_date", "alert_pending_date"]
            )
        if alerts:
            self._followup_create_alerts(alerts, today)
        return pending

    def _followup_create_alerts(self, alerts, today):
        """Create the reorder checks of ``alerts``: (row of figures, profile
        id, user id, reorder?, risk segment or None, churn?).

        The activity is on the partner, whose activities every user who may
        edit the partner reads: it says only that a check is due. Its reasons
        and figures go to a note on the tier profile, under the profile's
        record rules."""
        if not alerts:
            return
        activity_type = self.env.ref(REORDER_TYPE)
        langs = self._followup_langs([alert[2] for alert in alerts])
        vals_list = []
        notes = []
        for row, profile_id, user_id, reorder, segment, churn in alerts:
            program = self.with_context(lang=langs.get(user_id, langs[None]))
            summary, note = program._followup_alert_texts(row, reorder, segment, churn)
            notes.append((profile_id, Markup("<p>%s</p>%s") % (summary, note)))
            vals_list.append(
                # (the summary: the activity type's name, translated)
                program.env["mail.activity"]._customer_tier_values(
                    "reorder",
                    row["partner_id"],
                    profile_id,
                    activity_type.id,
                    user_id,
                    today,
                )
            )
        self._followup_create_activities(vals_list)
        self.env["customer.tier.profile"]._post_notes(notes, paragraph=False)

    def _followup_alert_texts(self, row, reorder, segment, churn=False):
        """Title and body (with the figures) of the note a reorder check
        logs on the tier profile."""
        env = self.env
        currency = self.company_id.currency_id
        reasons = []
        if reorder:
            reasons.append(env._("reorder overdue"))
        if segment:
            reasons.append(segment.with_context(lang=env.lang).name)
        if churn:
            reasons.append(env._("churn risk"))
        summary = env._("Reorder check: %(reasons)s", reasons=", ".join(reasons))
        lines = []
        if reorder:
            lines.append(
                env._(
                    "Expected a new order on %(expected)s: the customer orders "
                    "every %(cycle)s days on average and has not ordered for "
                    "%(days)s days (overdue beyond %(factor)s times the cycle).",
                    expected=format_date(env, row.get("expected_order_date")),
                    cycle=row.get("reorder_cycle_days"),
                    days=row.get("recency_days"),
                    factor=self.reorder_overdue_factor,
                )
            )
        if segment:
            lines.append(
                env._(
                    "RFM segment %(segment)s (R %(r)s, F %(f)s, M %(m)s): "
                    "%(description)s",
                    segment=segment.with_context(lang=env.lang).name,
                    r=row.get("rfm_recency_score"),
                    f=row.get("rfm_frequency_score"),
                    m=row.get("rfm_monetary_score"),
                    description=segment.with_context(lang=env.lang).description or "",
                )
            )
        if churn:
            lines.append(
                env._(
                    "Probability that the customer is still active: %(alive)s %%; "
                    "expected orders in the next 12 months: %(orders)s.",
                    alive=round((row.get("prob_alive") or 0.0) * 100),
                    orders=round(row.get("expected_orders_12m") or 0.0, 1),
                )
            )
        lines.append(
            env._(
                "Last order %(last)s; %(orders)s orders and %(revenue)s revenue "
                "in the evaluation window.",
                last=format_date(env, row.get("last_order_date")),
                orders=row.get("order_count_window"),
                revenue=format_amount(env, row.get("revenue_window") or 0.0, currency),
            )
        )
        lines.append(
            env._(
                "Call the buyer: check stock and next needs, ask about any "
                "problem with the last order or a competing offer, and propose "
                "the next order."
            )
        )
        note = Markup("").join(Markup("<p>%s</p>") % escape(line) for line in lines)
        return summary, note

    # ------------------------------------------------------------------
    # Daily follow-up run
    # ------------------------------------------------------------------
    @api.model
    def _cron_followup(self):
        """Scheduled follow-ups, one bounded batch per call.

        The first program with work left handles at most its
        ``followup_batch_size`` key dates and due follow-ups; the others are
        only counted. Progress is reported so the cron runner commits and
        calls again until nothing is left.
        """
        today = fields.Date.context_today(self)
        done = remaining = 0
        # an archived program schedules nothing
        for program in self.search([("active", "=", True)]):
            if remaining:
                remaining += program._followup_run(today, limit=0)[1]
                continue
            program_done, program_remaining = program._followup_run(today)
            done += program_done
            remaining += program_remaining
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done, remaining

    def _followup_run(self, today, limit=None):
        """Handle up to ``limit`` (default: the batch size) key-date reminders
        and due follow-ups. Returns (handled, remaining)."""
        self.ensure_one()
        limit = self.followup_batch_size if limit is None else limit
        done_dates, left_dates = self._followup_key_dates(today, limit)
        done_due, left_due = self._followup_due(today, limit - done_dates)
        done_alerts, left_alerts = self._followup_pending_alerts(
            today, limit - done_dates - done_due
        )
        return (
            done_dates + done_due + done_alerts,
            left_dates + left_due + left_alerts,
        )

    def _followup_pending_alerts(self, today, limit):
        """Create the reorder checks a full evaluation left pending, at most
        ``limit``, from the figures stored on the profiles."""
        self.ensure_one()
        self.env.flush_all()
        condition = SQL(
            "prof.program_id = %s AND prof.alert_pending_date IS NOT NULL", self.id
        )
        if limit <= 0:
            rows = self.env.execute_query(
                SQL(
                    "SELECT COUNT(*) FROM customer_tier_profile prof WHERE %s",
                    condition,
                )
            )
            return 0, rows[0][0]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT prof.id, COUNT(*) OVER ()
                  FROM customer_tier_profile prof
                 WHERE %s
                 ORDER BY prof.alert_pending_date, prof.id
                 LIMIT %s
                """,
                condition,
                limit,
            )
        )
        if not rows:
            return 0, 0
        profiles = self.env["customer.tier.profile"].sudo().browse(r[0] for r in rows)
        figures = profiles.read(ALERT_FIGURES, load=None)
        self._followup_alerts(self._engine(), figures, today)
        return len(rows), rows[0][1] - len(rows)

    def _followup_due_condition(self, today):
        return SQL(
            """
            prof.program_id = %(program)s
            AND p.active
            AND t.followup_interval > 0
            AND prof.next_followup_date <= %(horizon)s
            AND NOT EXISTS (
                SELECT 1 FROM mail_activity a
                 WHERE a.customer_tier_profile_id = prof.id
                   AND a.customer_tier_activity = 'followup'
                   AND a.active)
            AND %(assignee)s IS NOT NULL
            """,
            program=self.id,
            horizon=today + timedelta(days=self.followup_days_ahead),
            assignee=self._followup_user_sql(),
        )

    def _followup_due(self, today, limit):
        """Schedule the follow-ups due by the horizon, at most ``limit``."""
        self.ensure_one()
        self.env.flush_all()
        joins = SQL(
            """
            customer_tier_profile prof
            JOIN res_partner p ON p.id = prof.partner_id
            JOIN customer_tier t ON t.id = prof.tier_id
            """
        )
        if limit <= 0:
            rows = self.env.execute_query(
                SQL(
                    "SELECT COUNT(*) FROM %s WHERE %s",
                    joins,
                    self._followup_due_condition(today),
                )
            )
            return 0, rows[0][0]
        rows = self.env.execute_query(
            SQL(
                """
                SELECT prof.id, COUNT(*) OVER ()
                  FROM %s
                 WHERE %s
                 ORDER BY prof.next_followup_date, prof.id
                 LIMIT %s
                """,
                joins,
                self._followup_due_condition(today),
                limit,
            )
        )
        if not rows:
            return 0, 0
        selected = [row[0] for row in rows]
        remaining = rows[0][1] - len(selected)
        # Contacts not seen yet (e.g. messages created without message_post)
        # may push a candidate's date out: refresh the batch first.
        self._followup_refresh_dates(SQL("prof.id = ANY(%s)", selected))
        due = self.env.execute_query(
            SQL(
                """
                SELECT prof.id, prof.partner_id, prof.tier_id,
                       prof.next_followup_date, %s
                  FROM %s
                 WHERE prof.id = ANY(%s) AND %s
                 ORDER BY prof.next_followup_date, prof.id
                """,
                self._followup_user_sql(),
                joins,
                selected,
                self._followup_due_condition(today),
            )
        )
        if due:
            langs = self._followup_langs([row[4] for row in due])
            texts = self._followup_texts({row[2] for row in due}, set(langs.values()))
            Activity = self.env["mail.activity"]
            vals_list = []
            for profile_id, partner_id, tier_id, next_date, user_id in due:
                type_id, summary, note = texts[tier_id, langs.get(user_id, langs[None])]
                vals_list.append(
                    Activity._customer_tier_values(
                        "followup",
                        partner_id,
                        profile_id,
                        type_id,
                        user_id,
                        max(next_date, today),
                        summary=summary,
                        note=note,
                    )
                )
            self._followup_create_activities(vals_list)
            # the next follow-up of a late customer is the new activity's
            # deadline (today)
            self._followup_refresh_dates(SQL("prof.id = ANY(%s)", [r[0] for r in due]))
        return len(selected), remaining

    def _followup_key_dates(self, today, limit):
        """Schedule the key-date reminders due today, at most ``limit``."""
        self.ensure_one()
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT kd.id, kd.date, kd.reminded_date, kd.profile_id,
                       prof.partner_id, %s
                  FROM customer_tier_key_date kd
                  JOIN customer_tier_profile prof ON prof.id = kd.profile_id
                  JOIN res_partner p ON p.id = prof.partner_id
                  JOIN res_partner c ON c.id = kd.contact_id
                 WHERE prof.program_id = %s
                   AND p.active AND c.active
                   AND (kd.reminded_date IS NULL OR kd.reminded_date < %s)
                 ORDER BY kd.id
                """,
                self._followup_user_sql(),
                self.id,
                today,
            )
        )
        due = []
        for key_date_id, date, reminded, profile_id, partner_id, user_id in rows:
            occurrence = reminder_due(date, reminded, today, self.key_date_remind_days)
            if occurrence and user_id:
                due.append((key_date_id, occurrence, profile_id, partner_id, user_id))
        selected = due[: max(limit, 0)]
        if not selected:
            return 0, len(due)
        key_dates = (
            self.env["customer.tier.key.date"]
            .sudo()
            .browse([row[0] for row in selected])
        )
        langs = self._followup_langs([row[4] for row in selected])
        activity_type = self.env.ref(KEY_DATE_TYPE)
        vals_list = []
        notes = []  # the key date itself stays under its record rules
        for (key_date_id, occurrence, profile_id, partner_id, user_id), key_date in zip(
            selected, key_dates, strict=True
        ):
            key_date = key_date.with_context(lang=langs.get(user_id, langs[None]))
            kinds = dict(key_date._fields["kind"]._description_selection(key_date.env))
            summary = key_date.env._(
                "%(what)s of %(contact)s on %(date)s",
                what=key_date.name or kinds[key_date.kind],
                contact=key_date.contact_id.name,
                date=format_date(key_date.env, occurrence),
            )
            notes.append(
                (
                    profile_id,
                    Markup("<p>%s</p>%s") % (summary, _paragraphs(key_date.note)),
                )
            )
            values = key_date.env["mail.activity"]._customer_tier_values(
                "key_date",
                partner_id,
                profile_id,
                activity_type.id,
                user_id,
                occurrence,
            )
            values["customer_tier_key_date_id"] = key_date_id
            vals_list.append(values)
        self._followup_create_activities(vals_list)
        self.env["customer.tier.profile"]._post_notes(notes, paragraph=False)
        self.env.cr.execute(
            SQL(
                """
                UPDATE customer_tier_key_date kd SET reminded_date = v.occurrence
                  FROM (VALUES %s) AS v(id, occurrence)
                 WHERE kd.id = v.id
                """,
                SQL(", ").join(
                    SQL("(%s::int, %s::date)", row[0], row[1]) for row in selected
                ),
            )
        )
        key_dates.invalidate_recordset(["reminded_date"])
        return len(selected), len(due) - len(selected)

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    @api.model
    def _followup_create_activities(self, vals_list):
        """Create activities on partners in batch, without an e-mail each.

        The document names are read for the whole batch first (the activity
        computes each one on its own otherwise), and activities of the same
        partner and user go to separate create calls (a single call would
        subscribe the user twice to the partner).
        """
        Activity = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
        )
        if not vals_list:
            return Activity
        partners = Activity.env["res.partner"].browse({v["res_id"] for v in vals_list})
        partners.mapped("display_name")
        chunks = []  # (keys, values) with distinct (partner, user) keys
        for vals in vals_list:
            key = (vals["res_id"], vals.get("user_id"))
            target = next((c for c in chunks if key not in c[0]), None)
            if target is None:
                target = (set(), [])
                chunks.append(target)
            target[0].add(key)
            target[1].append(vals)
        activities = Activity
        for _keys, values in chunks:
            activities |= Activity.create(values)
        return activities


class CustomerTier(models.Model):
    _inherit = "customer.tier"

    followup_interval = fields.Integer(
        string="Follow-up Every (days)",
        aggregator=None,
        help="Days between two follow-ups of a customer (or prospect) of this "
        "tier: the next follow-up falls this many days after the last contact "
        "(or after the customer entered the tier). 0 means no scheduled "
        "follow-up.",
    )
    followup_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Follow-up Activity",
        default=lambda self: self.env.ref(
            "customer_tier.mail_activity_type_tier_followup", raise_if_not_found=False
        ),
        domain="['|', ('res_model', '=', False), ('res_model', '=', 'res.partner')]",
        help="Activity scheduled on the customer when a follow-up is due "
        "(empty: Tier follow-up).",
    )
    followup_summary = fields.Char(
        translate=True, help="Summary of the scheduled follow-up activity."
    )
    followup_note = fields.Html(
        translate=True,
        help="What the salesperson does at each follow-up: the service "
        "strategy of the tier, in words one can act on.",
    )
    followup_plan_id = fields.Many2one(
        "mail.activity.plan",
        string="Plan on Entry",
        domain="[('res_model', '=', 'res.partner'), "
        "('company_id', 'in', [company_id, False])]",
        help="Activity plan launched on the customer when it enters this tier.",
    )

    _sql_constraints = [
        (
            "followup_interval_positive",
            "CHECK(followup_interval >= 0)",
            "A follow-up interval cannot be negative.",
        ),
    ]

    @api.constrains(*TIER_BOUNDS)
    def _check_value_bounds_followup(self):
        check_bounds(self, TIER_BOUNDS)

    def write(self, vals):
        res = super().write(vals)
        if "followup_interval" in vals:
            self.env["customer.tier.program"]._followup_refresh_dates(
                SQL("prof.tier_id = ANY(%s)", self.ids)
            )
        return res

    @api.model
    def _followup_copy_template_defaults(self):
        """Give the tiers of programs copied before the follow-up data loaded
        (companies that existed at install) the template's cadence, with its
        translations, in one statement."""
        self._copy_template_tier_values(
            SQL(
                """followup_interval = s.followup_interval,
                   followup_activity_type_id = s.followup_activity_type_id,
                   followup_summary = s.followup_summary,
                   followup_note = s.followup_note,
                   key_account = s.key_account"""
            ),
            SQL("COALESCE(t.followup_interval, 0) = 0 AND t.followup_summary IS NULL"),
        )


class CustomerTierProfile(models.Model):
    _inherit = "customer.tier.profile"

    last_contact_date = fields.Date(
        readonly=True,
        help="Latest contact with the customer: an activity marked as done, or "
        "a message, e-mail or note logged on the customer, one of its "
        "contacts, their orders or the tier profile (UTC date). System "
        "notifications do not count.",
    )
    next_followup_date = fields.Date(
        string="Next Follow-up",
        readonly=True,
        index=True,
        help="Deadline of the open follow-up activity; without one, the last "
        "contact (or, without contact, the date the customer entered its "
        "tier) plus the tier's follow-up interval.",
    )
    followup_overdue = fields.Boolean(
        string="Follow-up Overdue",
        compute="_compute_followup_overdue",
        search="_search_followup_overdue",
        help="The next follow-up date has passed.",
    )
    followup_interval = fields.Integer(
        related="tier_id.followup_interval", string="Follow-up Every (days)"
    )
    alert_pending_date = fields.Date(
        readonly=True,
        index="btree_not_null",
        help="A full evaluation opened a reorder or risk episode on this date; "
        "the follow-up run creates its reorder check (in bounded batches).",
    )
    reorder_alert_date = fields.Date(
        readonly=True,
        help="Date a reorder check was scheduled for the current overdue "
        "reorder; cleared when the customer orders again.",
    )
    risk_alert_date = fields.Date(
        readonly=True,
        help="Date a reorder check was scheduled because the customer's RFM "
        "segment turned to at risk / can't lose; cleared when it leaves them.",
    )

    @api.depends("next_followup_date")
    @api.depends_context("tz")
    def _compute_followup_overdue(self):
        today = fields.Date.context_today(self)
        for profile in self:
            profile.followup_overdue = bool(
                profile.next_followup_date and profile.next_followup_date < today
            )

    def _search_followup_overdue(self, operator, value):
        wanted = flag_search_values(self, "followup_overdue", operator, value)
        today = fields.Date.context_today(self)

        def positive_domain(positive):
            if positive:
                return [("next_followup_date", "<", today)]
            return [
                "|",
                ("next_followup_date", "=", False),
                ("next_followup_date", ">=", today),
            ]

        return flag_domain(wanted, positive_domain)

    def action_view_followup_activities(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Tier Activities"),
            "res_model": "mail.activity",
            "view_mode": "list,calendar,form",
            "views": [
                (
                    self.env.ref(
                        "customer_tier.mail_activity_view_list_customer_tier"
                    ).id,
                    "list",
                ),
                (False, "calendar"),
                (False, "form"),
            ],
            "domain": [("customer_tier_profile_id", "in", self.ids)],
            "context": {"create": False},
        }

    def _message_post_after_hook(self, message, msg_values):
        res = super()._message_post_after_hook(message, msg_values)
        if is_contact(message):
            self.env["customer.tier.program"]._followup_refresh_dates(
                SQL("prof.partner_id = ANY(%s)", self.sudo().partner_id.ids)
            )
        return res


class ResPartner(models.Model):
    _inherit = "res.partner"

    tier_last_contact_date = fields.Date(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.last_contact_date",
        string="Last Contact",
    )
    tier_next_followup_date = fields.Date(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.next_followup_date",
        string="Next Follow-up",
    )
    tier_followup_overdue = fields.Boolean(
        **PROFILE_FIGURE,
        related="customer_tier_profile_id.followup_overdue",
        string="Follow-up Overdue",
    )

    def _message_post_after_hook(self, message, msg_values):
        res = super()._message_post_after_hook(message, msg_values)
        if is_contact(message):
            self.env["customer.tier.program"]._followup_refresh_dates(
                SQL("prof.partner_id = ANY(%s)", self.commercial_partner_id.ids)
            )
        return res


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _message_post_after_hook(self, message, msg_values):
        res = super()._message_post_after_hook(message, msg_values)
        if is_contact(message):
            self.env["customer.tier.program"]._followup_refresh_dates(
                SQL(
                    "prof.partner_id = ANY(%s)",
                    self.sudo().partner_id.commercial_partner_id.ids,
                )
            )
        return res
