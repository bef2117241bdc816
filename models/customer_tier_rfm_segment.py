from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CustomerTierRfmSegment(models.Model):
    """A named RFM segment: a rectangle of recency and frequency scores.

    Segments are tried in sequence; the first whose recency range holds the
    customer's R score and whose frequency range holds its FM score (the mean of
    the frequency and monetary scores, rounded half up) is the customer's
    segment. The shipped mapping follows the usual RFM grid (champions, loyal,
    potential, new, at risk, can't lose, hibernating, lost).
    """

    _name = "customer.tier.rfm.segment"
    _description = "RFM Segment"
    _check_company_auto = True
    _order = "program_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    program_id = fields.Many2one(
        "customer.tier.program", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, precompute=True
    )
    r_min = fields.Integer(string="Recency Score From", default=1, aggregator=None)
    r_max = fields.Integer(string="Recency Score To", default=5, aggregator=None)
    fm_min = fields.Integer(
        string="Frequency/Monetary Score From",
        default=1,
        aggregator=None,
        help="FM score = mean of the frequency and monetary scores, rounded half up.",
    )
    fm_max = fields.Integer(
        string="Frequency/Monetary Score To", default=5, aggregator=None
    )
    description = fields.Text(translate=True)

    _sql_constraints = [
        (
            "code_program_uniq",
            "unique(program_id, code)",
            "A segment code can be used only once per program.",
        ),
    ]

    @api.constrains("r_min", "r_max", "fm_min", "fm_max")
    def _check_ranges(self):
        for segment in self:
            for low, high in (
                (segment.r_min, segment.r_max),
                (segment.fm_min, segment.fm_max),
            ):
                if not (1 <= low <= high <= 5):
                    raise ValidationError(
                        self.env._(
                            "Segment %(segment)s: score ranges must satisfy "
                            "1 <= from <= to <= 5.",
                            segment=segment.name,
                        )
                    )

    def _matches(self, r_score, fm_score):
        self.ensure_one()
        return (
            self.r_min <= r_score <= self.r_max
            and self.fm_min <= fm_score <= self.fm_max
        )
