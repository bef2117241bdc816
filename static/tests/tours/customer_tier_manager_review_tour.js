/** @odoo-module **/
/*
 * A sales manager reviews the tiers (tests/test_manager_tour.py, in English
 * and in Simplified Chinese): why a customer holds its tier, the preview of
 * a switch of method (moves now, customers at risk and when they would
 * drop), the notification of the Apply and the history of that run, the
 * Customer Tiers dashboard, a quotation below the tier's minimum order.
 *
 * The figures checked come from the Python test, computed there by hand and
 * formatted or translated in the user's language; they are in
 * sessionStorage under DATA_KEY. Steps select elements by stable attributes
 * (field, button, page and menu names) or by that data, never by a label of
 * the interface. With data.screenshots the tour stops at each key screen
 * and waits until the test has saved it.
 */

import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";
import { menuSteps, openRecordSteps } from "@customer_tier/../tests/tours/tour_steps";

const DATA_KEY = "customer_tier_manager_review_tour";
const SHOT_SIGNAL = "customer_tier screenshot:";

function tourData() {
    return JSON.parse(browser.sessionStorage.getItem(DATA_KEY) || "{}");
}

/**
 * With screenshots on, ask the test for a screenshot of the screen (after
 * scrolling ``scrollTo`` into view, at ``block`` of the view, once no
 * tooltip shows) and wait until it is saved.
 */
function shotSteps(data, name, scrollTo = null, block = "center") {
    if (!data.screenshots) {
        return [];
    }
    return [
        {
            content: `screenshot ${name}: leave the element the tour hovered last`,
            trigger: "body",
            run() {
                // (the tooltip service closes a tooltip when its element is left)
                for (const element of document.querySelectorAll("[data-tooltip]")) {
                    element.dispatchEvent(new MouseEvent("mouseleave"));
                }
            },
        },
        {
            content: `screenshot ${name}: no tooltip over the screen`,
            trigger: "body:not(:has(.o-tooltip))",
        },
        {
            content: `screenshot ${name}`,
            trigger: scrollTo || "body",
            run() {
                if (scrollTo) {
                    document.querySelector(scrollTo).scrollIntoView({ block });
                }
                console.log(`${SHOT_SIGNAL} ${name}`);
            },
        },
        {
            content: `screenshot ${name} saved`,
            trigger: `body[data-customer-tier-shot="${name}"]`,
        },
    ];
}

/** A list field's rows, checked in run(): exactly ``count`` of them. */
function checkRowCount(selector, count, what) {
    const rows = document.querySelectorAll(`${selector} .o_data_row`);
    if (rows.length !== count) {
        throw new Error(`${what}: ${rows.length} rows shown, ${count} expected`);
    }
}

/** The spreadsheet model of the dashboard open in the Dashboards app. */
function dashboardModel() {
    const stack = [odoo.__WOWL_DEBUG__.root.__owl__];
    while (stack.length) {
        const node = stack.pop();
        const component = node.component;
        const model = component?.loader && component.state?.activeDashboard?.model;
        if (model) {
            return model;
        }
        stack.push(...Object.values(node.children));
    }
    throw new Error("no spreadsheet model in the dashboard action");
}

/**
 * Resolve once every data source of the spreadsheet is loaded and no cell
 * is "Loading..." (the steps of Odoo's waitForDataLoaded, which the lazy
 * spreadsheet bundle does not export to tours).
 */
async function dataLoaded(model) {
    const getters = model.getters;
    await Promise.all([
        ...getters.getOdooChartIds().map((id) => getters.getChartDataSource(id).load()),
        ...getters
            .getPivotIds()
            .filter((id) => getters.getPivotCoreDefinition(id).type === "ODOO")
            .map((id) => getters.getPivot(id).load()),
        ...getters.getListIds().map((id) => getters.getListDataSource(id).load()),
    ]);
    const provider = model.config.custom.odooDataProvider;
    const loaded = () =>
        getters
            .getSheetIds()
            .every((sheetId) =>
                Object.values(getters.getEvaluatedCells(sheetId)).every(
                    (cell) => !(cell.type === "error" && cell.value === "Loading...")
                )
            );
    await new Promise((resolve) => {
        const check = () => {
            model.dispatch("EVALUATE_CELLS");
            if (loaded()) {
                provider.removeEventListener("data-source-updated", check);
                resolve();
            }
        };
        provider.addEventListener("data-source-updated", check);
        check();
    });
}

