"""The report's charts as SVG (pygal), drawn from a snapshot only: score distribution per track, proposals by
administration type, budget use per envelope.

The SVG is deterministic: pygal's random chart id is replaced by a fixed one and its comments (which carry
today's date) are removed, so that the same snapshot always gives the same bytes. No JavaScript: pygal's
configuration script is removed too.
"""

import base64
import re
import sys
from dataclasses import dataclass

import pygal
from django.utils.translation import gettext as _
from pygal.style import Style

# pygal appends to sys.meta_path a legacy import hook (find_module only) for map plugins we do not use; left
# there, every later import that misses a module raises an ImportWarning (an error under the test settings).
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

BLUE, RED, GREY, GREEN = "#000091", "#e1000f", "#929292", "#18753c"
STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#161616", foreground_strong="#161616",
    foreground_subtle="#666666", colors=(BLUE, RED, GREEN, GREY, "#6a6af4", "#c9191e"),
    font_family="Marianne, Arial, sans-serif", label_font_size=13, major_label_font_size=13,
    title_font_size=16, legend_font_size=13, value_font_size=12, tooltip_font_size=12,
)
# pygal writes its comments (today's date among them) and a configuration <script> even without JavaScript.
STRIPPED = re.compile(r"<!--.*?-->|<script\b.*?</script>", re.DOTALL)
BINS = 10


@dataclass
class Chart:
    key: str
    title: str
    alt: str  # what the chart says, in words, for screen readers (the report's tables hold the figures)
    svg: str

    @property
    def data_uri(self):
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


def _config(**extra):
    config = dict(style=STYLE, js=[], disable_xml_declaration=True, width=760, height=380, print_values=False,
                  show_legend=False, explicit_size=True, truncate_label=-1)
    return {**config, **extra}


def _svg(chart, key):
    chart.uuid = key  # pygal draws a random id otherwise
    return STRIPPED.sub("", chart.render(is_unicode=True))


def _fr(value):
    return f"{value:,}".replace(",", "\u202f")


def score_distribution(snapshot):
    """Adjusted (or raw) scores of each track's ranked proposals, in bins of 10 points."""
    labels = [f"{n * 10}–{n * 10 + 10}" for n in range(BINS)]
    chart = pygal.Bar(**_config(show_legend=True, legend_at_bottom=True, x_title=_("Score pondéré (sur 100)"),
                                y_title=_("Projets")))
    chart.x_labels = labels
    parts = []
    for track in snapshot["ranking"]:
        counts = [0] * BINS
        for row in track["rows"]:
            if row["score"] is not None:
                counts[min(int(row["score"] // 10), BINS - 1)] += 1
        chart.add(track["track"], counts)
        parts.append(_("%(track)s : %(count)s projets classés") % {"track": track["track"], "count": sum(counts)})
    title = _("Répartition des scores par parcours")
    return Chart("scores", title, f"{title}. " + " ; ".join(parts) + ".", _svg(chart, "scores"))


def by_kind(snapshot):
    rows = snapshot["figures"]["by_kind"]
    chart = pygal.HorizontalBar(**_config(height=60 + 48 * max(len(rows), 1)))
    chart.x_labels = [row["label"] for row in rows]
    chart.add(_("Projets"), [row["count"] for row in rows])
    title = _("Projets reçus par type d'administration")
    alt = f"{title}. " + " ; ".join(f"{row['label']} : {row['count']}" for row in rows) + "."
    return Chart("kinds", title, alt, _svg(chart, "kinds"))


def budget_use(snapshot):
    tracks = snapshot["tracks"]
    chart = pygal.Bar(**_config(show_legend=True, legend_at_bottom=True, y_title=_("Euros"),
                                value_formatter=lambda v: f"{_fr(int(v))} €"))
    chart.x_labels = [t["name"] for t in tracks]
    chart.add(_("Enveloppe"), [t["budget"] for t in tracks])
    chart.add(_("Accordé aux lauréats"), [t["granted"] for t in tracks])
    title = _("Utilisation des enveloppes")
    alt = f"{title}. " + " ; ".join(
        _("%(track)s : %(granted)s € accordés sur %(budget)s €") % {
            "track": t["name"], "granted": _fr(t["granted"]), "budget": _fr(t["budget"])} for t in tracks) + "."
    return Chart("budget", title, alt, _svg(chart, "budget"))


def all_charts(snapshot):
    """The three charts of the report, in the order they appear."""
    return [by_kind(snapshot), score_distribution(snapshot), budget_use(snapshot)]
