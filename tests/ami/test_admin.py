"""Staff use the Django admin; weights are validated there too."""

import pytest

from tests.ami.factories import UserFactory, ready_call

pytestmark = pytest.mark.django_db


def test_admin_lists_calls_for_staff_only(client):
    call = ready_call(title="Appel administré")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert "Appel administré" in client.get("/admin/ami/call/").content.decode()
    assert "Appel administré" in client.get(f"/admin/ami/call/{call.pk}/change/").content.decode()
    client.force_login(UserFactory())
    assert client.get("/admin/ami/call/").status_code == 302
