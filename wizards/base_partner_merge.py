from odoo import models
from odoo.tools import SQL

from ..models.customer_tier_engine import TierEngine


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    """Merging customers (Contacts > Action > Merge) leaves the destination
    with what the tier engine gives the merged customer.

    Odoo's merge moves the records of the merged partners to the destination
    (their orders, and their tier profiles where the destination has none in
    that company; the others are deleted) and writes their field values on
    it. The stored tier is the engine's, not a value to carry over: the
    merge leaves it out, then, in each company where one of the merged
    partners' customers had a profile, refreshes the destination's customer
    (its profile, tier and shares now count the orders it took over; the
    ranking snapshot forgets the merged customers, as customers that stopped
    buying) and, first, the customers of merged contacts, which lost their
    orders; and it sets the destination's stored tier to its profile's
    (none without a profile)."""

    _inherit = "base.partner.merge.automatic.wizard"

    def _update_values(self, src_partners, dst_partner):
        return super()._update_values(
            src_partners, dst_partner.with_context(customer_tier_merge=True)
        )

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        partners = self.env["res.partner"].browse(partner_ids).exists()
        customers = partners.commercial_partner_id
        Profile = self.env["customer.tier.profile"].sudo()
        companies = Profile.search([("partner_id", "in", customers.ids)]).company_id
        res = super()._merge(partner_ids, dst_partner, extra_checks)
        dst = partners.exists()
        if len(partners) > 1 and len(dst) == 1:
            self._customer_tier_merged(dst, customers, companies)
        return res

    def _customer_tier_merged(self, dst, customers, companies):
        """After ``dst`` took over the partners merged into it: refresh, in
        ``companies``, its customer and those of ``customers`` (the
        commercial partners of the merged partners) that remain (a merged
        contact's orders leave its company's figures), then store the
        profiles' tiers of its customer (docstring of the class)."""
        env = self.env(su=True)
        customer = dst.commercial_partner_id
        remaining = customers.exists() | customer
        # the entries of the merged customers: corrected out by the refresh
        # as those of customers without a buying profile
        # (customer_tier_ranking.py)
        env.cr.execute(
            SQL(
                "UPDATE customer_tier_ranking_entry SET moved = TRUE"
                " WHERE partner_id = ANY(%s) AND NOT moved",
                (customers - remaining).ids,
            )
        )
        programs = env["customer.tier.program"].search(
            [("company_id", "in", companies.ids)]
        )
        # one at a time, those that lost orders first: a refresh scores its
        # customers against the others' stored figures
        for program in programs:
            for partner_id in (remaining - customer).ids + customer.ids:
                program._engine().refresh_partners([partner_id])
        profiles = env["customer.tier.profile"].search(
            [("partner_id", "=", customer.id)]
        )
        tiers = {profile.company_id.id: profile.tier_id.id for profile in profiles}
        stored = env.execute_query(
            SQL(
                "SELECT jsonb_object_keys(COALESCE(commercial_tier_id, '{}'))"
                " FROM res_partner WHERE id = %s",
                customer.id,
            )
        )
        for (company,) in stored:
            tiers.setdefault(int(company), None)
        TierEngine.sync_partner_tiers(
            env,
            [(customer.id, company, tier or None) for company, tier in tiers.items()],
        )
