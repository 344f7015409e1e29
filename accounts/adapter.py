from allauth.account.adapter import DefaultAccountAdapter

from accounts import services


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            # Every new account starts with its own organisation, which it owns.
            services.organization_create(name=f"{user.email.split('@')[0]}'s team", owner=user)
        return user
