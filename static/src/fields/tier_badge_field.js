import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { BadgeField, badgeField } from "@web/views/fields/badge/badge_field";

/**
 * A tier as a badge in the tier's own colour: the colour index a manager picks
 * on the tier (the swatch of its form) read from the record's `color_field`
 * (a related integer field of the view), drawn with the classes of Odoo's
 * coloured tags, so a tier looks the same in every list, kanban and form.
 */
export class TierBadgeField extends BadgeField {
    static template = "customer_tier.TierBadgeField";
    static props = {
        ...BadgeField.props,
        colorField: { type: String, optional: true },
    };

    get colorIndex() {
        const { colorField, record } = this.props;
        return (colorField && record.data[colorField]) || 0;
    }
}

export const tierBadgeField = {
    ...badgeField,
    component: TierBadgeField,
    displayName: _t("Tier Badge"),
    supportedTypes: ["many2one"],
    extractProps: ({ options }) => ({ colorField: options.color_field }),
};

registry.category("fields").add("customer_tier_badge", tierBadgeField);
