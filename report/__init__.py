from . import customer_tier_pareto_report
from . import customer_tier_workbook
from . import customer_tier_card
