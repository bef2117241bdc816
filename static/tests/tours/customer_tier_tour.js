/** @odoo-module **/
/*
 * Browser tours of the customer_tier flow, run by tests/test_tour.py in
 * English and in Simplified Chinese.
 *
 * Every step selects elements by stable attributes (field and button names,
 * menu xml ids, notebook page names, CSS classes of Odoo's components) or by
 * the test's own data (customer names, tier codes), never by a translated
 * label, so the same steps pass whatever the user's language.
 */

import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";
import { menuSteps, openRecordSteps } from "@customer_tier/../tests/tours/tour_steps";

const tours = registry.category("web_tour.tours");

// Data of the Python test (tests/test_tour.py).
const ALPHA = "Tour Customer Alpha";
const BETA = "Tour Customer Beta";
const GAMMA = "Tour Customer Gamma";
const OVERRIDE_REASON = "Distributor for all of East China";
const FEEDBACK = "Called the buyer: reorder planned next month";
// Body attribute the workbook download check sets (see interceptDownload).
const DOWNLOAD_FLAG = "customerTierDownload";

/** Search the current view for a customer by name and open its record. */
function openCustomerSteps(name) {
    return openRecordSteps(name, `.o_form_view div[name="name"] input:value("${name}")`);
}

/**
 * Odoo starts a file download with browser.location.assign(url) (action of
 * type ir.actions.act_url, target "download"). A headless browser gives the
 * tour no trace of a download, so capture that URL once, fetch it, and check
 * that it serves an XLSX attachment; a failure is reported with
 * console.error, which fails the tour at once.
 */
function interceptDownload() {
    const descriptor = Object.getOwnPropertyDescriptor(browser, "location");
    const realLocation = window.location;
    const restore = () => Object.defineProperty(browser, "location", descriptor);
    // The target is a plain object: window.location's own properties are
    // not configurable, so a proxy of it may not answer another "assign".
    const fakeLocation = new Proxy(
        {},
        {
            get(_target, property) {
                if (property === "assign") {
                    return (url) => {
                        restore();
                        checkDownload(url);
                    };
                }
                const value = realLocation[property];
                return typeof value === "function" ? value.bind(realLocation) : value;
            },
        }
    );
    Object.defineProperty(browser, "location", {
        get: () => fakeLocation,
        configurable: true,
    });
}

async function checkDownload(url) {
    const fail = (why) => {
        document.body.dataset[DOWNLOAD_FLAG] = "error";
        console.error(`Workbook download failed (${url}): ${why}`);
    };
    try {
        const response = await browser.fetch(url);
        const type = response.headers.get("Content-Type") || "";
        const disposition = response.headers.get("Content-Disposition") || "";
        const size = (await response.arrayBuffer()).byteLength;
        if (!response.ok) {
            fail(`HTTP ${response.status}`);
        } else if (!type.includes("spreadsheetml")) {
            fail(`content type ${type}`);
        } else if (!disposition.includes("attachment") || !disposition.includes(".xlsx")) {
            fail(`content disposition ${disposition}`);
        } else if (size < 1000) {
            fail(`${size} bytes`);
        } else {
            document.body.dataset[DOWNLOAD_FLAG] = "ok";
        }
    } catch (error) {
        fail(error.message);
    }
}

/*
 * Sales manager: customer form (tier badge, figures), tier profile (manual
 * override with a reason), recompute preview and apply, tier analysis,
 * workbook download.
 */
