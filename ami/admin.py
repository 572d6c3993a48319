from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from ami.forms import CallAdminForm, CriterionInlineFormSet
from ami.models import Call, CallTransition, Criterion, Track, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name", "email_verified_at")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0


class CriterionInline(admin.StackedInline):
    model = Criterion
    formset = CriterionInlineFormSet
    extra = 0


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    form = CallAdminForm
    list_display = ["title", "slug", "status", "opens_at", "closes_at"]
    readonly_fields = ["status"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [TrackInline, CriterionInline]


@admin.register(CallTransition)
class CallTransitionAdmin(admin.ModelAdmin):
    list_display = ["call", "from_status", "to_status", "by", "at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
