from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL

from .customer_tier_field_guard import check_fields_not_written

TIER_ACTIVITY_KINDS = [
    ("followup", "Tier follow-up"),
    ("reorder", "Reorder check"),
    ("key_date", "Key date reminder"),
    ("plan", "Tier entry plan"),
]

# Set by the follow-up run only: an activity a user links to a tier profile
# would log its summary and note on that profile once done (whoever's it is),
# and pass for the follow-up of its tier.
TIER_ACTIVITY_FIELDS = {
    "customer_tier_profile_id",
    "customer_tier_activity",
    "customer_tier_key_date_id",
    "customer_tier_id",
}


# Written, they move a follow-up activity's place in the cadence.
FOLLOWUP_DATE_FIELDS = {"date_deadline", "active"}


class MailActivity(models.Model):
    _inherit = "mail.activity"

    customer_tier_profile_id = fields.Many2one(
        "customer.tier.profile",
        string="Tier Profile",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="Tier profile whose follow-up cadence, reorder alert or key date "
        "scheduled this activity.",
    )
    customer_tier_activity = fields.Selection(
        TIER_ACTIVITY_KINDS,
        string="Tier Activity",
        readonly=True,
        help="Why the tier program scheduled this activity; the daily run "
        "reuses an open follow-up instead of scheduling another.",
    )
    customer_tier_key_date_id = fields.Many2one(
        "customer.tier.key.date",
        string="Key Date",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
        # whoever may edit the partner reads its activities, and a many2one
        # shows its target's name ("Birthday - contact") whatever the rules
        # on the key date: the link is for the follow-up run (sudo) only
        groups="base.group_system",
    )
    customer_tier_id = fields.Many2one(
        related="customer_tier_profile_id.tier_id", string="Customer Tier"
    )

    @api.model_create_multi
    def create(self, vals_list):
        check_fields_not_written(self, vals_list, TIER_ACTIVITY_FIELDS, derived=False)
        return super().create(vals_list)

    def write(self, vals):
        check_fields_not_written(self, vals, TIER_ACTIVITY_FIELDS, derived=False)
        res = super().write(vals)
        if FOLLOWUP_DATE_FIELDS.intersection(vals):
            # a follow-up moved, archived or brought back: the profile's
            # next follow-up is its deadline
            self._customer_tier_refresh_followups(
                self._customer_tier_followup_profiles()
            )
        return res

    def unlink(self):
        # (read before they are gone; nothing of them is returned)
        profiles = self._customer_tier_followup_profiles()
        res = super().unlink()
        self._customer_tier_refresh_followups(profiles)
        return res

    def _customer_tier_followup_profiles(self):
        """Ids of the tier profiles whose follow-up activity is in ``self``."""
        return list(
            {
                activity.customer_tier_profile_id.id
                for activity in self.sudo()
                if activity.customer_tier_activity == "followup"
                and activity.customer_tier_profile_id
            }
        )

    @api.model
    def _customer_tier_refresh_followups(self, profile_ids):
        """Refresh the follow-up dates of these tier profiles (one statement)."""
        if profile_ids:
            self.env["customer.tier.program"]._followup_refresh_dates(
                SQL("prof.id = ANY(%s)", profile_ids)
            )

    @api.model
    def _customer_tier_values(
        self, kind, partner_id, profile_id, type_id, user_id, deadline, **texts
    ):
        """Values of an activity the module schedules on a customer: on the
        partner, automated, linked to its tier profile, of the module's
        ``kind`` (``customer_tier_activity``). ``texts``: ``summary`` and
        ``note``; a reorder check and a key-date reminder carry the pointer
        note (:meth:`_customer_tier_pointer_note`) and the activity type's
        name as summary."""
        if kind in ("reorder", "key_date"):
            texts = {"summary": False, "note": self._customer_tier_pointer_note(kind)}
        return {
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": partner_id,
            "activity_type_id": type_id,
            "summary": texts.get("summary") or False,
            "note": texts.get("note") or False,
            "user_id": user_id,
            "date_deadline": deadline,
            "automated": True,
            "customer_tier_profile_id": profile_id,
            "customer_tier_activity": kind,
        }

    @api.model
    def _customer_tier_pointer_note(self, kind):
        """Note of a reorder check (``kind`` "reorder") or key-date reminder
        ("key_date") on the partner, whose activities every user who may
        edit the partner reads: where its detail is, nothing of it."""
        if kind == "key_date":
            text = self.env._(
                "The contact, the occasion and the note of this key date are on "
                "the customer's tier profile."
            )
        else:
            text = self.env._(
                "The reasons and figures of this check are logged on the "
                "customer's tier profile."
            )
        return Markup("<p>%s</p>") % text

    @api.model
    def _customer_tier_hide_details(self):
        """Upgrade from 18.0.1.0.0, whose reorder checks and key-date
        reminders carried on the partner the customer's figures (summary and
        note) or the key date (who, what, its note): log summary and note of
        each on its tier profile, dated like the activity, and leave on the
        partner the activity type and the pointer note, as the follow-up run
        schedules them now. Those still open and those kept once done alike
        (the new ones have no summary). Returns the number of activities."""
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT a.id, a.customer_tier_activity, a.customer_tier_profile_id,
                       a.summary, a.note, a.create_date, a.user_id
                  FROM mail_activity a
                 WHERE a.res_model = 'res.partner'
                   AND a.customer_tier_activity IN ('reorder', 'key_date')
                   AND a.customer_tier_profile_id IS NOT NULL
                   AND a.summary IS NOT NULL
                 ORDER BY a.id
                """
            )
        )
        if not rows:
            return 0
        subtype = self.env.ref("mail.mt_note")
        author = self.env.ref("base.partner_root").id
        self.env["mail.message"].sudo().create(
            [
                {
                    "model": "customer.tier.profile",
                    "res_id": profile_id,
                    "message_type": "notification",
                    "subtype_id": subtype.id,
                    "author_id": author,
                    "date": create_date,
                    "body": Markup("<p>%s</p>%s") % (summary, Markup(note or "")),
                }
                for _id, _kind, profile_id, summary, note, create_date, _user in rows
            ]
        )
        users = self.env["res.users"].sudo().browse({row[6] for row in rows if row[6]})
        langs = {user.id: user.lang for user in users}
        groups = {}  # (kind, language): activity ids
        for activity_id, kind, *_values, user_id in rows:
            groups.setdefault((kind, langs.get(user_id)), []).append(activity_id)
        for (kind, lang), ids in groups.items():
            activities = self.sudo().with_context(lang=lang or "en_US").browse(ids)
            activities.with_context(mail_activity_quick_update=True).write(
                {
                    "summary": False,
                    "note": activities._customer_tier_pointer_note(kind),
                }
            )
        return len(rows)

    def _action_done(self, feedback=False, attachment_ids=None):
        """Marked as done, Odoo copies an activity's summary and note into a
        message on the partner, which every internal user of every company
        reads. The reorder checks and key-date reminders the follow-up run
        schedules carry only a pointer to the tier profile (their figures and
        the key date are logged there when they are raised), but older ones,
        and any text a user typed into them, may carry the customer's figures
        or a key date: log summary and note on the tier profile instead (its
        record rules apply to its messages), and leave on the partner the
        activity type and the feedback only (the trace still counts as a
        contact for the follow-up cadence)."""
        checks = self.filtered(
            lambda a: (
                a.customer_tier_activity in ("reorder", "key_date")
                and a.customer_tier_profile_id
            )
        )
        if checks:
            self.env["customer.tier.profile"]._post_notes(
                [
                    (
                        check.customer_tier_profile_id.id,
                        Markup("<p>%s</p>%s")
                        % (
                            self.env._(
                                "%(summary)s: done by %(user)s.",
                                summary=check.summary or check.activity_type_id.name,
                                user=self.env.user.name,
                            ),
                            check.note or "",
                        ),
                    )
                    for check in checks
                ],
                paragraph=False,
            )
            checks.sudo().write({"summary": False, "note": False})
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