tours.add("customer_tier_manager_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("sale.sale_menu_root", "open Sales"),
        ...menuSteps("sale.sale_order_menu", "sale.res_partner_menu", "open the customers"),
        ...openCustomerSteps(ALPHA),
        {
            content: "the computed tier (B) shows as a badge under the name",
            trigger: '.oe_title div[name="customer_tier_id"] .badge:contains("B - ")',
        },
        {
            content: "open the Tier page",
            trigger: '.o_notebook_headers a.nav-link[name="customer_tier"]',
            run: "click",
        },
        {
            content: "the Tier page shows the figures: 2 orders",
            trigger: '.o_notebook div[name="tier_order_count"]:contains("2")',
        },
        {
            content: "and the window revenue",
            trigger: '.o_notebook div[name="tier_revenue_window"]:contains("3,000.00")',
        },
        stepUtils.autoExpandMoreButtons(),
        {
            content: "open the tier profile (smart button)",
            trigger: 'button[name="action_view_customer_tier_profile"]',
            run: "click",
        },
        {
            content: "the profile shows the computed tier",
            trigger: `.o_form_view:has(.oe_title:contains("${ALPHA}")) div[name="computed_tier_id"]:contains("B - ")`,
        },
        {
            content: "override the tier: open the tier list",
            trigger: 'div[name="manual_tier_id"] input',
            run: "click",
        },
        {
            content: "choose tier A",
            trigger: '.o-autocomplete--dropdown-item a:contains("A - ")',
            run: "click",
        },
        {
            content: "give the reason",
            trigger: 'div[name="manual_reason"] input',
            run: `edit ${OVERRIDE_REASON}`,
        },
        ...stepUtils.saveForm(),
        {
            content: "the effective tier is the manual one",
            trigger: '.oe_title div[name="tier_id"] .badge:contains("A - ")',
        },
        {
            content: "the manual tier is flagged as differing from the computed one",
            trigger: 'div[name="manual_differs"] input:checked',
        },
        {
            content: "the override is in the history",
            trigger: `div[name="history_ids"] .o_data_row:contains("${OVERRIDE_REASON}"), .o-mail-Chatter .o-mail-Message:contains("${OVERRIDE_REASON}")`,
        },
        // Recompute: preview, then apply.
        ...menuSteps(
            "customer_tier.customer_tier_menu_root",
            "customer_tier.customer_tier_recompute_menu",
            "open Recompute Tiers"
        ),
        {
            content: "preview the recompute",
            trigger: '.modal button[name="action_preview"]',
            run: "click",
        },
        {
            content: "one customer goes up",
            trigger: '.modal div[name="count_up"] span:contains(/^1$/)',
        },
        {
            content: "it is Beta",
            trigger: `.modal div[name="line_ids"] .o_data_row:contains("${BETA}")`,
        },
        {
            content: "the overridden customer does not move",
            trigger: `.modal div[name="line_ids"]:not(:has(.o_data_row:contains("${ALPHA}")))`,
        },
        {
            content: "apply the recompute",
            trigger: '.modal button[name="action_apply"]',
            run: "click",
        },
        {
            content: "the wizard closes",
            trigger: "body:not(:has(.modal))",
        },
        // Reporting: tier analysis, workbook.
        ...menuSteps(
            "sale.menu_sale_report",
            "customer_tier.customer_tier_analysis_menu",
            "open the tier analysis"
        ),
        {
            content: "the analysis shows real figures (no sample data)",
            trigger: ".o_pivot_view:not(:has(.o_view_sample_data)) .o_pivot .o_pivot_cell_value",
        },
        ...menuSteps(
            "sale.menu_sale_report",
            "customer_tier.customer_tier_workbook_menu",
            "open the workbook export"
        ),
        {
            content: "catch the download the export starts",
            trigger: '.modal button[name="action_export"]',
            run: interceptDownload,
        },
        {
            content: "export the workbook",
            trigger: '.modal button[name="action_export"]',
            run: "click",
        },
        {
            content: "the workbook was served as an XLSX attachment",
            trigger: `body[data-customer-tier-download="ok"]`,
        },
        {
            content: "close the export",
            trigger: ".modal .modal-header .btn-close",
            run: "click",
        },
        {
            content: "the export is closed",
            trigger: "body:not(:has(.modal))",
        },
    ],
});

/*
 * Salesperson: the follow-up activity the cadence scheduled for their
 * customer, from the activity menu of the systray, marked as done.
 */
tours.add("customer_tier_salesperson_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "open the activity menu",
            trigger: ".o_menu_systray .dropdown-toggle:has(.fa-clock-o), .o_menu_systray button:has(.fa-clock-o)",
            run: "click",
        },
        {
            content: "open the activities on customers",
            trigger: '.o-mail-ActivityMenu .o-mail-ActivityGroup[data-model_name="res.partner"]',
            run: "click",
        },
        {
            content: `open ${GAMMA}`,
            trigger: `.o_kanban_record:contains("${GAMMA}"), .o_data_row:contains("${GAMMA}") .o_data_cell`,
            run: "click",
        },
        {
            content: "the tier follow-up is in the chatter: mark it done",
            // icon of the activity type customer_tier.mail_activity_type_tier_followup
            trigger: ".o-mail-Activity:has(.o-mail-Activity-iconContainer .fa-handshake-o) .o-mail-Activity-markDone",
            run: "click",
        },
        {
            content: "write the feedback",
            trigger: ".o-mail-ActivityMarkAsDone textarea",
            run: `edit ${FEEDBACK}`,
        },
        {
            // The buttons are "Done & Schedule Next", "Done", "Discard".
            content: "done",
            trigger: ".o-mail-ActivityMarkAsDone button.btn-primary:nth-of-type(2)",
            run: "click",
        },
        {
            content: "the feedback is logged in the chatter",
            trigger: `.o-mail-Chatter .o-mail-Message:contains("${FEEDBACK}")`,
        },
        {
            content: "and the follow-up is no longer planned",
            trigger: ".o-mail-Chatter:not(:has(.o-mail-Activity .fa-handshake-o))",
        },
    ],
});
