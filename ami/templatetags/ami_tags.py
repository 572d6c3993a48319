from django import template
from django.utils.translation import get_language

register = template.Library()

NNBSP = "\u202f"  # narrow no-break space: the French thousands separator


@register.filter
def euros(value):
    """3500000 → "3 500 000 €" in French, "€3,500,000" in English."""
    if value is None or value == "":
        return "—"
    amount = int(value)
    if (get_language() or "fr").startswith("en"):
        return f"€{amount:,}"
    return f"{amount:,}".replace(",", NNBSP) + "\u00a0€"


@register.filter
def score(value):
    """A 0–100 score with two decimals and the locale's decimal mark."""
    if value is None or value == "":
        return "—"
    text = f"{float(value):.2f}"
    return text if (get_language() or "fr").startswith("en") else text.replace(".", ",")
