"""E-mail in and out: IMAP mailboxes, raw MIME intake, quarantine, templated notifications over SMTP."""
