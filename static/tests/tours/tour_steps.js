/** @odoo-module **/
/*
 * Steps both tours of the module use (customer_tier_tour.js,
 * customer_tier_manager_review_tour.js): open a menu item by its XML id,
 * search the current view for a record by name and open it.
 */

/** Selector of a menu element by its XML id. */
function menu(xmlid) {
    return `[data-menu-xmlid="${xmlid}"]`;
}

/** Open a menu item of the current app: its dropdown, then the item. */
export function menuSteps(sectionXmlid, itemXmlid, content) {
    return [
        {
            content: `${content}: open the menu`,
            trigger: `.o_main_navbar button${menu(sectionXmlid)}`,
            run: "click",
        },
        {
            content,
            trigger: `.o-dropdown-item${menu(itemXmlid)}`,
            run: "click",
        },
    ];
}

/** Search the current view for ``name`` and open the record; ``opened``:
 * the trigger that tells the record is open. */
export function openRecordSteps(name, opened) {
    return [
        {
            content: `search ${name}`,
            trigger: ".o_control_panel .o_searchview_input",
            run: `edit ${name}`,
        },
        {
            content: "apply the search",
            trigger: ".o_control_panel .o_searchview_input",
            run: "press Enter",
        },
        {
            content: "wait for the search to apply",
            trigger: `.o_searchview_facet:contains("${name}")`,
        },
        {
            content: `open ${name}`,
            trigger: `.o_kanban_record:contains("${name}"), .o_data_row:contains("${name}") .o_data_cell`,
            run: "click",
        },
        {
            content: `${name} is open`,
            trigger: opened,
        },
    ];
}
