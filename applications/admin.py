from django.contrib import admin

from applications.models import Administration, Membership, Proposal


@admin.register(Administration)
class AdministrationAdmin(admin.ModelAdmin):
    list_display = ["name", "acronym", "kind", "ministry", "approved"]
    list_filter = ["kind", "approved"]
    search_fields = ["name", "acronym", "ministry"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "administration", "status"]
    list_filter = ["status"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "administration", "call", "status"]
    list_filter = ["call", "status"]
    search_fields = ["reference", "title"]
    readonly_fields = ["status"]
