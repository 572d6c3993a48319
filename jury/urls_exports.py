from django.urls import path

from jury.views import exports

app_name = "exports"
urlpatterns = [
    path("appels/<slug:slug>/exports/", exports.exports_page, name="page"),
    path("appels/<slug:slug>/exports/demander/", exports.ask_export, name="ask"),
    path("appels/<slug:slug>/dossier-communication/", exports.records_pack, name="records"),
    path("exports/<int:pk>/etat/", exports.export_status, name="status"),
    path("exports/<int:pk>/telecharger/", exports.download_export, name="download"),
]
