from markupsafe import Markup

from odoo import api, models, tools
from odoo.tools import SQL

from .customer_tier_engine import EngineFeature


class PricingFeature(EngineFeature):
    """Customers' pricelists follow their new tier.

    Sequence 20: after the prediction (10), before the follow-up (30), as the
    side effects ran before the contract was declared."""

    name = "pricing"
    sequence = 20

    def after_write(self, rows, changes, eval_date, full):
        if changes:
            self.program._apply_tier_pricelists(changes, eval_date)


class CustomerTierProgram(models.Model):
    _inherit = "customer.tier.program"

    @api.model
    @tools.ormcache("company_id")
    def _sample_fee_product_ids(self, company_id):
        """Sample/courier fee products of the company's program (cached: read
        for every order line whose price is computed)."""
        program = self.sudo().search([("company_id", "=", company_id)], limit=1)
        return frozenset(program.sample_fee_product_ids.ids)

    @api.model_create_multi
    def create(self, vals_list):
        programs = super().create(vals_list)
        self.env.registry.clear_cache()
        return programs

    def write(self, vals):
        res = super().write(vals)
        if {"sample_fee_product_ids", "company_id", "active"} & vals.keys():
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _engine_features(self):
        return [*super()._engine_features(), PricingFeature]

    def _apply_tier_pricelists(self, changes, eval_date):
        """Make the customers' pricelist follow their new tier, in bulk.

        A customer's pricelist in the company follows its tier when it is
        empty, or is the one the program put there last, or is another tier's
        pricelist of the program. Any other pricelist was set by a user: it is
        kept and the profile is flagged. Tiers without a pricelist leave the
        customer's pricelist alone (a pricelist the program put there stays).
        """
        self.ensure_one()
        self.env.flush_all()
        tiers = (
            self.with_context(active_test=False).sudo().tier_ids | self.sudo().grade_ids
        )
        tier_pricelist = {t.id: t.pricelist_id.id for t in tiers if t.pricelist_id}
        if not tier_pricelist:
            return
        managed = set(tier_pricelist.values())
        company_key = str(self.company_id.id)
        partner_ids = [c[0] for c in changes]
        state = {
            pid: (current, applied, profile_id)
            for pid, current, applied, profile_id in self.env.execute_query(
                SQL(
                    """
                    SELECT p.id,
                           (p.specific_property_product_pricelist ->> %(key)s)::int,
                           prof.tier_pricelist_id, prof.id
                      FROM res_partner p
                      JOIN customer_tier_profile prof
                        ON prof.partner_id = p.id AND prof.company_id = %(company)s
                     WHERE p.id = ANY(%(partners)s)
                    """,
                    key=company_key,
                    company=self.company_id.id,
                    partners=partner_ids,
                )
            )
        }
        to_set = []  # (partner, pricelist)
        flags = []  # (partner, applied pricelist, manual flag)
        notes = []
        Pricelist = self.env["product.pricelist"].sudo()
        for pid, _old, new, _cause in changes:
            if pid not in state:
                continue
            current, applied, profile_id = state[pid]
            target = tier_pricelist.get(new)
            if not target:
                flags.append((pid, applied, False))
                continue
            if current and current != applied and current not in managed:
                flags.append((pid, applied, current != target))
                continue
            flags.append((pid, target, False))
            if current != target:
                to_set.append((pid, target))
                notes.append((profile_id, current, target))
        if to_set:
            values = SQL(", ").join(
                SQL("(%s::int, %s::int)", pid, pl) for pid, pl in to_set
            )
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE res_partner p
                       SET specific_property_product_pricelist =
                           COALESCE(p.specific_property_product_pricelist, '{}'::jsonb)
                           || jsonb_build_object(%(key)s, v.pricelist)
                      FROM (VALUES %(values)s) AS v(partner, pricelist)
                     WHERE p.commercial_partner_id = v.partner
                    """,
                    key=company_key,
                    values=values,
                )
            )
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_history h SET pricelist_id = v.pricelist
                      FROM (VALUES %(values)s) AS v(partner, pricelist)
                     WHERE h.partner_id = v.partner AND h.company_id = %(company)s
                       AND h.date = %(date)s
                       AND h.id = (SELECT MAX(h2.id) FROM customer_tier_history h2
                                    WHERE h2.partner_id = v.partner
                                      AND h2.company_id = %(company)s)
                    """,
                    values=values,
                    company=self.company_id.id,
                    date=eval_date,
                )
            )
            self.env["res.partner"].invalidate_model(
                ["specific_property_product_pricelist", "property_product_pricelist"]
            )
            self.env["customer.tier.history"].invalidate_model(["pricelist_id"])
        if flags:
            values = SQL(", ").join(
                SQL("(%s::int, %s::int, %s::bool)", pid, pl, manual)
                for pid, pl, manual in flags
            )
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE customer_tier_profile prof
                       SET tier_pricelist_id = v.pricelist, pricelist_manual = v.manual
                      FROM (VALUES %(values)s) AS v(partner, pricelist, manual)
                     WHERE prof.partner_id = v.partner AND prof.company_id = %(company)s
                    """,
                    values=values,
                    company=self.company_id.id,
                )
            )
            self.env["customer.tier.profile"].invalidate_model(
                ["tier_pricelist_id", "pricelist_manual"]
            )
        if notes:
            # on the profile's chatter (its record rules apply), not on the
            # partner that users of every company read
            names = {
                pl.id: pl.display_name
                for pl in Pricelist.browse({pl for n in notes for pl in n[1:] if pl})
            }
            subtype = self.env.ref("mail.mt_note")
            self.env["mail.message"].sudo().create(
                [
                    {
                        "model": "customer.tier.profile",
                        "res_id": profile_id,
                        "message_type": "notification",
                        "subtype_id": subtype.id,
                        "author_id": self.env.user.partner_id.id,
                        "body": Markup("<p>%s</p>")
                        % self.env._(
                            "Pricelist changed from %(old)s to %(new)s to follow the "
                            "customer tier (%(company)s).",
                            old=names.get(old) or self.env._("none"),
                            new=names[new],
                            company=self.company_id.name,
                        ),
                    }
                    for profile_id, old, new in notes
                ]
            )
