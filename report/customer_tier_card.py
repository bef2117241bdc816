from odoo import api, models

TREND_MOVES = 6


class CustomerTierCardReport(models.AbstractModel):
    """Values of the printable customer tier card (one page per profile)."""

    _name = "report.customer_tier.report_customer_tier_card"
    _description = "Customer Tier Card"

    @api.model
    def _get_report_values(self, docids, data=None):
        profiles = self.env["customer.tier.profile"].browse(docids)
        profiles.check_access("read")
        return {
            "doc_ids": profiles.ids,
            "doc_model": "customer.tier.profile",
            "docs": profiles,
            "trend": {p.id: self._card_trend(p) for p in profiles},
            "extra_lines": {p.id: self._card_extra_lines(p) for p in profiles},
            "pareto": self._card_pareto(profiles),
            "selection": self._card_selection_labels(),
        }

    @api.model
    def _card_trend(self, profile):
        """The last tier moves of ``profile``, newest first."""
        return self.env["customer.tier.history"].search(
            [("profile_id", "=", profile.id)],
            order="date desc, id desc",
            limit=TREND_MOVES,
        )

    @api.model
    def _card_pareto(self, profiles):
        """Rank and shares of each profile, from the 80/20 report as the user
        sees it: among the company's customers, or among own customers for a
        salesperson limited to own documents."""
        # the rows depend on the user: never values cached for another one
        Report = self.env["customer.tier.pareto.report"]
        Report.invalidate_model()
        rows = Report.search_fetch(
            [("profile_id", "in", profiles.ids)],
            ["profile_id", "revenue_share", "cumulative_share", "pareto_rank"],
        )
        return {row.profile_id.id: row for row in rows}

    @api.model
    def _card_extra_lines(self, profile):
        """(label, value) lines other features add to the card (next follow-up,
        points ...). Only lines with data are printed; none by default."""
        return []

    @api.model
    def _card_selection_labels(self):
        def labels(model, fname):
            field = self.env[model]._fields[fname]
            return dict(field._description_selection(self.env))

        return {
            "frequency_class": labels("customer.tier.profile", "frequency_class"),
            "direction": labels("customer.tier.history", "direction"),
            "cause": labels("customer.tier.history", "cause"),
        }
