"""Record the identities of the contacts that existed before identities did.

Each contact's e-mail address, phone number and WeChat openid (and, for a customer's primary
contact, the customer's own address and number) become identities in canonical form. The oldest
contact holding a value receives inbound contacts with it; later holders are recorded as not
routing, which the duplicate finder reports.
"""

from django.db import migrations

BATCH = 2000


def forwards(apps, schema_editor):
    from aftersales.customers.identity import normalize_email, normalize_openid, normalize_phone

    Contact = apps.get_model("customers", "Contact")
    ContactIdentity = apps.get_model("customers", "ContactIdentity")
    routing: set[tuple[str, str]] = set(
        ContactIdentity.objects.filter(is_routing=True).values_list("kind", "value")
    )
    existing: set[tuple[int, str, str]] = set(ContactIdentity.objects.values_list("contact_id", "kind", "value"))
    pending = []
    rows = Contact.objects.order_by("id").values_list(
        "id", "email", "phone", "wechat_openid", "is_primary", "customer__email", "customer__phone"
    )
    for contact_id, email, phone, openid, is_primary, customer_email, customer_phone in rows.iterator(
        chunk_size=BATCH
    ):
        candidates = [
            ("wechat_openid", normalize_openid(openid)),
            ("email", normalize_email(email)),
            ("phone", normalize_phone(phone)),
        ]
        if is_primary:
            candidates += [("email", normalize_email(customer_email)), ("phone", normalize_phone(customer_phone))]
        for kind, value in candidates:
            if not value or (contact_id, kind, value) in existing:
                continue
            existing.add((contact_id, kind, value))
            is_routing = (kind, value) not in routing
            routing.add((kind, value))
            pending.append(
                ContactIdentity(contact_id=contact_id, kind=kind, value=value, is_routing=is_routing)
            )
        if len(pending) >= BATCH:
            ContactIdentity.objects.bulk_create(pending)
            pending = []
    if pending:
        ContactIdentity.objects.bulk_create(pending)


def backwards(apps, schema_editor):
    apps.get_model("customers", "ContactIdentity").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_identities_and_merge")]

    operations = [migrations.RunPython(forwards, backwards)]