/**
 * The figures the dashboard shows: the customers (scorecard, Data!B2) and,
 * in the table "Customers and revenue by tier" (Dashboard!A7:E12), each
 * tier's customers and share of revenue.
 */
function dashboardFigures(model) {
    const getters = model.getters;
    const cell = (sheet, col, row) =>
        getters.getEvaluatedCell({ sheetId: getters.getSheetIdByName(sheet), col, row });
    const tiers = {};
    for (let row = 6; row < 12; row++) {
        const count = cell("Dashboard", 1, row).value;
        if (typeof count !== "number") {
            continue;
        }
        tiers[cell("Dashboard", 0, row).formattedValue] = {
            count,
            share: Math.round(cell("Dashboard", 4, row).value * 10000) / 10000,
        };
    }
    return { customers: cell("Data", 1, 1).value, tiers };
}

function sameFigures(shown, expected) {
    const names = Object.keys(expected.tiers);
    return (
        shown.customers === expected.customers &&
        Object.keys(shown.tiers).length === names.length &&
        names.every(
            (name) =>
                shown.tiers[name] &&
                shown.tiers[name].count === expected.tiers[name].count &&
                Math.abs(shown.tiers[name].share - expected.tiers[name].share) < 1e-4
        )
    );
}

registry.category("web_tour.tours").add("customer_tier_manager_review_tour", {
    url: "/odoo",
    steps: () => {
        const data = tourData();
        if (!data.why) {
            // (odoo.isTourReady reads the steps before the test sets the data)
            return [];
        }
        const why = data.why;
        const preview = data.preview;
        const dashboard = data.dashboard;
        const quotation = data.quotation;
        const explanation = '.o_notebook div[name="tier_explanation"]';
        const riskLines = '.modal div[name="risk_line_ids"]';
        const moveLines = '.modal div[name="line_ids"]';
        return [
            // 1. Why this tier, on the customer's Tier page.
            ...stepUtils.goToAppSteps("sale.sale_menu_root", "open Sales"),
            ...menuSteps("sale.sale_order_menu", "sale.res_partner_menu", "open the customers"),
            ...openRecordSteps(
                why.customer,
                `.o_form_view div[name="name"] input:value("${why.customer}")`
            ),
            {
                content: "open the Tier page",
                trigger: '.o_notebook_headers a.nav-link[name="customer_tier"]',
                run: "click",
            },
            {
                content: "the customer's tier: revenue in window met, figure and bound",
                trigger: `${explanation} li:has(.text-success):contains("${why.revenue}"):contains("${why.heldBound}")`,
            },
            {
                content: "the next tier up: revenue in window missed, figure and bound",
                trigger: `${explanation} li:has(.text-danger):contains("${why.revenue}"):contains("${why.upperBound}")`,
            },
            {
                content: "the customer's tier is explained",
                trigger: `${explanation} p strong:contains("${why.held}")`,
            },
            {
                content: "and the next tier up",
                trigger: `${explanation} p strong:contains("${why.upper}")`,
            },
            {
                content: "what it takes to reach the next tier",
                trigger: `${explanation} p:not(:has(strong)):contains("${why.upper}"):contains("${why.reach}")`,
            },
            ...shotSteps(data, "partner_tier", explanation),
            // 2. The program: switch the method to Pareto.
            ...menuSteps(
                "sale.menu_sale_config",
                "customer_tier.customer_tier_program_menu",
                "open the tier programs"
            ),
            {
                content: "open the program",
                trigger: ".o_list_view .o_data_row .o_data_cell",
                run: "click",
            },
            {
                content: "choose the Pareto method",
                trigger: '.o_form_view div[name="method"] input[data-value="pareto"]',
                run: "click",
            },
            {
                content: "the tiers show their Pareto bounds",
                trigger: '.o_form_view div[name="tier_ids"] th[data-name="pareto_max_share"]',
            },
            ...stepUtils.saveForm(),
            ...shotSteps(data, "program", '.o_form_view div[name="method"]', "start"),
            // 3. Preview the recompute of the switch.
            {
                content: "open the recompute from the program",
                trigger: '.o_form_view .o_form_statusbar button[name="action_open_recompute"]',
                run: "click",
            },
            {
                content: "preview it",
                trigger: '.modal button[name="action_preview"]',
                run: "click",
            },
            {
                content: "the customers who move up now",
                trigger: `.modal div[name="count_up"] span:contains(/^${preview.up}$/)`,
            },
            {
                content: "none moves down now",
                trigger: `.modal div[name="count_down"] span:contains(/^${preview.down}$/)`,
            },
            {
                content: "the customers who become at risk",
                trigger: `.modal div[name="count_at_risk"] span:contains(/^${preview.atRisk}$/)`,
            },
            ...preview.upCustomers.map((name) => ({
                content: `${name} moves up now`,
                trigger: `${moveLines} .o_data_row:contains("${name}") td[name="direction"] .text-bg-success`,
            })),
            ...preview.atRiskCustomers.map((name) => ({
                content: `${name} becomes at risk: lower tier and drop date`,
                trigger: `${riskLines} .o_data_row:contains("${name}"):has(td[name="pending_tier_id"]:contains("${preview.pendingTier[name]}")):has(td[name="drop_date"]:contains("${preview.dropDate}"))`,
            })),
            {
                content: "the moves and the customers at risk, and only them",
                trigger: riskLines,
                run() {
                    checkRowCount(moveLines, preview.upCustomers.length, "moves");
                    checkRowCount(riskLines, preview.atRisk, "customers at risk");
                },
            },
            ...shotSteps(data, "preview", riskLines),
            // 4. Apply: the notification, then the history of the run.
            {
                content: "apply the recompute",
                trigger: '.modal button[name="action_apply"]',
                run: "click",
            },
            {
                content: "the notification says what moved, as the preview did",
                trigger: `.o_notification .o_notification_content:contains("${data.notification}")`,
            },
            ...preview.upCustomers.map((name) => ({
                content: `the history of the run shows ${name}`,
                trigger: `.o_action_manager .o_list_view .o_data_row:contains("${name}")`,
            })),
            {
                content: "the history shows this run only",
                trigger: ".o_action_manager .o_list_view .o_data_row",
                run() {
                    checkRowCount(".o_action_manager .o_list_view", preview.upCustomers.length, "history");
                },
            },
            ...shotSteps(data, "history"),
            {
                content: "close the notification",
                trigger: ".o_notification .o_notification_close",
                run: "click",
            },
            // 5. The dashboard.
            ...stepUtils.goToAppSteps(
                "spreadsheet_dashboard.spreadsheet_dashboard_menu_root",
                "open Dashboards"
            ),
            {
                content: "open the Customer Tiers dashboard",
                trigger: `.o_spreadsheet_dashboard_search_panel li[data-name="${dashboard.name}"]`,
                run: "click",
            },
            {
                content: "the dashboard is open",
                trigger: `.o_spreadsheet_dashboard_search_panel li.active[data-name="${dashboard.name}"]`,
            },
            {
                content: "read the figures of the dashboard",
                trigger: ".o_spreadsheet_dashboard_action .o-spreadsheet .o-grid",
                timeout: 30000,
                async run() {
                    const model = dashboardModel();
                    await dataLoaded(model);
                    const shown = dashboardFigures(model);
                    if (!sameFigures(shown, dashboard)) {
                        throw new Error(
                            `the dashboard shows ${JSON.stringify(shown)}, expected ` +
                                JSON.stringify({
                                    customers: dashboard.customers,
                                    tiers: dashboard.tiers,
                                })
                        );
                    }
                    document.body.dataset.customerTierDashboard = "checked";
                },
            },
            {
                content: "the dashboard's figures are the expected ones",
                trigger: 'body[data-customer-tier-dashboard="checked"]',
            },
            ...shotSteps(data, "dashboard"),
            // 6. A quotation below the tier's minimum order.
            ...stepUtils.goToAppSteps("sale.sale_menu_root", "open Sales"),
            ...menuSteps("sale.sale_order_menu", "sale.menu_sale_quotations", "open the quotations"),
            ...openRecordSteps(
                quotation.customer,
                `.o_form_view div[name="partner_id"] input:value("${quotation.customer}")`
            ),
            {
                content: "the banner shows the customer's tier",
                trigger: `.o_form_view .alert div[name="customer_tier_id"]:contains("${quotation.tier}")`,
            },
            {
                content: "the tier's minimum order",
                trigger: `.o_form_view .alert div[name="tier_min_order_amount"]:contains("${quotation.minimum}")`,
            },
            {
                content: "and what the quotation lacks",
                trigger: `.o_form_view .alert div[name="tier_min_order_missing"]:contains("${quotation.missing}")`,
            },
            {
                content: "the small-order fee line is on the quotation",
                trigger: `.o_form_view div[name="order_line"] .o_data_row:contains("${quotation.fee}")`,
            },
            ...shotSteps(data, "quotation"),
        ];
    },
});
