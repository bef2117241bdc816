import base64
import io
from urllib.parse import quote

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.customer_tier.models.customer_tier_bounds import (
    MAX_NOTICE_DAYS,
    MIN_DATE,
    check_bounds,
    max_business_date,
    model_label,
)
from odoo.addons.customer_tier.report.customer_tier_workbook import workbook_filename

# Served as is: Odoo would guess the type of a non-attachment binary field from
# its first 1 KB, which is not enough to recognise an XLSX (it logs warnings and
# answers application/zip).
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CustomerTierWorkbookWizard(models.TransientModel):
    """Export the manager workbook (XLSX) with the user's own access rights."""

    _name = "customer.tier.workbook.wizard"
    _description = "Export Customer Tier Workbook"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    date_from = fields.Date(
        string="Moves From",
        required=True,
        default=lambda self: self._default_date_from(),
        help="First day of the period whose tier moves the Migration sheet shows.",
    )
    date_to = fields.Date(
        string="Moves To",
        required=True,
        default=fields.Date.context_today,
        help="Last day of the period. It is also the reference date of the "
        "Follow-ups sheet.",
    )
    user_ids = fields.Many2many(
        "res.users",
        string="Salespeople",
        help="Export only the customers of these salespeople (empty: every "
        "customer you can see).",
    )
    horizon_days = fields.Integer(
        string="Upcoming Within (days)",
        default=30,
        help="The Follow-ups sheet lists overdue reorders and the reorders "
        "expected within this many days after the end of the period.",
    )
    file_data = fields.Binary(string="Workbook", readonly=True, attachment=False)
    file_name = fields.Char(readonly=True)

    @api.model
    def _default_date_from(self):
        today = fields.Date.context_today(self)
        return today.replace(day=1, month=3 * ((today.month - 1) // 3) + 1)

    @api.onchange("date_to")
    def _onchange_date_to(self):
        if self.date_to and self.date_from and self.date_from > self.date_to:
            self.date_from = self.date_to - relativedelta(months=3)

    @api.constrains("date_from", "date_to", "horizon_days")
    def _check_value_bounds(self):
        latest = max_business_date(self)
        check_bounds(
            self,
            {
                "date_from": (MIN_DATE, latest),
                "date_to": (MIN_DATE, latest),
                "horizon_days": (0, MAX_NOTICE_DAYS),
            },
            label=model_label,
        )

    def _check_period(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise UserError(self.env._("The period must end after it starts."))
            if wizard.horizon_days < 0:
                raise UserError(self.env._("The follow-up horizon cannot be negative."))

    def _write_workbook(self, output):
        """Write this export's workbook to ``output`` (path or file object)."""
        self.ensure_one()
        self._check_period()
        self.env["customer.tier.workbook"]._write_workbook(
            output,
            self.company_id,
            self.date_from,
            self.date_to,
            users=self.user_ids,
            horizon_days=self.horizon_days,
        )

    def _generate_xlsx(self):
        """The workbook as bytes."""
        buffer = io.BytesIO()
        self._write_workbook(buffer)
        return buffer.getvalue()

    def action_export(self):
        self.ensure_one()
        data = self._generate_xlsx()
        self.write(
            {
                "file_data": base64.b64encode(data),
                "file_name": workbook_filename(self.company_id, self.date_to),
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/file_data/"
            f"{quote(self.file_name)}?download=true&mimetype={quote(XLSX_MIMETYPE)}",
            "target": "download",
        }
