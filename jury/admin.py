from django.contrib import admin

from jury.models import Decision, JuryMember, Review


@admin.register(JuryMember)
class JuryMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "call", "role", "pair_label"]
    list_filter = ["call", "role"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["proposal", "juror", "status"]
    list_filter = ["status"]


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ["proposal", "outcome", "track", "granted_amount_eur", "score", "rank"]
    list_filter = ["outcome", "track"]
