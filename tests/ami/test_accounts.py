"""Sign-up with email verification, log in, password reset."""

import re

import pytest
from django.core import mail

from ami.models import User
from tests.ami.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "Une phrase de passe solide 2026"


def signup(client, **overrides):
    data = {
        "email": "Camille.Martin@Interieur.gouv.fr",
        "first_name": "Camille",
        "last_name": "Martin",
        "password1": STRONG,
        "password2": STRONG,
        **overrides,
    }
    return client.post("/compte/inscription/", data)


def test_signup_sends_a_verification_link_that_activates_the_account(client):
    response = signup(client)
    assert "Un lien d'activation a été envoyé à camille.martin@interieur.gouv.fr" in response.content.decode()
    user = User.objects.get()
    assert user.email == "camille.martin@interieur.gouv.fr"
    assert not user.is_active
    assert client.login(email=user.email, password=STRONG) is False
    link = re.search(r"http://testserver(/compte/verification/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert "Votre adresse est vérifiée" in response.content.decode()
    user.refresh_from_db()
    assert user.is_active and user.email_verified_at is not None
    assert client.get(link).status_code == 400  # a used link does not work twice


def test_signup_refuses_bad_input_and_saves_nothing(client):
    UserFactory(email="deja@interieur.gouv.fr")
    content = signup(client, email="DEJA@interieur.gouv.fr", password2="autre chose").content.decode()
    assert "Un compte existe déjà avec cette adresse" in content
    assert "Les deux mots de passe ne sont pas identiques" in content
    assert "Le formulaire contient des erreurs" in content
    weak = signup(client, email="nouveau@x.gouv.fr", password1="12345678", password2="12345678").content.decode()
    assert "fr-input-group--error" in weak
    assert User.objects.count() == 1


def test_login_and_logout(client):
    UserFactory(email="agent@x.gouv.fr")
    bad = client.post("/compte/connexion/", {"username": "agent@x.gouv.fr", "password": "faux"})
    assert "Adresse électronique ou mot de passe incorrect" in bad.content.decode()
    good = client.post(
        "/compte/connexion/", {"username": "AGENT@x.gouv.fr", "password": "correct horse battery staple"}, follow=True
    )
    assert "agent@x.gouv.fr" in good.content.decode()
    client.post("/compte/deconnexion/")
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client):
    UserFactory(email="agent@x.gouv.fr")
    client.post("/compte/mot-de-passe/", {"email": "agent@x.gouv.fr"})
    assert mail.outbox[0].subject == "Réinitialisation de votre mot de passe — portail AMI IA"
    link = re.search(r"http://testserver(/compte/mot-de-passe/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    new = "Encore une autre phrase 2026"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert client.login(email="agent@x.gouv.fr", password=new)
